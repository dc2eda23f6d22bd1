"""`detections`: what the detection sources hold, and which of their ATT&CK ids are stale."""

from __future__ import annotations

from collections import Counter

import click

from pipeline.cli.common import emit_json, errors_as_exit, progress, source_options

MAX_LISTED = 60


@click.command("detections")
@source_options
@click.option(
    "--source",
    "names",
    multiple=True,
    metavar="S",
    help="Detection source by id or short name (sigma, elastic, splunk, cards, m365-hunting-queries, attack); "
    "repeatable (default: the enabled sources and ATT&CK's analytics).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--no-cache", is_flag=True, help="Parse every file again instead of reusing data/cache/parsed.")
def command(ws, names: tuple[str, ...], as_json: bool, no_cache: bool) -> None:
    """Count detections per source, language, status and folder, and list the
    technique ids and tactics that are unknown, revoked or deprecated in the target
    release."""
    # lazy: pipeline.ingest.detections.load would add 0.15 s (multiprocessing) to every command's start-up (`--help` too)
    from pipeline.ingest.detections.load import load_detections, select_sources

    with errors_as_exit():
        chosen, _attack = select_sources(ws.config, names)
        with progress(len(chosen) + len(ws.domains) + 1) as step:
            found = load_detections(ws, names or None, cache_dir=not no_cache, progress=step)
    ws.issues.extend(found.issues)
    data = summary(found, ws.attack_version)
    if as_json:
        emit_json(data)
        return
    click.echo(_text(data, found))


def _count(values) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def summary(found, attack_version: str) -> dict:
    """Deterministic counts (no timings) for JSON output and reports."""
    by_source: dict[str, list] = {}
    for d in found.detections:
        by_source.setdefault(d.source, []).append(d)
    files = {load.info.name: load for load in found.loads}
    sources = {}
    for name in sorted(by_source.keys() | files.keys()):
        items = by_source.get(name, [])
        load = files.get(name)
        sources[name] = {
            "source_id": load.info.source_id if load else name,
            "format": load.info.format if load else (items[0].format if items else ""),
            "files": load.files if load else 0,
            "files_without_detection": load.empty if load else 0,
            "detections": len(items),
            "with_techniques": sum(1 for d in items if d.techniques),
            "with_live_techniques": sum(1 for d in items if any(t.status in ("live", "revoked") for t in d.techniques)),
            "with_tactics_only": sum(1 for d in items if not d.techniques and d.tactics),
            "queries": sum(len(d.queries) for d in items),
            "languages": _count(lang for d in items for lang in d.languages),
            "status": _count(d.status or "-" for d in items),
            "collections": _count(d.collection or "-" for d in items),
            "flags": _count(f for d in items for f in d.flags),
            "warnings": sum(1 for i in (load.issues if load else ())),
        }
    stale = found.reconciled.stale
    techniques: dict[str, dict] = {}
    for status in ("revoked", "deprecated", "dead_end", "unknown"):
        merged: dict[str, dict] = {}
        for source, by_status in sorted(stale.items()):
            for attack_id, ids in by_status.get(status, {}).items():
                entry = merged.setdefault(attack_id, {"detections": 0, "sources": {}})
                if status == "revoked":
                    entry["target"] = found.reconciled.targets.get(attack_id, "")
                entry["detections"] += len(ids)
                entry["sources"][source] = len(ids)
        techniques[status] = dict(sorted(merged.items()))
    return {
        "attack_version": attack_version,
        "total": {
            "detections": len(found.detections),
            "files": sum(load.files for load in found.loads),
            "with_techniques": sum(1 for d in found.detections if d.techniques),
        },
        "sources": sources,
        "stale_techniques": techniques,
        "unknown_tactics": {s: c for s, c in sorted(found.reconciled.unknown_tactics.items())},
    }


def _text(data: dict, found) -> str:
    lines = [f"detections for ATT&CK {data['attack_version']}: {data['total']['detections']} "
             f"({data['total']['with_techniques']} naming a technique) from {data['total']['files']} files", ""]
    lines.append(f"{'source':<22} {'files':>6} {'detections':>10} {'technique':>9} {'queries':>8}  languages")
    for name, s in data["sources"].items():
        langs = ", ".join(f"{k} {v}" for k, v in s["languages"].items())
        lines.append(f"{name:<22} {s['files']:>6} {s['detections']:>10} {s['with_techniques']:>9} {s['queries']:>8}  {langs}")
    lines.append("")
    for name, s in data["sources"].items():
        status = ", ".join(f"{k} {v}" for k, v in s["status"].items())
        flags = ", ".join(f"{k} {v}" for k, v in s["flags"].items()) or "none"
        lines.append(f"{name}: status {status}; flagged {flags}")
    cached = sum(load.cached for load in found.loads)
    parsed = sum(load.parsed for load in found.loads)
    lines += ["", f"files parsed: {parsed}, taken from the cache: {cached}"]
    for status, label in (("revoked", "revoked ids (mapped to their replacement)"), ("deprecated", "deprecated ids (kept, flagged)"),
                          ("dead_end", "revoked ids without replacement"), ("unknown", "ids not in the release")):
        items = data["stale_techniques"][status]
        if not items:
            continue
        lines.append("")
        lines.append(f"{label} ({len(items)}):")
        for attack_id, e in list(items.items())[:MAX_LISTED]:
            where = ", ".join(f"{k} {v}" for k, v in e["sources"].items())
            arrow = f" -> {e['target']}" if e.get("target") else ""
            lines.append(f"  {attack_id}{arrow}: {where}")
        if len(items) > MAX_LISTED:
            lines.append(f"  … and {len(items) - MAX_LISTED} more (--json lists all)")
    if data["unknown_tactics"]:
        lines += ["", "tactics not in the release (kept as published):"]
        for source, counts in data["unknown_tactics"].items():
            lines.append(f"  {source}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(lines)


def detection_lines(items: list[dict]) -> list[str]:
    """The `show` section: detections grouped by source, with language and flags."""
    by_source = Counter(i["source"] for i in items)
    out = [f"detections ({len(items)}): " + ", ".join(f"{s} {n}" for s, n in sorted(by_source.items()))]
    width = max(len(i["source"]) for i in items)
    lang_width = max(len("/".join(i["languages"])) for i in items)
    for i in items:
        flags = f" [{', '.join(i['flags'])}]" if i["flags"] else ""
        via = f" (via {i['published_id']}, {i['published_status']})" if i.get("published_id") else ""
        status = f" {i['status']}" if i["status"] else ""
        queries = f" ×{i['queries']}" if i["queries"] > 1 else ""
        languages = "/".join(i["languages"])
        out.append(f"  {i['source']:<{width}}  {languages:<{lang_width}}  {i['title']}{queries}{status and ' —'}{status}{flags}{via}")
    return out
