"""What every mapping adapter shares: turning one published row into a `Mapping`.

Adapters only know where fields sit in their format; the checks (ids, mapping type,
score, duplicates) and the wording of the warnings live here once, so that a bad row
reads the same whatever format it came from, and the rest of the file still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from pipeline.core.errors import Issue
from pipeline.core.limits import DEFAULT, Limits
from pipeline.model.frameworks import framework as framework_info
from pipeline.ingest.mappings.ids import normalise_subject_id, normalise_technique_id
from pipeline.model.vocabulary import (
    SCORE_CATEGORIES,
    SCORE_VALUES,
    SCORED_TYPES,
    normalise_kind,
    normalise_score,
)
from pipeline.model.controls import Capability, Mapping, MappingTable
from pipeline.core.errors import InputError
from pipeline.core.limits import loads_json
from pipeline.ingest.bundle import read_json_bytes


def text(value: object) -> str:
    """A published text field: strings as they are, anything else (null, numbers) as empty."""
    return value if isinstance(value, str) else ""


def texts(value: object) -> tuple[str, ...]:
    """A published list of strings (references, tags) as a tuple; blanks and non-strings dropped."""
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if not isinstance(value, (list, tuple)) or not value:
        return ()
    return tuple(v for v in value if type(v) is str and v and not v.isspace())


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSpec:
    """What the sources file says about a table; the file may declare its own values.
    `limits` are those its files are read under (the sources file's and environment's)."""

    source_id: str
    format: str
    framework: str
    framework_version: str = ""
    domain: str = "enterprise"
    attack_version: str = ""
    limits: Limits = DEFAULT

    @classmethod
    def of(cls, source, limits: Limits = DEFAULT) -> "TableSpec":
        return cls(
            limits=limits,
            source_id=source.id,
            format=source.format,
            framework=source.framework or "",
            framework_version=source.framework_version or "",
            domain=source.domain or "enterprise",
            attack_version=source.attack_version or "",
        )

    def open(self, path: Path, file: str | None = None) -> tuple["TableBuilder", bytes | None]:
        """A builder for the file at `path` and the file's bytes (None, reported, when unusable)."""
        b = self.builder(file or str(path))
        return b, read_bytes(path, b.issue, limits=self.limits)

    def open_json(self, path: Path, file: str | None = None) -> tuple["TableBuilder", bool, object]:
        """A builder, and (True, document) or (False, None) after reporting an unusable or invalid file."""
        b, data = self.open(path, file)
        if data is None:
            return b, False, None
        ok, doc = parse_json(data, b.issue, limits=self.limits)
        return b, ok, doc

    def builder(self, file: str, **overrides) -> "TableBuilder":
        values = {
            "source_id": self.source_id,
            "format": self.format,
            "file": file,
            "framework": self.framework,
            "framework_version": self.framework_version,
            "domain": self.domain,
            "attack_version": self.attack_version,
        } | overrides
        return TableBuilder(**values)


def read_bytes(path: Path, issue: Callable[..., None], file: str | None = None, *, limits: Limits) -> bytes | None:
    """File bytes (gunzipped if need be), or None after `issue(code, problem, record, file)`
    when the file is unreadable or empty."""
    try:
        data = read_json_bytes(path, limits=limits)
    except InputError as exc:
        issue("unreadable", exc.problem, None, file)
        return None
    if not data.strip():
        issue("empty-file", "file is empty; nothing read", None, file)
        return None
    return data


def parse_json(data: bytes, issue: Callable[..., None], *, limits: Limits) -> tuple[bool, object]:
    """(True, document), or (False, None) after reporting invalid or too deeply nested JSON."""
    try:
        return True, loads_json(data, "", limits=limits)
    except orjson.JSONDecodeError as exc:
        issue("bad-json", f"not valid JSON: {exc}")
    except InputError as exc:
        issue("too-deep", exc.problem)
    return False, None


