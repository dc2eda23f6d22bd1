"""Detection content as one record shape, whatever format it was published in.

A hunting card, a Sigma rule, an Elastic rule, a Splunk search and an ATT&CK analytic
all answer the same questions — what does it look for, in which language, which
techniques does it claim, who wrote it, may I use it — so every adapter produces a
`Detection` and nothing downstream knows about formats. Records are frozen; the
reconcile step returns new ones with technique ids resolved to the target release.

`as_dict` / `detection_from_dict` are the cache's serialisation: plain JSON types only,
rebuilt with type checks, so a damaged or foreign cache file can never inject objects.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# How a technique id was found: a rule's ATT&CK tag (Sigma), a structured field (Elastic
# threat block, Splunk mitre_attack_id, ATT&CK relationship), a card's title, a link to
# attack.mitre.org, a technique name, or a bare id in prose or query comments.
HOW_TECHNIQUE = ("field", "tag", "relationship", "title", "link", "name", "text")
# How a tactic was found: a structured field or tag, a card's Category table, the folder a
# card sits in, or derived from the techniques by the reconcile step.
HOW_TACTIC = ("field", "tag", "table", "folder", "derived")


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """One query of a detection; `language` is lower-case: kql, sigma, eql, esql, kuery, lucene, spl, sql."""

    language: str
    text: str
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TechniqueRef:
    """A technique a detection claims. `attack_id` is as found (normalised spelling);
    `target` and `status` are filled by the reconcile step (live, deprecated, revoked,
    unknown)."""

    attack_id: str
    how: str
    target: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TacticRef:
    """A tactic by ATT&CK shortname (`privilege-escalation`), which, unlike TA ids,
    every format can spell; `attack_id` is filled where the source or the release says."""

    shortname: str
    how: str
    attack_id: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """One detection as published. `id` is `<source>:<native id>` (a hash of the path
    where the format has no id); `path` is relative to the source's root folder and
    `collection` is its top folder (rules, deprecated, unsupported, hunting, …)."""

    id: str
    source: str
    native_id: str
    format: str
    title: str
    description: str = ""
    queries: tuple[Query, ...] = ()
    techniques: tuple[TechniqueRef, ...] = ()
    tactics: tuple[TacticRef, ...] = ()
    attack_objects: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    status: str = ""
    severity: str = ""
    data_sources: tuple[str, ...] = ()
    path: str = ""
    collection: str = ""
    license: str = ""

    @property
    def deprecated(self) -> bool:
        return self.status == "deprecated" or self.collection in ("deprecated", "_deprecated")

    @property
    def flags(self) -> tuple[str, ...]:
        """What a reader must know before using it: deprecated, unsupported, placeholder."""
        out = []
        if self.deprecated:
            out.append("deprecated")
        if self.status == "unsupported" or self.collection == "unsupported":
            out.append("unsupported")
        if self.collection == "rules-placeholder":
            out.append("placeholder")
        return tuple(out)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.language for q in self.queries)) or ("text",)

    @property
    def technique_ids(self) -> tuple[str, ...]:
        return tuple(t.attack_id for t in self.techniques)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _FIELDS[Detection]:
            value = getattr(self, name)
            if name in _NESTED:
                value = [{n: getattr(item, n) for n in _FIELDS[_NESTED[name]]} for item in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


_NESTED = {"queries": Query, "techniques": TechniqueRef, "tactics": TacticRef}
_STRING_LISTS = frozenset({"attack_objects", "tags", "authors", "references", "data_sources"})
# Field names per class, computed once: these run for every record of every cache load.
_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in (Detection, Query, TechniqueRef, TacticRef)}
_FIELD_SETS = {cls: frozenset(names) for cls, names in _FIELDS.items()}


def _strings(value: Any, name: str) -> tuple[str, ...]:
    # Plain loops and exact type checks: this runs ~40,000 times per cache load.
    if type(value) is not list:
        raise ValueError(f"{name} must be a list of strings")
    for v in value:
        if type(v) is not str:
            raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


def _nested(cls: type, value: Any, name: str) -> tuple:
    if type(value) is not list:
        raise ValueError(f"{name} must be a list")
    names = _FIELD_SETS[cls]
    out = []
    for item in value:
        if type(item) is not dict or not names.issuperset(item):
            raise ValueError(f"{name} holds a malformed entry")
        for v in item.values():
            if type(v) is not str:
                raise ValueError(f"{name} holds a malformed entry")
        out.append(cls(**item))
    return tuple(out)


def detection_from_dict(data: Any) -> Detection:
    """Rebuild a record written by `as_dict`; ValueError on anything else."""
    if not isinstance(data, dict):
        raise ValueError("a detection must be an object")
    known = _FIELD_SETS[Detection]
    if not known.issuperset(data):
        raise ValueError(f"unknown fields {sorted(set(data) - known)}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name in _NESTED:
            kwargs[name] = _nested(_NESTED[name], value, name)
        elif name in _STRING_LISTS:
            kwargs[name] = _strings(value, name)
        elif type(value) is str:
            kwargs[name] = value
        else:
            raise ValueError(f"{name} must be a string")
    try:
        return Detection(**kwargs)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def source_name(source) -> str:
    """`detections/sigma` → `sigma`: the prefix of detection ids and node keys, from a
    detection source of the sources file (`pipeline.core.config.Source`)."""
    return source.id.rstrip("/").rsplit("/", 1)[-1]


# The source name of the detections read from ATT&CK's own analytics (v18 on): not a
# corpus of the sources file, so the graph and the reports tell them apart by it.
ATTACK_ANALYTICS_SOURCE = "attack"
