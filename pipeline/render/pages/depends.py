"""What a technique card reads besides the ATT&CK release: the digest that lets a build
keep the card of a technique whose mappings and detections did not change.

A card shows the technique's mappings (edges from controls and capabilities, with the
subject's name and family), its detections (edges from detection nodes, with the rule's
record: title, queries, tags, authors), its coverage and that of its sub-techniques —
all of it on the edges into the technique or its sub-techniques from nodes that are not
ATT&CK objects, and on those nodes. ATT&CK itself (text, tactics, mitigations, analytics)
is in every render unit's key already. The digest hashes exactly those edges and nodes,
so a card is rendered again when, and only when, one of them changed; the incremental
build test checks the result against a full build byte for byte.
"""

from __future__ import annotations

import hashlib

import orjson

# Node kinds that come from mapping tables and detection corpora, not from ATT&CK.
SOURCE_KINDS = frozenset({"control", "capability", "detection"})


def _plain(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def technique_digest(g, key: str, memo: dict[str, bytes] | None = None) -> str:
    """`memo` keeps each source node's bytes across the cards of one build (a Sigma rule
    tagged with five techniques is hashed once)."""
    memo = {} if memo is None else memo
    h = hashlib.sha256()
    nodes, pred = g.nodes, g.pred  # adjacency dicts directly: networkx's edge views cost half the time
    subs = sorted(u for u, keyed in pred[key].items() if any(d.get("relation") == "subtechnique_of" for d in keyed.values()))
    for k in (key, *subs):
        edges = [(u, str(ek), d) for u, keyed in pred[k].items() if nodes[u].get("kind") in SOURCE_KINDS for ek, d in keyed.items()]
        for u, ek, d in sorted(edges, key=lambda e: (e[0], e[1])):
            node = memo.get(u)
            if node is None:
                node = memo[u] = _dump(nodes[u])
            h.update(_dump([k, u, ek, d]))
            h.update(node)
    return h.hexdigest()


def _dump(value: object) -> bytes:
    return orjson.dumps(value, default=_plain, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS) + b"\n"
