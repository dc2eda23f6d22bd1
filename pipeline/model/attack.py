"""The domain model: frozen, slotted records that every stage passes along.

Records are immutable so that a stage can never change what another stage reads;
a later release or a remapping produces new records instead. They hold plain
strings and tuples only, so they hash, compare and pickle cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class ExternalReference:
    """One STIX external reference: an ATT&CK id, a CAPEC id, or a citation."""

    source_name: str
    external_id: str = ""
    description: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class RelatedAsset:
    """An ICS asset's related asset (`x_mitre_related_assets`)."""

    name: str
    sectors: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackObject:
    """Fields every ATT&CK object shares; `kind` is also the graph node-key prefix."""

    kind: ClassVar[str] = "object"

    stix_id: str
    attack_id: str
    name: str
    description: str = ""
    url: str = ""
    domains: tuple[str, ...] = ()
    deprecated: bool = False
    revoked: bool = False
    version: str = ""
    modified: str = ""
    created: str = ""
    contributors: tuple[str, ...] = ()
    references: tuple[ExternalReference, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.attack_id}"

    @property
    def live(self) -> bool:
        return not (self.deprecated or self.revoked)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tactic(AttackObject):
    kind: ClassVar[str] = "tactic"
    shortname: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Technique(AttackObject):
    """A technique or sub-technique; `tactics` are tactic ids in matrix order."""

    kind: ClassVar[str] = "technique"
    tactics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    parent: str | None = None
    detection: str = ""
    data_sources: tuple[str, ...] = ()
    system_requirements: tuple[str, ...] = ()
    permissions_required: tuple[str, ...] = ()
    effective_permissions: tuple[str, ...] = ()
    defense_bypassed: tuple[str, ...] = ()
    remote_support: bool | None = None
    impact_type: tuple[str, ...] = ()
    tactic_type: tuple[str, ...] = ()

    @property
    def is_subtechnique(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mitigation(AttackObject):
    kind: ClassVar[str] = "mitigation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Group(AttackObject):
    kind: ClassVar[str] = "group"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Software(AttackObject):
    kind: ClassVar[str] = "software"
    software_type: str = "malware"
    aliases: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign(AttackObject):
    kind: ClassVar[str] = "campaign"
    aliases: tuple[str, ...] = ()
    first_seen: str = ""
    last_seen: str = ""
    first_seen_citation: str = ""
    last_seen_citation: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSource(AttackObject):
    kind: ClassVar[str] = "datasource"
    platforms: tuple[str, ...] = ()
    collection_layers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DataComponent(AttackObject):
    """Before ATT&CK 18 data components carry no ATT&CK id; theirs is then `DSxxxx/<slug>`."""

    kind: ClassVar[str] = "datacomponent"
    data_source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSource:
    data_component: str
    name: str
    channel: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Analytic(AttackObject):
    """ATT&CK v18 analytic: prose and log sources, never a query."""

    kind: ClassVar[str] = "analytic"
    platforms: tuple[str, ...] = ()
    log_sources: tuple[LogSource, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionStrategy(AttackObject):
    kind: ClassVar[str] = "detection_strategy"
    analytics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset(AttackObject):
    kind: ClassVar[str] = "asset"
    platforms: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    related_assets: tuple[RelatedAsset, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Relationship:
    """A STIX relationship between two objects of one release, by STIX id."""

    stix_id: str
    relation: str
    source_ref: str
    target_ref: str
    description: str = ""
    created: str = ""
    modified: str = ""
    references: tuple[ExternalReference, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Revocation:
    """Where a revoked ATT&CK id leads: `status` is live, deprecated or dead_end."""

    attack_id: str
    kind: str
    status: str
    chain: tuple[str, ...] = ()
    reason: str = ""

    @property
    def target(self) -> str | None:
        return self.chain[-1] if self.status != "dead_end" and self.chain else None


OBJECT_CLASSES: tuple[type[AttackObject], ...] = (
    Tactic,
    Technique,
    Mitigation,
    Group,
    Software,
    Campaign,
    DataSource,
    DataComponent,
    DetectionStrategy,
    Analytic,
    Asset,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackRelease:
    """One domain of one ATT&CK release, as read from its bundle.

    `objects` holds every non-revoked object (live and deprecated) keyed by STIX id;
    revoked ones only survive as `revocations`, which say where their ids lead, and as
    `revoked_objects` (by STIX id), which a release diff needs to see what was revoked.
    """

    domain: str
    version: str
    stix_version: str
    file: str
    matrix: str
    tactics: tuple[str, ...]
    objects: dict[str, AttackObject]
    relationships: tuple[Relationship, ...]
    revocations: dict[str, Revocation]
    issues: tuple = ()
    revoked_objects: dict[str, AttackObject] = field(default_factory=dict, repr=False, compare=False)
    _by_key: dict[str, AttackObject] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for obj in self.objects.values():
            known = self._by_key.get(obj.key)
            if known is None or (not known.live and obj.live):
                self._by_key[obj.key] = obj

    def of_kind(self, kind: str, *, live_only: bool = True) -> list[AttackObject]:
        return [o for o in self.objects.values() if o.kind == kind and (o.live or not live_only)]

    def get(self, key: str) -> AttackObject | None:
        """Object by node key (`technique:T1046`)."""
        return self._by_key.get(key)


# What pages quote from a bundle beyond the records (read by `pipeline.ingest.attack_texts`).
@dataclass(frozen=True, slots=True)
class Reference:
    """A source ATT&CK cites: its citation name, URL and description."""

    name: str
    url: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class AttackTexts:
    """Citation name → reference, and node key (`technique:T1046`) → contributors."""

    references: dict[str, Reference] = field(default_factory=dict)
    contributors: dict[str, tuple[str, ...]] = field(default_factory=dict)
