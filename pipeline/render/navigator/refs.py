"""Every mapping of the graph onto a live technique, as flat records layers select from.

A layer of a framework, a family, a control, a score category, a detection source or a
user's query is a selection of these records, so the graph is walked once per build
instead of once per layer. A record is one control, capability or detection edge: one
metadata block in a layer entry.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

import networkx as nx

from pipeline.render.navigator.layer import Meta, TechniqueIndex

# Score values in increasing order; their rank is the score of a category layer.
VALUE_RANK = {"minimal": 1, "partial": 2, "significant": 3}
# Categories as Mappings Explorer scores them first, then the kinds of unscored tables.
CATEGORY_ORDER = ("protect", "detect", "respond", "mitigate", "exploit", "impact", "related")
SCORE_CATEGORIES = ("protect", "detect", "respond")
# Relations that say a control does not apply: no layer shows them.
NOT_SHOWN = frozenset({"non_mappable"})
_NUMBER = re.compile(r"(\d+)")


@functools.lru_cache(maxsize=65536)
def natural_key(text: str) -> tuple:
    """`AC-2` before `AC-10`; the same order on every run. Cached: the build sorts
    28,276 mappings of a few thousand controls, and splitting each id again was 1.1 s
    of the 2.8 s that collecting the mappings took (cProfile, default build)."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _NUMBER.split(text))


@functools.lru_cache(maxsize=256)
def category_key(category: str) -> tuple:
    return (CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER), category)


@dataclass(frozen=True)
class Ref:
    """One control, capability or detection on one live technique of one domain.

    Not slotted: `block` is cached on the instance.

    For a detection, `framework` is empty and `source` is the detection source name
    (`sigma`); for a control or capability, `source` is the mapping table's source id.
    """

    technique: str
    domain: str
    subject: str  # graph node key
    kind: str  # control | capability | detection
    id: str
    name: str
    framework: str
    version: str
    group: str
    group_name: str
    category: str
    value: str
    comment: str
    source: str
    language: str = ""
    published: str = ""  # the id as published, when it was revoked and followed

    @property
    def rank(self) -> int:
        return VALUE_RANK.get(self.value, 0)

    def order(self) -> tuple:
        return (self.framework, self.version, natural_key(self.id), category_key(self.category), self.rank, self.source, self.subject, self.comment)

    @functools.cached_property
    def block(self) -> tuple[Meta, ...]:
        """The metadata block of this mapping in a layer entry (made once: a mapping
        appears in its framework's overview, family, control and category layers)."""
        out = [Meta(self.kind, f"{self.id} {self.name}".strip() if self.kind != "detection" else self.name or self.id)]
        if self.kind == "detection":
            out.append(Meta("id", self.id))
            if self.language:
                out.append(Meta("language", self.language))
        if self.category:
            out.append(Meta("category", self.category))
        if self.value:
            out.append(Meta("value", self.value.capitalize()))
        if self.comment:
            out.append(Meta("comment", self.comment))
        out.append(Meta("source", self.source))
        if self.published:
            out.append(Meta("published as", self.published))
        return tuple(out)


def _control_ref(u: str, n: dict, tid: str, d: dict) -> Ref:
    original = d.get("original") or {}
    published = ""
    if d.get("status") == "revoked" and original.get("id") and original["id"] != tid:
        published = f"{original['id']} (revoked; now {tid})"
    return Ref(
        technique=tid,
        domain=d.get("domain") or "",
        subject=u,
        kind=n["kind"],
        id=n["id"],
        name=n.get("name") or "",
        framework=n["framework"],
        version=d.get("framework_version") or n.get("framework_version") or "",
        group=n.get("family") or n.get("group") or "",
        group_name=n.get("family_name") or n.get("group_name") or "",
        category=d.get("score_category") or d.get("kind") or "",
        value=(d.get("score_value") or "").lower() if (d.get("score_value") or "").lower() in VALUE_RANK else "",
        comment=" ".join(str(d.get("comments") or "").split()),
        source=d["source"],
        published=published,
    )


def _detection_ref(n: dict, u: str, tid: str, domain: str, d: dict) -> Ref:
    published = ""
    if d.get("status") == "revoked" and d.get("published_id") and d["published_id"] != tid:
        published = f"{d['published_id']} (revoked; now {tid})"
    return Ref(
        technique=tid,
        domain=domain,
        subject=u,
        kind="detection",
        id=n["id"],
        name=n.get("name") or "",
        framework="",
        version="",
        group="",
        group_name="",
        category="",
        value="",
        comment="",
        source=n["source"],
        language=n.get("language") or "",
        published=published,
    )


def collect_refs(g: nx.MultiDiGraph, index: TechniqueIndex) -> list[Ref]:
    """Every control, capability and detection edge to a live technique, in a stable order.

    Deprecated controls and rules and `non_mappable` rows protect nothing and are left
    out; an edge lands in the domain it was published for (a control edge) or in each
    domain its technique is live in (a detection edge).
    """
    out: list[Ref] = []
    for u, n in g.nodes(data=True):
        kind = n["kind"]
        if kind not in ("control", "capability", "detection") or n.get("deprecated"):
            continue
        for _, v, d in g.out_edges(u, data=True):
            if not v.startswith("technique:"):
                continue
            tid = v[len("technique:"):]
            if kind == "detection":
                if d.get("relation") != "detects":
                    continue
                out.extend(_detection_ref(n, u, tid, dom, d) for dom in index.live.get(tid, ()))
                continue
            if "source" not in d or d.get("relation") in NOT_SHOWN:
                continue
            ref = _control_ref(u, n, tid, d)
            if index.is_live(tid, ref.domain):
                out.append(ref)
    out.sort(key=lambda r: (r.domain, r.technique, r.kind == "detection", r.order()))
    return out


def by_technique(refs: Iterable[Ref]) -> dict[str, list[Ref]]:
    out: dict[str, list[Ref]] = {}
    for r in refs:
        out.setdefault(r.technique, []).append(r)
    return out
