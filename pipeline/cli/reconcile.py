"""`reconcile SOURCE`: remap one mapping table to the target release and summarise it."""

from __future__ import annotations

import click

from pipeline.cli.common import emit_json, progress, source_options

SHOWN = 20


@click.command("reconcile")
@click.argument("source_id", metavar="SOURCE")
@source_options
@click.option("--json", "as_json", is_flag=True, help="Print the whole reconciliation report as JSON.")
def command(ws, source_id: str, as_json: bool) -> None:
    """Reconcile one mapping source (an id of data/sources.toml, enabled or not)
    to the target ATT&CK release: unchanged, renamed, revoked (followed to the
    replacement), deprecated and unknown techniques, tactic changes, and names
    that disagree with the table's own release. Full reports come with `build`."""
    # lazy: pipeline.reconcile.controls would add 35 ms to every command's start-up (`--help` too)
    from pipeline.reconcile.controls import reconcile_source
    # lazy: pipeline.reconcile.mappings would add 28 ms to every command's start-up (`--help` too)
    from pipeline.reconcile.mappings import report

    source = ws.config.source(source_id, kind="mapping")
    with progress() as step:
        step(f"reconciling {source.id}")
        rt = reconcile_source(ws, source)
    ws.issues.extend(rt.all_issues)
    rep = report(rt)
    if as_json:
        emit_json(rep)
        return
    click.echo(summary(rep))


def _more(items: list, shown: list[str]) -> list[str]:
    if len(items) > SHOWN:
        shown.append(f"    … {len(items) - SHOWN} more (--json for all)")
    return shown


def summary(rep: dict) -> str:
    nc = rep["name_check"]
    out = [
        f"{rep['source']}: {rep['framework']} {rep['framework_version']} ({rep['domain']}){'' if rep['enabled'] else ' [not enabled]'}".replace("  ", " "),
        f"  file: {rep['file']}",
        f"  ATT&CK {rep['declared_attack_version']} → {rep['target_attack_version']}; names checked against {nc['release'] or '—'}",
    ]
    if nc["note"]:
        out.append(f"  note: {nc['note']}")
    out += [
        f"  rows read {rep['rows']}, mappings {rep['mappings']}, in coverage {rep['in_coverage']}",
        "",
        f"  {'status':<14}{'mappings':>9}",
    ]
    out += [f"  {status:<14}{n:>9}" for status, n in rep["status"].items()]
    sections = [
        ("revoked", rep["revoked"], lambda r: f"{r['technique']} {r['published_name']} → {r['target'] or 'dead end'} {r['target_name']}{' [deprecated]' if r['target_deprecated'] else ''} [{r['mappings']}]"),
        ("renamed", rep["renamed"], lambda r: f"{r['technique']} {r['old_name']} → {r['name']} [{r['mappings']}]"),
        ("deprecated", rep["deprecated"], lambda r: f"{r['technique']} {r['name']} [{r['mappings']}]"),
        ("unknown in target", rep["unknown"], lambda r: f"{r['technique']} {r['published_name']} ({len(r['rows'])} rows)"),
        ("tactic changes", rep["tactic_changes"], lambda r: f"{r['technique']}: {', '.join(r['declared_tactics'])} → {', '.join(r['target_tactics'])}"),
        (f"names disagreeing with ATT&CK {nc['release']}", rep["name_mismatches"], lambda r: f"{r['technique']} {r['published_name']!r}: {r['problem']} [{r['mappings']}]"),
    ]
    for title, items, line in sections:
        if not items:
            continue
        out += ["", f"{title}: {len(items)} technique(s) [mappings]"]
        out += _more(items, [f"    {line(r)}" for r in items[:SHOWN]])
    out += ["", f"issues: {len(rep['issues'])}"]
    return "\n".join(out)
