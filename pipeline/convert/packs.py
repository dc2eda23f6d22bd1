"""Runnable queries per technique and language, from the graph's detections and the
conversions on their nodes: what a query pack file holds and what `show --query` prints.

For one language: the corpora's own queries in it (the Defender XDR hunting queries for
Kusto, Splunk's searches for SPL, …) first, then the Sigma rules pySigma converted, each
after a comment line naming the rule (title, id, level, status). The query text is the
backend's output unchanged.
"""

from __future__ import annotations

import re

from pipeline.convert.targets import TARGETS

_COMMENT_UNSAFE = re.compile(r"[\x00-\x1f\x7f`]+")


def _comment(prefix: str, words: str) -> str:
    """One comment line in the language's syntax; newlines and backticks (which would
    end an SPL comment) become spaces."""
    flat = " ".join(_COMMENT_UNSAFE.sub(" ", words).split())
    return f"```{flat}```" if prefix == "```" else f"{prefix} {flat}"


def technique_queries(g, language: str) -> dict[str, list[dict]]:
    """technique key → the queries of `language` for it, sorted by source, title, id."""
    t = TARGETS[language]
    out: dict[str, list[dict]] = {}
    for key, node in g.nodes(data=True):
        if node.get("kind") != "detection":
            continue
        d = node["record"]
        targets = sorted({v for v, keyed in g.succ[key].items() if v.startswith("technique:") and any(e.get("relation") == "detects" for e in keyed.values())})
        if not targets:
            continue
        base = {"detection": d.id, "title": d.title, "source": d.source, "level": d.severity, "status": d.status, "flags": list(d.flags)}
        queries: list[dict] = []
        conversions = {c.language: c for c in node.get("conversions", ())}
        if language in conversions:
            c = conversions[language]
            if c.ok:
                queries = [base | {"origin": "sigma", "query": q} for q in c.queries]
        else:
            queries = [base | {"origin": "native", "query": q.text} for q in d.queries if q.language in t.native and q.text.strip()]
        for v in targets:
            if not g.nodes[v]["deprecated"]:
                out.setdefault(v, []).extend(queries)
    for items in out.values():
        items.sort(key=lambda e: (e["origin"] != "native", e["source"], e["title"].lower(), e["detection"]))
    return out


def pack_text(language: str, attack_id: str, name: str, items: list[dict], attack_version: str, converter: str) -> str:
    t = TARGETS[language]
    lines = [
        _comment(t.comment, f"{attack_id} {name}: queries in {t.label} for ATT&CK {attack_version}"),
        _comment(t.comment, f"Sigma rules converted by {converter}"),
    ]
    for e in items:
        facts = f"{e['title']} ({e['detection']}; level {e['level'] or 'not given'}, status {e['status'] or 'not given'})"
        lines += ["", _comment(t.comment, facts), e["query"].strip("\n")]
    return "\n".join(lines) + "\n"
