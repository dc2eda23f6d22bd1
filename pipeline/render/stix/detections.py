"""One bundle per detection source: each rule or hunting query as an `indicator`, with
an `indicates` relationship to every technique it names.

Why `indicator` and not ATT&CK's `x-mitre-analytic`: an indicator is standard STIX
that every platform imports, it holds the query itself (`pattern`, `pattern_type`
`sigma`/`kql`/`spl`/`eql`/…, an open vocabulary) and its tactics (`kill_chain_phases`),
and `indicator indicates attack-pattern` is a relationship STIX defines. ATT&CK's
analytics carry no query and stay in ATT&CK's own bundles.

The first query is the pattern; a rule with several queries, or whose query is
labelled or has no text (an Elastic machine-learning job: the job id is the pattern),
lists them all in `x_queries`. Tactics the release knows become kill-chain phases; a
rule that names tactics only has no relationship. Relationships to techniques that
are deprecated in the target release are left out and counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from urllib.parse import quote

from pipeline.model.detections import source_name
from pipeline.model.detections import Detection
from pipeline.render.stix.bundle import Bundle, extension_definition, licence_statement
from pipeline.render.stix.ids import fallback_timestamp, stix_id
from pipeline.render.naming import part, unique
from pipeline.render.stix.rendered import Rendered, compact, technique_stamp
from pipeline.render.stix.vocabulary import DETECTION_PROPERTIES, INDICATES, PATTERN_TYPES
from pipeline.convert.targets import TARGETS

KILL_CHAINS = {"enterprise": "mitre-attack", "mobile": "mitre-mobile-attack", "ics": "mitre-ics-attack"}


def _rule_url(config, source, path: str) -> str | None:
    """The rule's file in its repository at the pinned commit, where the source has one."""
    repo = config.repositories.get(source.repository) if source and source.repository else None
    if repo is None or not path:
        return None
    inside = source.mirror_path[len(repo.mirror):].strip("/") if source.mirror_path.startswith(repo.mirror) else ""
    parts = "/".join(p for p in (repo.root, inside, path) if p)
    return f"https://github.com/{repo.github}/blob/{repo.commit}/{quote(parts)}"


def _queries(d: Detection) -> tuple[str, str, list[dict]]:
    """(pattern, pattern_type, x_queries); the pattern is empty for a rule with no query."""
    if not d.queries:
        return "", "", []
    first = d.queries[0]
    pattern = first.text if first.text.strip() else first.label
    listed = [] if len(d.queries) == 1 and not first.label and first.text.strip() else [
        {"language": q.language, "text": q.text, "label": q.label} for q in d.queries
    ]
    return pattern, PATTERN_TYPES.get(first.language, first.language), listed


def _phases(g, d: Detection) -> list[dict]:
    out: list[dict] = []
    for t in d.tactics:
        node = g.nodes.get(f"tactic:{t.attack_id}") if t.attack_id else None
        if node is None or not node.get("domains"):
            continue
        phase = {"kill_chain_name": KILL_CHAINS.get(node["domains"][0], "mitre-attack"), "phase_name": node["record"].shortname}
        if phase not in out:
            out.append(phase)
    return out


def _converted(g, key: str) -> list[dict]:
    """A Sigma rule's conversions (made before rendering, on its node) as additional
    patterns, each with its STIX pattern type; a failed one keeps the backend's reason."""
    counts = (g.graph.get("query_conversions") or {}).get("counts", {})
    out = []
    for c in g.nodes[key].get("conversions", ()):
        t = TARGETS[c.language]
        who = counts.get(c.language, {}).get("converter", "")
        if c.ok:
            for q in c.queries:
                out.append({"pattern": q, "pattern_type": t.pattern_type, "language": t.name, "converter": who})
        else:
            out.append({"language": t.name, "converter": who, "reason": c.reason})
    return out


def _indicator(key: str, d: Detection, pattern: str, pattern_type: str, queries: list[dict], phases: list[dict], url: str | None, stamp: str, converted: list[dict] = ()) -> dict:
    ref = {"source_name": d.source, "external_id": d.native_id}
    if url:
        ref["url"] = url
    return compact(
        {
            "type": "indicator",
            "id": stix_id("indicator", key),
            "created": stamp,
            "modified": stamp,
            "name": d.title or d.id,
            "description": d.description,
            "pattern": pattern,
            "pattern_type": pattern_type,
            "valid_from": stamp,
            "kill_chain_phases": phases,
            "external_references": [ref],
            "x_detection_id": d.id,
            "x_source": d.source,
            "x_native_id": d.native_id,
            "x_format": d.format,
            "x_queries": queries,
            "x_converted_patterns": list(converted),
            "x_techniques": [{"attack_id": t.attack_id, "how": t.how, "target": t.target, "status": t.status} for t in d.techniques],
            "x_tactics": [{"shortname": t.shortname, "how": t.how, "attack_id": t.attack_id, "note": t.note} for t in d.tactics],
            "x_attack_objects": list(d.attack_objects),
            "x_tags": list(d.tags),
            "x_authors": list(d.authors),
            "x_references": list(d.references),
            "x_status": d.status,
            "x_severity": d.severity,
            "x_data_sources": list(d.data_sources),
            "x_path": d.path,
            "x_collection": d.collection,
            "x_license": d.license,
            "x_flags": list(d.flags),
        }
    )


