"""How the mappings on one technique become a score, a colour and a comment.

Three styles, one per kind of layer:

- **count** (framework overview, family, detection and query layers): score = the number
  of distinct controls, capabilities or detections on the technique, on a gradient
  whose ends the legend names. Several categories on one technique are written in the
  comment ("mixed categories: protect 3, detect 3").
- **value** (score-category layers): a technique's colour and score are the *highest*
  value among the controls scored in that category (Minimal 1, Partial 2,
  Significant 3). Values do not add up: two Partial controls may cover the same
  procedures, so together they are still Partial. Every control's own value is in the
  comment and in its metadata block.
- **category** (control and capability layers): colour by category (Protect, Detect,
  Respond, or Mitigate, Exploit, Impact, Related for unscored tables); a technique
  mapped in several categories gets the "mixed categories" colour.

Sub-techniques are scored on their own entries and never rolled up into their parent:
a parent mapped itself keeps its own score (its comment lists the sub-techniques that
have entries); a parent not mapped itself gets an entry without score or colour that
says which of its sub-techniques are mapped, and shows them (`showSubtechniques`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Protocol, Sequence

from pipeline.render.navigator.layer import Gradient, Layer, Link, Mark, Meta, TechniqueIndex
from pipeline.render.navigator.links import entry_links, technique_links
from pipeline.render.navigator.refs import CATEGORY_ORDER, VALUE_RANK, Ref, by_technique, category_key

COUNT_COLORS = ("#deebf7", "#08519c")
DETECTION_COLORS = ("#fee6ce", "#a63603")
VALUE_COLORS = {"minimal": "#c7e9c0", "partial": "#74c476", "significant": "#006d2c"}
CATEGORY_COLORS = {
    "protect": "#2171b5",
    "detect": "#e6550d",
    "respond": "#756bb1",
    "mitigate": "#31a354",
    "exploit": "#de2d26",
    "impact": "#fd8d3c",
    "related": "#969696",
}
OTHER_COLOR = "#bdbdbd"
MIXED_COLOR = "#e7298a"
MIXED_LABEL = "mixed categories"
OTHER_LABEL = "other category"


@dataclass(frozen=True, slots=True)
class Scored:
    score: float | None
    color: str | None
    comment: str
    label: str = ""  # legend label of `color`


Legend = tuple[tuple[str, str], ...]


class Style(Protocol):
    sorting: int

    def mark(self, refs: Sequence[Ref]) -> Scored: ...

    def scale(self, scored: Sequence[Scored]) -> tuple[Gradient | None, Legend]: ...


def _unique(values) -> list:
    return list(dict.fromkeys(values))


def _categories(refs: Sequence[Ref]) -> Counter:
    return Counter(r.category for r in refs if r.kind != "detection" and r.category)


def _category_text(counts: Counter, always: bool) -> str:
    cats = sorted(counts, key=category_key)
    if len(cats) > 1:
        return "mixed categories: " + ", ".join(f"{c} {counts[c]}" for c in cats)
    return cats[0] if cats and always else ""


def count_scale(top: int, noun: str, plural: str, colors: tuple[str, str]) -> tuple[Gradient, Legend]:
    """A two-colour gradient from 1 to the highest score; the legend names both ends."""
    if top <= 1:
        return Gradient(colors, 0, 1), ((f"1 {noun}", colors[1]),)
    return Gradient(colors, 1, top), ((f"1 {noun}", colors[0]), (f"{top} {plural}", colors[1]))


@dataclass(frozen=True, slots=True)
class CountStyle:
    noun: str
    plural: str
    colors: tuple[str, str] = COUNT_COLORS
    list_subjects: bool = True
    show_category: bool = False  # say the category even when there is only one
    sorting: int = 3

    def mark(self, refs: Sequence[Ref]) -> Scored:
        subjects = _unique((r.subject, r.id) for r in refs)
        n = len(subjects)
        parts = [f"{n} {self.noun if n == 1 else self.plural}" + (": " + ", ".join(_unique(i for _, i in subjects)) if self.list_subjects else "")]
        controls = len({r.subject for r in refs if r.kind != "detection"})
        if controls and controls < n:
            parts.append(f"controls {controls}, detections {n - controls}")
        sources = Counter(r.source for r in refs if r.kind == "detection")
        if len(sources) > 1:
            parts.append(", ".join(f"{s} {k}" for s, k in sorted(sources.items())))
        cats = _category_text(_categories(refs), self.show_category)
        if cats:
            parts.append(cats)
        return Scored(n, None, "; ".join(parts))

    def scale(self, scored: Sequence[Scored]) -> tuple[Gradient | None, Legend]:
        top = int(max((s.score or 0 for s in scored), default=0))
        return count_scale(top, self.noun, self.plural, self.colors)


@dataclass(frozen=True, slots=True)
class ValueStyle:
    """One score category: colour and score by the best value among the controls."""

    sorting: int = 3

    def mark(self, refs: Sequence[Ref]) -> Scored:
        each = ", ".join(f"{r.id} {r.value.capitalize() or 'no value'}" for r in refs)
        best = max(refs, key=lambda r: r.rank)
        if not best.rank:
            return Scored(None, None, f"no score value published: {each}")
        head = best.value.capitalize() + (f" (best of {len(refs)})" if len(refs) > 1 else "")
        return Scored(best.rank, VALUE_COLORS[best.value], f"{head}: {each}", best.value.capitalize())

    def scale(self, scored: Sequence[Scored]) -> tuple[Gradient | None, Legend]:
        colors = tuple(VALUE_COLORS[v] for v in VALUE_RANK)
        return Gradient(colors, 1, len(colors)), tuple((v.capitalize(), VALUE_COLORS[v]) for v in VALUE_RANK)


@dataclass(frozen=True, slots=True)
class CategoryStyle:
    """One control or capability: colour by category, mixed categories marked."""

    sorting: int = 0

    def mark(self, refs: Sequence[Ref]) -> Scored:
        cats = sorted(_unique(r.category for r in refs), key=category_key)
        parts = []
        for c in cats:
            best = max((r for r in refs if r.category == c), key=lambda r: r.rank)
            parts.append(f"{c} {best.value.capitalize()}".strip() if c else "no category")
        if len(cats) > 1:
            return Scored(None, MIXED_COLOR, f"{MIXED_LABEL}: " + "; ".join(parts), MIXED_LABEL)
        c = cats[0]
        known = c in CATEGORY_COLORS
        return Scored(None, CATEGORY_COLORS[c] if known else OTHER_COLOR, parts[0], c.capitalize() if known else OTHER_LABEL)

    def scale(self, scored: Sequence[Scored]) -> tuple[Gradient | None, Legend]:
        used = {(s.label, s.color) for s in scored if s.color}
        order = {c.capitalize(): i for i, c in enumerate(CATEGORY_ORDER)} | {OTHER_LABEL: len(CATEGORY_ORDER), MIXED_LABEL: len(CATEGORY_ORDER) + 1}
        return None, tuple(sorted(used, key=lambda lc: (order.get(lc[0], -1), lc[0])))


def _with_parents(marks: dict[str, Mark], index: TechniqueIndex, domain: str, site_url: str) -> list[Mark]:
    """Parents of marked sub-techniques: a note, never a rolled-up score."""
    subs_of: dict[str, list[str]] = {}
    for tid in marks:
        parent = index.parents.get(tid)
        if parent:
            subs_of.setdefault(parent, []).append(tid)
    out = dict(marks)
    for parent, subs in subs_of.items():
        listed = ", ".join(sorted(subs))
        if parent in out:
            m = out[parent]
            out[parent] = dataclasses.replace(m, comment=f"{m.comment}; sub-techniques with their own entries: {listed}")
        elif index.is_live(parent, domain):
            out[parent] = Mark(
                technique=parent,
                comment=f"not mapped itself; mapped sub-techniques (each scored on its own entry): {listed}",
                links=technique_links(site_url, parent),
            )
    return list(out.values())


def mapping_layer(
    *,
    name: str,
    description: str,
    domain: str,
    version: str,
    refs: Sequence[Ref],
    style: Style,
    site_url: str,
    index: TechniqueIndex,
    metadata: tuple[Meta, ...] = (),
    links: tuple[Link, ...] = (),
    platforms: tuple[str, ...] = (),
) -> Layer:
    """A layer of the techniques `refs` map, one metadata block per mapping."""
    marks: dict[str, Mark] = {}
    scored = []
    for tid, rs in by_technique(refs).items():
        s = style.mark(rs)
        scored.append(s)
        subjects = ((r.framework, r.id) for r in rs if r.kind != "detection")
        marks[tid] = Mark(
            technique=tid,
            score=s.score,
            color=s.color,
            comment=s.comment,
            metadata=tuple(r.block for r in rs),
            links=entry_links(site_url, tid, subjects),
        )
    gradient, legend = style.scale(scored)
    return Layer(
        name=name,
        description=description,
        domain=domain,
        attack_version=version,
        marks=tuple(_with_parents(marks, index, domain, site_url)),
        gradient=gradient,
        legend=legend,
        sorting=style.sorting,
        metadata=metadata,
        links=links,
        platforms=platforms,
    )
