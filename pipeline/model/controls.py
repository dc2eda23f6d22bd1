"""The control side of the model: controls, capabilities and their mappings to ATT&CK.

Mapping tables come in many formats (Mappings Explorer JSON, security-stack YAML, NIST
TSV and xlsx) but every adapter produces the same frozen `Mapping` record, so that
reconciliation, the graph and every renderer deal with one shape only. A `Mapping`
keeps what the table published (ids, names, mapping type, ATT&CK release) beside the
normalised values, because reports must be able to show both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.errors import Issue

SUBJECT_KINDS: tuple[str, ...] = ("control", "capability")


@dataclass(frozen=True, slots=True, kw_only=True)
class Control:
    """A requirement of a control framework (NIST 800-53 `AC-4`, CSA CCM `IAM-16`).

    `parent` names the base control of an enhancement (`AC-2(1)` → `AC-2`); `text` and
    `discussion` come from a catalogue where one exists.
    """

    framework: str
    framework_version: str
    control_id: str
    name: str = ""
    family: str = ""
    family_name: str = ""
    text: str = ""
    discussion: str = ""
    related: tuple[str, ...] = ()
    parent: str | None = None
    priority: str = ""
    baselines: tuple[str, ...] = ()
    withdrawn: bool = False

    @property
    def key(self) -> str:
        return control_key(self.framework, self.framework_version, self.control_id)

    @property
    def is_enhancement(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Capability:
    """A product feature or other mapped object (Azure `network_security_groups`, a CVE)."""

    framework: str
    framework_version: str
    capability_id: str
    name: str = ""
    group: str = ""
    group_name: str = ""
    description: str = ""
    platform: str = ""
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    comments: str = ""

    @property
    def key(self) -> str:
        return capability_key(self.framework, self.capability_id)


def control_key(framework: str, framework_version: str, control_id: str) -> str:
    return f"control:{framework}/{framework_version}:{control_id}"


def capability_key(framework: str, capability_id: str) -> str:
    return f"capability:{framework}:{capability_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    """One row of a mapping table: a control or capability related to one ATT&CK technique.

    `kind` is the normalised mapping type (see `pipeline.model.vocabulary`);
    `mapping_type` is the table's own word for it. `original_*` hold the ids exactly as
    published (`AC-04`, a regular expression of a NIST table). `non_mappable` rows keep
    `status="non_mappable"` with either the subject or the technique missing.
    """

    source_id: str
    file: str
    row: str
    framework: str
    framework_version: str
    domain: str
    attack_version: str
    subject_kind: str
    subject_id: str | None
    technique_id: str | None
    kind: str
    mapping_type: str = ""
    subject_name: str = ""
    group: str = ""
    group_name: str = ""
    technique_name: str = ""
    score_category: str | None = None
    score_value: str | None = None
    related_score: str | None = None
    comments: str = ""
    references: tuple[str, ...] = ()
    status: str = "complete"
    original_subject_id: str = ""
    original_technique_id: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def subject_key(self) -> str | None:
        if self.subject_id is None:
            return None
        if self.subject_kind == "control":
            return control_key(self.framework, self.framework_version, self.subject_id)
        return capability_key(self.framework, self.subject_id)

    def identity(self) -> tuple:
        """Everything a row publishes: two rows with the same identity are one row twice."""
        return (
            self.subject_id,
            self.subject_name,
            self.group,
            self.technique_id,
            self.technique_name,
            self.mapping_type,
            self.kind,
            self.score_category,
            self.score_value,
            self.related_score,
            self.comments,
            self.references,
            self.status,
            self.original_subject_id,
            self.original_technique_id,
            self.extra,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingTable:
    """One mapping source as read: its metadata, its rows and what was wrong with them.

    `rows` counts the records read from the file(s) (a regex row of a NIST table counts
    once even though it yields many `Mapping`s); `attack_version` is the release the
    table declares for itself. The books balance: `rows + expanded == len(mappings) +
    sum(dropped)`, where `expanded` counts the extra pairs pattern rows yield and
    `dropped` the records left out, by the code of the warning that says why.
    """

    source_id: str
    format: str
    file: str
    framework: str
    framework_version: str
    domain: str
    attack_version: str
    rows: int
    mappings: tuple[Mapping, ...]
    capabilities: tuple[Capability, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    mapping_types: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()
    expanded: int = 0
    dropped: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlCatalog:
    """The controls of one framework version, with their text, keyed by normalised id."""

    source_id: str
    file: str
    framework: str
    framework_version: str
    controls: dict[str, Control]
    issues: tuple[Issue, ...] = ()


def control_parent(control_id: str) -> str | None:
    """`AC-2(1)` → `AC-2`; a base control has no parent."""
    head, sep, _ = control_id.partition("(")
    return head if sep else None


def control_family(control_id: str) -> str:
    """`AC-2(1)` → `AC`, `DE.AE-02.01` → `DE.AE`, `IAM-16` → `IAM`."""
    return control_id.rsplit("-", 1)[0] if "-" in control_id else ""
