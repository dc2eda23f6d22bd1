"""`show ID`: everything the graph knows about one technique."""

from __future__ import annotations

import textwrap

import click

from pipeline.cli.common import CliError, emit_json, progress, source_options
from pipeline.convert.targets import TARGETS as QUERY_LANGUAGES


@click.command("show")
@click.argument("technique_id")
@source_options
@click.option(
    "--attack-only",
    is_flag=True,
    help="Load ATT&CK only: no mapping tables and no detection corpora (fast, for ATT&CK questions).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the technique and its edges as JSON.")
@click.option(
    "--query",
    "query_language",
    type=click.Choice(list(QUERY_LANGUAGES)),
    help="Print the technique's runnable queries in this language: the corpora's own, then every Sigma rule converted by pySigma.",
)
def command(ws, technique_id: str, attack_only: bool, as_json: bool, query_language: str | None) -> None:
    """Show one technique (T1046, T1003.001): tactics, sub-techniques,
    mitigations, ATT&CK detection strategies and who uses it. A revoked id shows
    the technique it was revoked for."""
    if query_language and attack_only:
        raise click.BadParameter("needs the detection corpora; leave out --attack-only", param_hint="--query")
    ws.attack_only = attack_only
    from pipeline.graph import query
    from pipeline.graph.views import technique_view

    if query.normalise_technique_id(technique_id) is None:
        raise click.BadParameter(f"{technique_id!r} is not a technique id (T1234 or T1234.001)", param_hint="TECHNIQUE_ID")
    with progress(len(ws.domains) + 1) as step:
        g = ws.graph(step)
    found = query.technique(g, technique_id)
    if found is None:
        raise CliError(f"technique {technique_id} is not in ATT&CK {ws.attack_version} ({', '.join(ws.domains)})")
    if query_language:
        click.echo(_queries(ws, g, found.key, query_language), nl=False)
        return
    view = technique_view(g, found)
    if as_json:
        emit_json(view)
        return
    if "technique" not in view:
        r = view["query_redirect"]
        raise CliError(f"technique {r['revoked']} is revoked and leads nowhere: {r['reason']}")
    click.echo(_text(view))


def _queries(ws, g, key: str, language: str) -> str:
    """The technique's query pack in `language` (the text of queries/<language>/<id>)."""
    from pipeline.convert.gather import gather
    from pipeline.convert.packs import pack_text, technique_queries

    found = gather(ws, g, languages=(language,))
    items = [e for e in technique_queries(g, language).get(key, []) if not e["flags"]]
    n = g.nodes[key]
    converter = found.converters.get(language, "") if found else ""
    return pack_text(language, n["id"], n["name"], items, ws.attack_version, converter)


def _names(items: list[dict]) -> str:
    return ", ".join(f"{i['id']} {i['name']}" for i in items) or "—"


def _text(view: dict) -> str:
    t = view["technique"]
    out = []
    r = view["query_redirect"]
    if r:
        out.append(f"({r['revoked']} is revoked; {' → '.join(r['chain'])}: showing {t['attack_id']})")
    flags = " [deprecated]" if t["deprecated"] else ""
    out.append(f"{t['attack_id']} {t['name']}{flags}")
    out.append(f"  {t['url']}")
    out.append(f"  domains: {', '.join(view['domains'])}   version: {t['version']}   modified: {t['modified']}")
    out.append(f"  tactics: {_names(view['tactics'])}")
    out.append(f"  platforms: {', '.join(t['platforms']) or '—'}")
    if view["parent"]:
        out.append(f"  sub-technique of: {_names([view['parent']])}")
    if view["subtechniques"]:
        out.append(f"  sub-techniques: {_names(view['subtechniques'])}")
    out.append("")
    first = t["description"].split("\n\n")[0]
    out.extend(textwrap.wrap(first, 100, initial_indent="  ", subsequent_indent="  "))
    out.append("")
    out.append(f"mitigations ({len(view['mitigations'])}):")
    out.extend(f"  {m['id']} {m['name']}" for m in view["mitigations"])
    if view["detection_strategies"]:
        out.append(f"detection strategies ({len(view['detection_strategies'])}):")
        for s in view["detection_strategies"]:
            out.append(f"  {s['id']} {s['name']}")
            for a in s["analytics"]:
                sources = ", ".join(sorted({ls["name"] for ls in a["log_sources"]}))
                out.append(f"    {a['id']} [{', '.join(a['platforms'])}] {sources}")
    if view["data_components"]:
        out.append(f"data components ({len(view['data_components'])}):")
        out.extend(f"  {c['id']} {c['name']}" for c in view["data_components"])
    for kind, items in view["used_by"].items():
        if items:
            out.append(f"used by {kind} ({len(items)}): {_names(items[:12])}{' …' if len(items) > 12 else ''}")
    if view["targets"]:
        out.append(f"targets: {_names(view['targets'])}")
    out.extend(_controls_text(view.get("controls", {})))
    if view.get("detections"):
        from pipeline.cli.detections import detection_lines

        out.extend(detection_lines(view["detections"]))
    return "\n".join(out)


def _controls_text(controls: dict[str, list[dict]]) -> list[str]:
    """Mapped controls and capabilities, one block per framework, comments shortened."""
    total = sum(len(v) for v in controls.values())
    if not total:
        return []
    out = [f"controls and capabilities ({total}):"]
    for framework, entries in controls.items():
        versions = ", ".join(dict.fromkeys(e["framework_version"] for e in entries if e["framework_version"]))
        out.append(f"  {framework}{f' {versions}' if versions else ''} ({len(entries)}):")
        for e in entries:
            score = f"({e['score_value']})" if e["score_value"] else ""
            flags = "" if e["in_coverage"] else f" [{e['status']}, not in coverage]"
            moved = f" (published for {e['original']['id']}, revoked)" if e["status"] == "revoked" else ""
            out.append(f"    {e['id']} {e['name']} — {e['relation']}{f' {score}' if score else ''}{flags}{moved}")
            if e["comments"]:
                comment = e["comments"] if len(e["comments"]) <= 300 else e["comments"][:299] + "…"
                out.extend(textwrap.wrap(comment, 100, initial_indent="      ", subsequent_indent="      "))
    return out