@dataclass
class TableBuilder:
    """Collects the rows of one source, with its issues; duplicated rows are dropped.

    A table repeats the same few ids, types and scores thousands of times, so each
    spelling is normalised once and remembered (`_ids`, `_kinds`): the row path is the
    hot loop of every build.
    """

    source_id: str
    format: str
    file: str
    framework: str
    framework_version: str
    domain: str
    attack_version: str
    rows: int = 0
    mappings: list[Mapping] = field(default_factory=list)
    capabilities: dict[str, Capability] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    expanded: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    _seen: dict[tuple, str] = field(default_factory=dict)
    _ids: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _kinds: dict[tuple, tuple] = field(default_factory=dict)
    subject_kind: str = ""

    def __post_init__(self) -> None:
        self.subject_kind = framework_info(self.framework).subject_kind

    def declare(self, **values: str) -> None:
        """Take the table's own metadata (framework, release, domain) over the sources file's."""
        for name, value in values.items():
            setattr(self, name, value)
        self.subject_kind = framework_info(self.framework).subject_kind

    def issue(self, code: str, problem: str, record: str | None = None, file: str | None = None) -> None:
        self.issues.append(Issue(code=code, problem=problem, file=file or self.file, record=record))

    def skip(self, code: str, problem: str, record: str | None = None, file: str | None = None) -> None:
        """A warning that also leaves one record out: counted, so no row is lost silently."""
        self.issue(code, problem, record, file)
        self.count_dropped(code)

    def count_dropped(self, code: str) -> None:
        self.dropped[code] = self.dropped.get(code, 0) + 1

    def _id(self, side: str, value: object, non_mappable: bool, where: str, file: str) -> tuple[bool, str | None]:
        """(ok, normalised id); an absent id is fine on a non_mappable row only."""
        if value is None or (type(value) is str and (not value or value.isspace())):
            if non_mappable:
                return True, None
            label = self.subject_kind if side == "subject" else "ATT&CK technique"
            self.skip("missing-id", f"row has no {label} id; skipped", where, file)
            return False, None
        found = None
        if type(value) is str:
            key = (side, value)
            if key in self._ids:
                found = self._ids[key]
            else:
                found = normalise_subject_id(value, self.framework) if side == "subject" else normalise_technique_id(value)
                self._ids[key] = found
        if found is None:
            label = self.subject_kind if side == "subject" else "ATT&CK technique"
            self.skip("bad-id", f"malformed {label} id {value!r}; skipped", where, file)
            return False, None
        return True, found

    def _kind(self, mtype: str, non_mappable: bool, score_category: object, score_value: object) -> tuple:
        """(kind or None, category, value, [(code, problem)]) for a type and score, memoised."""
        key = (mtype, non_mappable, score_category, score_value)
        try:
            return self._kinds[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value (a list where a string belongs)
            return _classify(mtype, non_mappable, score_category, score_value)
        found = self._kinds[key] = _classify(mtype, non_mappable, score_category, score_value)
        return found

    def row(
        self,
        where: str,
        *,
        subject: object,
        technique: object,
        mapping_type: object,
        file: str | None = None,
        subject_name: object = "",
        technique_name: object = "",
        score_category: object = None,
        score_value: object = None,
        related_score: object = None,
        comments: object = "",
        references: object = (),
        status: object = "complete",
        group: object = "",
        group_name: object = "",
        extra: tuple[tuple[str, str], ...] = (),
        original_subject: str | None = None,
        original_technique: str | None = None,
        attack_version: str | None = None,
    ) -> Mapping | None:
        """Check and add one row; returns the record, or None when the row was skipped."""
        file = file or self.file
        mtype = mapping_type.strip() if type(mapping_type) is str else ""
        non_mappable = status == "non_mappable" or mtype.lower() == "non_mappable"
        ok, subject_id = self._id("subject", subject, non_mappable, where, file)
        if not ok:
            return None
        ok, technique_id = self._id("technique", technique, non_mappable, where, file)
        if not ok:
            return None
        if non_mappable and subject_id is not None and technique_id is not None:
            self.issue("non-mappable-pair", "row is marked non_mappable but names both sides; kept as non_mappable", where, file)
        kind, category, value, problems = self._kind(mtype, non_mappable, score_category, score_value)
        for code, problem in problems:
            self.issue(code, problem, where, file)
        if kind is None:
            self.count_dropped(problems[0][0] if problems else "unknown-mapping-type")
            return None
        related = None
        if type(related_score) is str and related_score and not related_score.isspace():
            related = normalise_technique_id(related_score)
            if related is None:
                self.issue("bad-id", f"malformed related_score technique id {related_score!r}; ignored", where, file)
        mapping = Mapping(
            source_id=self.source_id,
            file=file,
            row=where,
            framework=self.framework,
            framework_version=self.framework_version,
            domain=self.domain,
            attack_version=attack_version or self.attack_version,
            subject_kind=self.subject_kind,
            subject_id=subject_id,
            technique_id=technique_id,
            kind=kind,
            mapping_type=mtype,
            subject_name=text(subject_name).strip(),
            group=text(group).strip(),
            group_name=text(group_name).strip(),
            technique_name=text(technique_name).strip(),
            score_category=category,
            score_value=value,
            related_score=related,
            comments=text(comments).strip(),
            references=texts(references),
            status="non_mappable" if non_mappable else "complete",
            original_subject_id=original_subject if original_subject is not None else text(subject),
            original_technique_id=original_technique if original_technique is not None else text(technique),
            extra=extra,
        )
        return self.add(mapping)

    def add(self, mapping: Mapping) -> Mapping | None:
        ident = mapping.identity()
        first = self._seen.get(ident)
        if first is not None:
            self.skip("duplicate-row", f"duplicates {first}; dropped", mapping.row, mapping.file)
            return None
        self._seen[ident] = f"{mapping.file}: {mapping.row}" if mapping.file != self.file else mapping.row
        self.mappings.append(mapping)
        return mapping

    def add_capability(self, m: Mapping | None, **details: object) -> None:
        """Remember the capability a row maps (the first row that names it describes it)."""
        if m is None or m.subject_id is None or m.subject_kind != "capability":
            return
        self.capabilities.setdefault(
            m.subject_id,
            Capability(
                framework=m.framework,
                framework_version=m.framework_version,
                capability_id=m.subject_id,
                name=m.subject_name,
                group=m.group,
                group_name=m.group_name,
                **details,
            ),
        )

    def table(self, **extra) -> MappingTable:
        return MappingTable(
            source_id=self.source_id,
            format=self.format,
            file=self.file,
            framework=self.framework,
            framework_version=self.framework_version,
            domain=self.domain,
            attack_version=self.attack_version,
            rows=self.rows,
            mappings=tuple(self.mappings),
            capabilities=tuple(self.capabilities[k] for k in sorted(self.capabilities)),
            issues=tuple(self.issues),
            expanded=self.expanded,
            dropped=tuple(sorted(self.dropped.items())),
            **extra,
        )


def _classify(mtype: str, non_mappable: bool, score_category: object, score_value: object) -> tuple:
    """The normalised kind, category and value of a row, with the problems found."""
    problems: list[tuple[str, str]] = []
    category = normalise_score(score_category)
    value = normalise_score(score_value)
    if non_mappable:
        kind = "non_mappable"
    else:
        kind = normalise_kind(mtype, category)
        if kind is None:
            if category is not None and category not in SCORE_CATEGORIES:
                problems.append(("bad-score", f"unknown score category {score_category!r} (expected protect, detect or respond); skipped"))
            elif mtype.lower() in SCORED_TYPES or mtype == "":
                problems.append(("missing-score", f"{mtype or 'row'} without a score category; skipped"))
            else:
                problems.append(("unknown-mapping-type", f"unknown mapping type {mtype!r}; skipped"))
            return None, None, None, problems
    if kind in SCORE_CATEGORIES:
        if value is None:
            problems.append(("missing-score", f"{kind} score without a value; kept without a score"))
        elif value not in SCORE_VALUES:
            problems.append(("bad-score", f"unknown score value {score_value!r} (expected minimal, partial or significant); kept without a score"))
            value = None
    else:
        category = category if category in SCORE_CATEGORIES else None
        value = value if value in SCORE_VALUES else None
    return kind, category, value, problems
