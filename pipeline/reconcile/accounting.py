"""Where every row of every source went: into the graph, or out of it with a reason.

A user comparing the graph with a published table must be able to account for each
row: the books of a mapping source balance when

    rows read + extra pairs from pattern rows = mappings + rows dropped at read (by reason)
    mappings = mappings in the graph + mappings kept out of it (by reason)

and those of a detection corpus when every file listed gave detections or is counted
with the reason it gave none, and every detection is one node of the graph. The
numbers come from the records and from the graph itself, not from one another, so an
entry lost between reading and the graph shows as books that do not balance.
"""

from __future__ import annotations

import os
from collections import Counter

# `add_controls` count keys → reasons of the accounting.
_GRAPH_REASONS = {
    "not_in_graph:non_mappable": "non-mappable",
    "not_in_graph:unknown": "unknown-technique",
    "not_in_graph:revoked": "revoked-without-successor",
    "not_in_graph:deprecated": "deprecated-technique",
    "not_in_graph:unchanged": "no-subject",
    "not_in_graph:renamed": "no-subject",
    "technique_not_loaded": "technique-domain-not-loaded",
}


def mapping_books(rt, g) -> dict:
    """The books of one reconciled mapping source against graph `g` (enabled or not)."""
    t = rt.table
    dropped = dict(t.dropped)
    mappings = len(rt.remapped)
    summary = (g.graph.get("control_sources") or {}).get(t.source_id) if rt.enabled else None
    out: Counter[str] = Counter()
    in_graph = 0
    if summary is None:
        if mappings:
            out["source-disabled" if not rt.enabled else "source-not-loaded"] = mappings
    else:
        for key, n in summary["counts"].items():
            if key == "edges":
                in_graph = n
            else:
                out[_GRAPH_REASONS.get(key, key)] += n
    out_of_coverage = 0
    if summary is not None:
        out_of_coverage = sum(
            1 for r in rt.remapped
            if r.mapping.subject_id is not None and r.technique_id is not None and not r.in_coverage
            and f"technique:{r.technique_id}" in g
        )
    records = t.rows + t.expanded
    return {
        "source": t.source_id,
        "kind": "mapping",
        "enabled": rt.enabled,
        "rows_read": t.rows,
        "expanded": t.expanded,
        "dropped_at_read": dropped,
        "mappings": mappings,
        "in_graph": in_graph,
        "in_graph_out_of_coverage": out_of_coverage,
        "not_in_graph": dict(sorted(out.items())),
        "balanced": records == mappings + sum(dropped.values()) and mappings == in_graph + sum(out.values()),
    }


def _detection_nodes(g) -> dict[str, Counter]:
    """Per detection source: nodes, and how each is linked (technique, tactics only, nothing)."""
    found: dict[str, Counter] = {}
    for key, data in g.nodes(data=True):
        if data.get("kind") != "detection":
            continue
        c = found.setdefault(data.get("source", ""), Counter())
        c["nodes"] += 1
        targets = {v.split(":", 1)[0] for _u, v, d in g.out_edges(key, data=True) if d.get("relation") == "detects"}
        c["technique" if "technique" in targets else "tactic_only" if "tactic" in targets else "unlinked"] += 1
    return found


def _files_under(root: str) -> int:
    return sum(len(files) for _dir, _dirs, files in os.walk(root))


def detection_books(loads, g) -> list[dict]:
    """The books of each detection corpus: files → detections → graph nodes."""
    nodes = _detection_nodes(g)
    out = []
    for load in loads:
        without = dict(load.no_records)
        with_detections = len({d.path for d in load.detections})
        in_folder = _files_under(load.root)
        c = nodes.get(load.info.name, Counter())
        out.append(
            {
                "source": load.info.source_id,
                "kind": "detection",
                "files_in_folder": in_folder,
                "not_rule_files": in_folder - load.files,
                "files_read": load.files,
                "files_with_detections": with_detections,
                "files_without_detections": without,
                "detections": len(load.detections),
                "duplicate_ids_renamed": sum(1 for i in load.issues if i.code == "detection-duplicate-id"),
                "in_graph": c["nodes"],
                "linked": {"technique": c["technique"], "tactic_only": c["tactic_only"], "unlinked": c["unlinked"]},
                "balanced": load.files == with_detections + sum(without.values()) and len(load.detections) == c["nodes"],
            }
        )
    return out


def query_books(g) -> list[dict]:
    """Per query language: every Sigma rule of the graph converted, or not with the
    backend's reason. Rules are counted from the graph's nodes, results from what each
    node carries, so a rule the conversion step missed shows as books that do not balance."""
    info = g.graph.get("query_conversions")
    if not info:
        return []
    rules = [n for _k, n in g.nodes(data=True) if n.get("kind") == "detection" and n["record"].format == "sigma-yaml" and n["record"].queries]
    out = []
    for language in info["languages"]:
        converted = 0
        reasons: Counter[str] = Counter()
        for n in rules:
            c = next((c for c in n.get("conversions", ()) if c.language == language), None)
            if c is None:
                reasons["not converted: no result"] += 1
            elif c.ok:
                converted += 1
            else:
                reasons[c.reason] += 1
        out.append(
            {
                "language": language,
                "converter": info["counts"][language]["converter"],
                "sigma_rules": len(rules),
                "converted": converted,
                "not_converted": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
                "balanced": len(rules) == converted + sum(reasons.values()) and "not converted: no result" not in reasons,
            }
        )
    return out


def markdown(books: dict) -> str:
    """The books as one Markdown page: a row per source."""
    lines = [
        "# Where every row went",
        "",
        "Mapping sources: rows read (+ pairs from pattern rows) = mappings + rows dropped at read;",
        "mappings = in the graph + kept out of it. Detection corpora: files read = files with",
        "detections + files without (by reason); detections = graph nodes.",
        "",
        "| Source | Rows read | + pattern pairs | Dropped at read | Mappings | In graph (out of coverage) | Not in graph | Balanced |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b in books["mappings"]:
        lines.append(
            f"| {b['source']} | {b['rows_read']} | {b['expanded']} | {reasons(b['dropped_at_read'])} | {b['mappings']} | "
            f"{b['in_graph']} ({b['in_graph_out_of_coverage']}) | {reasons(b['not_in_graph'])} | {'yes' if b['balanced'] else '**no**'} |"
        )
    lines += [
        "",
        "| Source | Files in folder | Rule files read | With detections | Without (reason) | Detections | Graph nodes | Balanced |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for b in books["detections"]:
        lines.append(
            f"| {b['source']} | {b['files_in_folder']} | {b['files_read']} | {b['files_with_detections']} | "
            f"{reasons(b['files_without_detections'])} | {b['detections']} | {b['in_graph']} | {'yes' if b['balanced'] else '**no**'} |"
        )
    if books.get("queries"):
        lines += [
            "",
            "Sigma rules converted by pySigma, per query language: rules = converted + not converted (by the backend's reason).",
            "",
            "| Language | Converter | Sigma rules | Converted | Not converted (reason) | Balanced |",
            "|---|---|---|---|---|---|",
        ]
        for b in books["queries"]:
            why = reasons(b["not_converted"]).replace("|", "\\|")
            lines.append(
                f"| {b['language']} | {b['converter']} | {b['sigma_rules']} | {b['converted']} | {why} | {'yes' if b['balanced'] else '**no**'} |"
            )
    return "\n".join(lines) + "\n"


def reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "—"
