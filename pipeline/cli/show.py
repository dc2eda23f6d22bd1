"""`show ID_OR_NAME`: everything the graph knows about one technique, control, group,
software, campaign, mitigation or detection — by id or by name, with "did you mean"."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from pipeline.cli.common import CliError, answer_options, detail, emit_json, progress, report_build_issues, source_options
from pipeline.convert.targets import TARGETS as QUERY_LANGUAGES
from pipeline.cli.detections import detection_lines
from pipeline.convert.packs import pack_text, technique_queries


@click.command("show")
@click.argument("technique_id", metavar="ID_OR_NAME")
@source_options
@click.option(
    "--attack-only",
    is_flag=True,
    help="Load ATT&CK only: no mapping tables and no detection corpora (fast, for ATT&CK questions).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the view and its edges as JSON.")
@answer_options
@click.option(
    "--query",
    "query_language",
    type=click.Choice(list(QUERY_LANGUAGES)),
    help="Print the technique's runnable queries in this language: the corpora's own, then every Sigma rule converted by pySigma.",
)
def command(
    ws, technique_id: str, attack_only: bool, as_json: bool, out: Path, from_sources: bool, query_language: str | None
) -> None:
    """Show one technique (T1046, T1003.001, or its name): tactics, sub-techniques,
    mitigations, ATT&CK detection strategies, who uses it, mapped controls and
    detections. A group, software, campaign, mitigation, control (AC-4) or detection
    (sigma:<id>, or its title) shows the techniques it touches; a detection its queries.
    A revoked id shows the technique it was revoked for; a near miss lists close matches.

    Answers come from the last build (--out) when it matches, else from the sources."""
    if query_language and attack_only:
        raise click.BadParameter("needs the detection corpora; leave out --attack-only", param_hint="--query")
    ws.attack_only = attack_only
    if query_language:
        click.echo(_query_pack(ws, technique_id, query_language), nl=False)
        return
    found = _answer(ws, technique_id, out, use_build=not (attack_only or from_sources))
    if as_json:
        emit_json(found)
        return
    if found.get("kind") not in (None, "technique") and "technique" not in found and "query_redirect" not in found:
        # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
        from pipeline.build.answers import text_of

        click.echo(text_of(found))
        return
    if "technique" not in found:
        r = found["query_redirect"]
        raise CliError(f"technique {r['revoked']} is revoked and leads nowhere: {r['reason']}")
    click.echo(_text(found))


def _answer(ws, text: str, out: Path, *, use_build: bool) -> dict:
    """The view of what `text` names, from the build's answers or from the graph."""
    # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
    from pipeline.build import answers_of_build
    from pipeline.build import answers  # lazy: as above

    if not text.strip():
        raise click.BadParameter("give an id or a name", param_hint="ID_OR_NAME")
    wanted = answers.normalise_technique_id(text) or text.strip()
    store = answers_of_build(ws, out) if use_build else None
    if store is not None:
        detail(f"answering from the build in {out}")
        try:
            report_build_issues(ws, int(store.meta.get("warnings", 0)), out)
            match = _one(ws, text, answers.order(store.by_id_or_name(wanted)), store.all_names)
            view = store.view(match.key)
            if match.kind == "revoked":
                target = f"technique:{view['target']}" if view.get("target") else None
                redirect = {k: view[k] for k in ("revoked", "status", "chain", "reason")}
                found = store.view(target) if target else None
                return (found or {}) | {"query_redirect": redirect}
            return view
        finally:
            store.close()
    if use_build:
        detail(f"no build in {out} made from these sources: reading them (attack-pipeline build makes answers instant)")
    with progress(len(ws.domains) + 1) as step:
        g = ws.graph(step)
    match = _one(ws, text, answers.order(answers.graph_matches(g, wanted)), lambda: answers.graph_names(g))
    if match.kind in ("technique", "revoked"):
        # lazy: pipeline.graph.query would add 0.24 s (networkx) to every command's start-up (`--help` too)
        from pipeline.graph import query
        # lazy: pipeline.graph.views would add 0.27 s (networkx) to every command's start-up (`--help` too)
        from pipeline.graph.views import technique_view

        return technique_view(g, query.technique(g, match.id))
    return answers.node_view(g, match.key)


def _query_pack(ws, text: str, language: str) -> str:
    """The technique's query pack in `language` (the text of queries/<language>/<id>),
    found by id or name like any `show`; converting needs the graph, not the answers."""
    # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
    from pipeline.build import answers
    # lazy: pipeline.graph.query would add 0.24 s (networkx) to every command's start-up (`--help` too)
    from pipeline.graph import query

    with progress(len(ws.domains) + 1) as step:
        g = ws.graph(step)
    wanted = answers.normalise_technique_id(text) or text.strip()
    match = _one(ws, text, answers.order(answers.graph_matches(g, wanted)), lambda: answers.graph_names(g))
    found = query.technique(g, match.id) if match.kind in ("technique", "revoked") else None
    if found is None or found.key not in g:
        raise CliError(f"{match.line()} is not a technique: --query prints a technique's queries")
    return _queries(ws, g, found.key, language)


def _queries(ws, g, key: str, language: str) -> str:
    """The technique's query pack in `language` (the text of queries/<language>/<id>)."""
    # lazy: pipeline.convert.gather would add 62 ms (multiprocessing) to every command's start-up (`--help` too)
    from pipeline.convert.gather import gather

    found = gather(ws, g, languages=(language,))
    items = [e for e in technique_queries(g, language).get(key, []) if not e["flags"]]
    n = g.nodes[key]
    converter = found.converters.get(language, "") if found else ""
    return pack_text(language, n["id"], n["name"], items, ws.attack_version, converter)


ATTACK_KINDS = ("technique", "revoked", "tactic", "group", "software", "campaign", "mitigation")


def _one(ws, text: str, matches: list, names):
    """Exactly one match, else an error that lists the candidates or the close matches."""
    # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
    from pipeline.build import answers

    if len(matches) == 1:
        return matches[0]
    if matches:
        same_kind = [m for m in matches if m.kind == matches[0].kind and m.id.lower() == text.strip().lower()]
        if len(same_kind) == 1:
            return same_kind[0]
        # A name ATT&CK gives one object (a technique) and a detection borrows as its title:
        # the ATT&CK object, the others named in a note.
        attack = [m for m in matches if m.kind in ATTACK_KINDS]
        if len(attack) == 1:
            detail("also named so: " + "; ".join(m.line() for m in matches if m is not attack[0]))
            return attack[0]
        listed = "; ".join(m.line() for m in matches[:8])
        raise CliError(f"{text!r} names {len(matches)} things: {listed}; give one of these ids")
    close = answers.did_you_mean(text, names())
    did = f"; did you mean {', '.join(m.line() for m in close)}?" if close else ""
    where = f"ATT&CK {ws.attack_version} ({', '.join(ws.domains)})"
    if ws.attack_only and not close:
        where += " (--attack-only: no controls or detections)"
    tid = answers.normalise_technique_id(text)
    if tid is not None:
        raise CliError(f"technique {tid} is not in {where}{did}")
    raise CliError(f"nothing named {text.strip()!r} in {where}{did}")


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
        out.extend(detection_lines(view["detections"]))
        out.append("  (attack-pipeline show <detection id or title> prints its queries; --json lists the ids)")
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
