"""An organisation's own defence, as frozen records: what it deployed, what it collects,
who attacks it and how it weighs those.

A `Profile` is what `profiles/*.toml` says once every file it imports (DeTT&CT
administration files, a SIEM's export of enabled rules, a folder of the team's own Sigma
rules) has been read; nothing in it is resolved against ATT&CK yet, so the same profile
can be scored against any release (`pipeline.profile`).

DeTT&CT's administration files are kept whole (`DettectDataSources`,
`DettectTechniques`, `DettectGroups`): each record remembers the keys its mapping had,
in order, and anything it does not model in `extra`, so a file read and written back is
equal in content to the one read (DeTT&CT adds keys between versions; none is lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.model.detections import Detection

STATUSES = ("implemented", "partial", "planned")
# Coverage of a technique by a profile, from worst to best (`check` compares these).
STATUS_ORDER = {"uncovered": 0, "partial": 1, "covered": 2}
WEIGHT_NAMES = ("threat", "prevalence", "choke_point", "actionability")


@dataclass(frozen=True, slots=True)
class Kept:
    """The keys a DeTT&CT mapping had (in order) and the values of those not modelled."""

    keys: tuple[str, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()


# -- DeTT&CT data-source administration (file version 1.1) ---------------------------------
@dataclass(frozen=True, slots=True)
class DettectSystem:
    applicable_to: str
    platform: tuple[str, ...]
    kept: Kept = Kept(("applicable_to", "platform"))


@dataclass(frozen=True, slots=True)
class DettectDataSourceDetail:
    applicable_to: tuple[str, ...]
    date_registered: Any = None
    date_connected: Any = None
    products: tuple[str, ...] = ()
    available_for_data_analytics: bool = False
    comment: str = ""
    data_quality: tuple[tuple[str, Any], ...] = ()
    kept: Kept = Kept(
        ("applicable_to", "date_registered", "date_connected", "products", "available_for_data_analytics", "comment", "data_quality")
    )


@dataclass(frozen=True, slots=True)
class DettectDataSource:
    name: str
    details: tuple[DettectDataSourceDetail, ...]
    kept: Kept = Kept(("data_source_name", "data_source"))


@dataclass(frozen=True, slots=True)
class DettectDataSources:
    name: str
    domain: str
    systems: tuple[DettectSystem, ...]
    data_sources: tuple[DettectDataSource, ...]
    version: Any = 1.1
    exceptions: tuple[tuple[tuple[str, Any], ...], ...] = ()
    kept: Kept = Kept(("version", "file_type", "name", "domain", "systems", "data_sources"))

    def collected(self) -> tuple[str, ...]:
        """Names of the data sources available for analytics on at least one system."""
        out = []
        for ds in self.data_sources:
            if any(d.available_for_data_analytics for d in ds.details) and ds.name not in out:
                out.append(ds.name)
        return tuple(out)


# -- DeTT&CT technique administration (file version 1.2) ------------------------------------
@dataclass(frozen=True, slots=True)
class DettectScore:
    date: Any
    score: int
    comment: str = ""
    auto_generated: bool | None = None
    kept: Kept = Kept(("date", "score", "comment"))


@dataclass(frozen=True, slots=True)
class DettectScoreEntry:
    """One `detection` or `visibility` entry of a technique: for some systems, a logbook."""

    applicable_to: tuple[str, ...]
    score_logbook: tuple[DettectScore, ...]
    comment: str = ""
    location: tuple[str, ...] | None = None  # detection entries only
    kept: Kept = Kept(("applicable_to", "comment", "score_logbook"))

    def score(self) -> int | None:
        """The newest score of the logbook (DeTT&CT: the entry with the latest date; an
        entry without a date is older than any dated one)."""
        best = None
        for entry in self.score_logbook:
            if best is None or _date_key(entry.date) > _date_key(best.date):
                best = entry
        return None if best is None else best.score


def _date_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return (1, text[:10], text)


@dataclass(frozen=True, slots=True)
class DettectTechnique:
    technique_id: str
    technique_name: str
    detection: tuple[DettectScoreEntry, ...]
    visibility: tuple[DettectScoreEntry, ...]
    kept: Kept = Kept(("technique_id", "technique_name", "detection", "visibility"))

    def detection_score(self) -> int | None:
        scores = [s for s in (e.score() for e in self.detection) if s is not None]
        return max(scores) if scores else None

    def visibility_score(self) -> int | None:
        scores = [s for s in (e.score() for e in self.visibility) if s is not None]
        return max(scores) if scores else None


@dataclass(frozen=True, slots=True)
class DettectTechniques:
    name: str
    domain: str
    platform: tuple[str, ...]
    techniques: tuple[DettectTechnique, ...]
    version: Any = 1.2
    kept: Kept = Kept(("version", "file_type", "name", "domain", "platform", "techniques"))


# -- DeTT&CT group administration (file version 1) ------------------------------------------
@dataclass(frozen=True, slots=True)
class DettectGroup:
    group_name: str
    campaign: str
    technique_id: tuple[str, ...]
    software_id: tuple[str, ...] | None
    enabled: bool
    kept: Kept = Kept(("group_name", "campaign", "technique_id", "software_id", "enabled"))


@dataclass(frozen=True, slots=True)
class DettectGroups:
    domain: str
    platform: tuple[str, ...]
    groups: tuple[DettectGroup, ...]
    version: Any = 1
    kept: Kept = Kept(("version", "file_type", "domain", "platform", "groups"))


# -- the profile ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ControlState:
    """A control or capability of a framework and how far it is deployed."""

    framework: str
    control_id: str
    status: str  # implemented | partial | planned
    version: str = ""  # framework version; empty: every version of the framework


@dataclass(frozen=True, slots=True)
class RuleSelection:
    """Rules of one detection corpus that run in production: by id or by path glob."""

    source: str
    ids: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    all: bool = False


@dataclass(frozen=True, slots=True)
class ThreatRef:
    """A group, campaign or piece of software, by ATT&CK id or name, with its weight."""

    kind: str  # group | campaign | software
    ref: str
    weight: float = 1.0
    why: str = ""  # "listed", or how a sector or country led to it


@dataclass(frozen=True, slots=True)
class Weights:
    threat: float = 3.0
    prevalence: float = 1.0
    choke_point: float = 1.0
    actionability: float = 1.0
    # Weight of each group found through the sectors and countries of the threat profile.
    resolved_group: float = 1.0

    def as_dict(self) -> dict[str, float]:
        return {n: getattr(self, n) for n in WEIGHT_NAMES}


@dataclass(frozen=True, slots=True)
class Profile:
    file: str
    name: str
    slug: str
    digest: str  # sha256 of the profile file and every file it imports
    description: str = ""
    domain: str = "enterprise"
    platforms: tuple[str, ...] = ()
    controls: tuple[ControlState, ...] = ()
    rules: tuple[RuleSelection, ...] = ()
    # Rules from a SIEM export that match a corpus rule: (corpus source name, native id).
    exported_rules: tuple[tuple[str, str], ...] = ()
    # The team's own rules (Sigma folder, custom rules of a SIEM export), source `own`.
    own_rules: tuple[Detection, ...] = ()
    data_components: tuple[str, ...] = ()
    # ATT&CK v18 log source names collected (`WinEventLog:Security`, `auditd:SYSCALL`).
    log_sources: tuple[str, ...] = ()
    data_sources: DettectDataSources | None = None
    techniques: DettectTechniques | None = None
    threats: tuple[ThreatRef, ...] = ()
    sectors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    groups_file: DettectGroups | None = None
    weights: Weights = field(default_factory=Weights)
    top_n: int = 20