def _technique_edges(g, key: str) -> list[tuple[str, dict]]:
    """`detects` edges of a detection to techniques, by target (adjacency dicts directly:
    networkx's edge views cost more than the rest of the bundle)."""
    out = []
    for v, keyed in g.succ[key].items():
        if not v.startswith("technique:"):
            continue
        for data in keyed.values():
            if data.get("relation") == "detects":
                out.append((v, data))
    return sorted(out, key=lambda e: e[0])


def detection_bundles(ctx, skip=None) -> list[Rendered]:
    """One bundle per detection source; `skip(source name)` true leaves one out."""
    g = ctx.graph
    config = ctx.config
    sources = {source_name(s): s for s in config.sources if s.kind == "detection"}
    by_source: dict[str, list[str]] = defaultdict(list)
    for n, node in g.nodes(data=True):
        if node.get("kind") == "detection":
            by_source[node["source"]].append(n)
    ext = extension_definition("detections", DETECTION_PROPERTIES)
    stamp = fallback_timestamp()
    out: list[Rendered] = []
    files = unique(by_source, part)
    for name, keys in sorted(by_source.items()):
        if skip is not None and skip(name):
            continue
        source = sources.get(name)
        title = f"{name} detections for ATT&CK {ctx.attack_version}"
        b = Bundle(name=f"detections/{files[name]}", title=title, extension=ext)
        statement = licence_statement(source, config.repositories) if source else f"Contains data from {name}."
        mark = b.marking(statement)
        rendered = Rendered(path=f"detections/{files[name]}.json", bundle=b, grouping={}, summary={})
        counts: Counter[str] = Counter()
        domains: set[str] = set()
        for key in sorted(keys):
            d: Detection = g.nodes[key]["record"]
            pattern, pattern_type, queries = _queries(d)
            if not pattern.strip():
                counts["no_query"] += 1
                continue
            ind = b.add(_indicator(key, d, pattern, pattern_type, queries, _phases(g, d), _rule_url(config, source, d.path), stamp, _converted(g, key)), mark)
            counts["indicators"] += 1
            linked = False
            for v, data in _technique_edges(g, key):
                tech = g.nodes[v]
                if tech["deprecated"]:
                    counts["deprecated_target"] += 1
                    continue
                # The first of the rule's own references that lead here (a rule tagging T1046
                # and the revoked T9001 says "T1046, tag, live", not the last one read).
                first = next((t for t in d.techniques if t.target == tech["id"]), None)
                rel = {
                    "type": "relationship",
                    "id": stix_id("relationship", f"{key}|{INDICATES}|{v}"),
                    "created": stamp,
                    "modified": technique_stamp(tech["record"], stamp),
                    "relationship_type": INDICATES,
                    "source_ref": ind["id"],
                    "target_ref": tech["record"].stix_id,
                    "x_attack_id": tech["id"],
                    "x_how": first.how if first else data.get("how", ""),
                    "x_published_id": first.attack_id if first else data.get("published_id", ""),
                    "x_reconcile_status": first.status if first else data.get("status", ""),
                }
                b.add(compact(rel), mark)
                rendered.techniques.add(tech["record"].stix_id)
                domains.update(tech.get("domains", ()))
                counts["indicates"] += 1
                linked = True
            if not linked:
                counts["no_technique"] += 1
        rendered.finish(
            ctx.attack_version,
            sorted(domains),
            {"description": f"{title}: each rule or query of {name} as an indicator, with an indicates relationship to every technique it names."},
            {
                "kind": "detections",
                "source": name,
                "source_id": source.id if source else "",
                "indicators": counts["indicators"],
                "indicates": counts["indicates"],
                "without_technique": counts["no_technique"],
                "left_out": {"deprecated_target": counts["deprecated_target"], "no_query": counts["no_query"]},
            },
        )
        out.append(rendered)
    return out
