"""STIX 2.0 (mitre/cti) and 2.1 (attack-stix-data) ATT&CK bundles → `AttackRelease`.

Both layouts carry the same object shapes; what differs is where the spec version is
declared and a few optional properties, so one reader serves every release from v8 on.
Bad records never stop the load: they become `Issue`s naming the record, and the
caller decides (`--strict`) whether that is fatal.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable

from pipeline.core.errors import Issue
from pipeline.core.limits import DEFAULT, Limits
from pipeline.ingest.bundle import read_bundle
from pipeline.model.attack import (
    Analytic,
    Asset,
    AttackObject,
    AttackRelease,
    Campaign,
    DataComponent,
    DataSource,
    DetectionStrategy,
    ExternalReference,
    Group,
    LogSource,
    Mitigation,
    RelatedAsset,
    Relationship,
    Software,
    Tactic,
    Technique,
)
from pipeline.reconcile.revocation import resolve_revocations

# Only these references carry ATT&CK ids; others (`AUT-9`, `ECO-13`, CAPEC) do not.
ATTACK_SOURCE_NAMES = frozenset({"mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"})
KILL_CHAINS = ATTACK_SOURCE_NAMES

KIND_OF_TYPE: dict[str, str] = {
    "x-mitre-tactic": "tactic",
    "attack-pattern": "technique",
    "course-of-action": "mitigation",
    "intrusion-set": "group",
    "malware": "software",
    "tool": "software",
    "campaign": "campaign",
    "x-mitre-data-source": "datasource",
    "x-mitre-data-component": "datacomponent",
    "x-mitre-detection-strategy": "detection_strategy",
    "x-mitre-analytic": "analytic",
    "x-mitre-asset": "asset",
}
# Understood, but not part of the graph.
METADATA_TYPES = frozenset({"identity", "marking-definition", "x-mitre-matrix", "x-mitre-collection", "relationship"})

_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def _list(obj: dict, key: str) -> list:
    """A list-valued property, or an empty list when the file has anything else there."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


def _attack_ref(obj: dict) -> dict | None:
    for ref in _list(obj, "external_references"):
        if (
            isinstance(ref, dict)
            and _str(ref, "source_name") in ATTACK_SOURCE_NAMES
            and isinstance(ref.get("external_id"), str)
            and ref["external_id"]
        ):
            return ref
    return None


def _str(obj: dict, key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


# The two records made by the ten thousand (every relationship, every external reference):
# filled through object.__setattr__ bound once instead of the frozen dataclass __init__,
# which looks the setter up again for every field (the records are the same, ~40 % less
# time each). The field lists are checked here so that a field added to the model fails
# at import instead of leaving records half-filled.
_new = object.__new__
_set = object.__setattr__
if tuple(f.name for f in fields(ExternalReference)) != ("source_name", "external_id", "description", "url") or tuple(
    f.name for f in fields(Relationship)
) != ("stix_id", "relation", "source_ref", "target_ref", "description", "created", "modified", "references"):
    raise TypeError("pipeline.ingest.attack fills ExternalReference and Relationship field by field: update it to the model")


def _external_reference(source_name: str, external_id: str, description: str, url: str) -> ExternalReference:
    ref = _new(ExternalReference)
    _set(ref, "source_name", source_name)
    _set(ref, "external_id", external_id)
    _set(ref, "description", description)
    _set(ref, "url", url)
    return ref


def _new_relationship(stix_id, relation, source_ref, target_ref, description, created, modified, references) -> Relationship:
    rel = _new(Relationship)
    _set(rel, "stix_id", stix_id)
    _set(rel, "relation", relation)
    _set(rel, "source_ref", source_ref)
    _set(rel, "target_ref", target_ref)
    _set(rel, "description", description)
    _set(rel, "created", created)
    _set(rel, "modified", modified)
    _set(rel, "references", references)
    return rel


def _references(obj: dict) -> tuple[ExternalReference, ...]:
    """External references as tuples; entries without a string source_name are dropped.

    The hottest loop of a load (every object and every relationship has references):
    written out with local lookups instead of `_list`/`_str` calls, same result."""
    refs = obj.get("external_references")
    if not isinstance(refs, list) or not refs:
        return ()
    out = []
    append = out.append
    for ref in refs:
        if isinstance(ref, dict):
            get = ref.get
            name = get("source_name")
            if isinstance(name, str):
                eid, desc, url = get("external_id"), get("description"), get("url")
                append(
                    _external_reference(
                        name,
                        eid if isinstance(eid, str) else "",
                        desc if isinstance(desc, str) else "",
                        url if isinstance(url, str) else "",
                    )
                )
    return tuple(out)


def _related_assets(obj: dict) -> tuple[RelatedAsset, ...]:
    return tuple(
        RelatedAsset(_str(a, "name"), _strs(a, "related_asset_sectors"), _str(a, "description"))
        for a in _list(obj, "x_mitre_related_assets")
        if isinstance(a, dict)
    )


def _flag(obj: dict, key: str) -> bool | None:
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def _strs(obj: dict, key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


class _Reader:
    """One pass over a bundle's objects; holds the indexes the records are built from."""

    def __init__(self, objects: list, *, domain: str, file: str) -> None:
        self.domain = domain
        self.file = file
        self.issues: list[Issue] = []
        self.raw: dict[str, dict] = {}
        self.ids: dict[str, str] = {}
        self.attack_refs: dict[str, dict] = {}  # STIX id -> its ATT&CK external reference, found once
        self.kinds: dict[str, str] = {}
        self.matrices: list[dict] = []
        self.collection_version: str | None = None
        self.relationships: list[Relationship] = []
        self.unknown_types: Counter[str] = Counter()
        self._index(objects)

    def issue(self, code: str, problem: str, record: str | None = None) -> None:
        self.issues.append(Issue(code=code, problem=problem, file=self.file, record=record))

    def _index(self, objects: list) -> None:
        by_type: dict[str, list[dict]] = defaultdict(list)
        for i, obj in enumerate(objects):
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str):
                self.issue("bad-object", "not a STIX object (needs string \"type\" and \"id\"); skipped", f"objects[{i}]")
                continue
            by_type[obj["type"]].append(obj)
        for otype, objs in by_type.items():
            if otype == "relationship":
                for obj in objs:
                    self._relationship(obj)
            elif otype == "x-mitre-matrix":
                self.matrices.extend(objs)
            elif otype == "x-mitre-collection":
                self.collection_version = _str(objs[0], "x_mitre_version") or None
            elif otype in KIND_OF_TYPE:
                for obj in objs:
                    self.raw[obj["id"]] = obj
                    self.kinds[obj["id"]] = KIND_OF_TYPE[otype]
            elif otype not in METADATA_TYPES:
                self.unknown_types[otype] += len(objs)
        for otype, count in sorted(self.unknown_types.items()):
            self.issue("unknown-type", f"{count} object(s) of unknown type {otype!r} skipped", f"type {otype}")
        # ATT&CK ids first, so that references between objects can be written as ids.
        pending_components = []
        for sid, obj in self.raw.items():
            ref = _attack_ref(obj)
            if ref is not None:
                self.ids[sid] = str(ref["external_id"])
                self.attack_refs[sid] = ref
            elif self.kinds[sid] == "datacomponent":
                pending_components.append(sid)
            elif not obj.get("revoked"):
                self.issue("missing-id", f"{obj['type']} has no ATT&CK id (no mitre-attack external reference); skipped", sid)
        for sid in pending_components:
            obj = self.raw[sid]
            parent = self.ids.get(_str(obj, "x_mitre_data_source_ref"), "")
            self.ids[sid] = f"{parent or 'DS'}/{_slug(_str(obj, 'name')) or _slug(sid)}"

    def _relationship(self, obj: dict) -> None:
        get = obj.get
        if get("revoked") or get("x_mitre_deprecated"):
            return
        rel, src, dst = get("relationship_type"), get("source_ref"), get("target_ref")
        if not (isinstance(rel, str) and rel and isinstance(src, str) and src and isinstance(dst, str) and dst):
            self.issue("bad-relationship", "relationship without relationship_type, source_ref or target_ref; skipped", obj["id"])
            return
        description, created, modified = get("description"), get("created"), get("modified")
        self.relationships.append(
            _new_relationship(
                obj["id"],
                rel,
                src,
                dst,
                description if isinstance(description, str) else "",
                created if isinstance(created, str) else "",
                modified if isinstance(modified, str) else "",
                _references(obj),
            )
        )


def _common(obj: dict, attack_id: str, ref: dict | None, domain: str) -> dict[str, Any]:
    get = obj.get
    domains = _strs(obj, "x_mitre_domains")
    name, description, version, modified, created = (
        get("name"), get("description"), get("x_mitre_version"), get("modified"), get("created")
    )
    return {
        "stix_id": obj["id"],
        "attack_id": attack_id,
        "name": name if isinstance(name, str) else "",
        "description": description if isinstance(description, str) else "",
        "url": _str(ref, "url") if ref else "",
        "domains": tuple(d.removesuffix("-attack") for d in domains) or (domain,),
        "deprecated": get("x_mitre_deprecated") is True,
        "revoked": get("revoked") is True,
        "version": version if isinstance(version, str) else "",
        "modified": modified if isinstance(modified, str) else "",
        "created": created if isinstance(created, str) else "",
        "contributors": _strs(obj, "x_mitre_contributors"),
        "references": _references(obj),
    }


def read_attack_release(
    path: Path,
    *,
    domain: str,
    version: str,
    file: str | None = None,
    limits: Limits = DEFAULT,
    seen: Callable[[list], None] | None = None,
) -> AttackRelease:
    """Load one domain of one release. `version` comes from the sources file: the
    mirror's joined bundles do not say which release they are. `seen` is given the
    bundle's objects as read, for what else is taken from them (the pages' citations:
    reading a bundle again would cost more than the parse)."""
    file = file or str(path)
    objects, spec = read_bundle(path, limits=limits)
    if seen is not None:
        seen(objects)
    r = _Reader(objects, domain=domain, file=file)
    if r.collection_version and r.collection_version != version:
        r.issue("version-mismatch", f"bundle says release {r.collection_version}, the sources file says {version}")
    matrices, tactic_order = _tactic_order(r)
    live, revoked = _Builder(r, tactic_order, domain).objects()
    _check_relationship_ends(r)
    revocations = resolve_revocations(live, revoked, r.relationships, file=file, issues=r.issues)
    matrix = _str(matrices[0], "name") if matrices else ""
    return AttackRelease(
        domain=domain,
        version=version,
        stix_version=spec or _spec_of_objects(objects),
        file=file,
        matrix=matrix,
        tactics=tuple(t for t in tactic_order if _tactic_live(live, t)),
        objects=live,
        relationships=tuple(r.relationships),
        revocations=revocations,
        issues=tuple(r.issues),
        revoked_objects=revoked,
    )


def _tactic_order(r: _Reader) -> tuple[list[dict], list[str]]:
    """The release's matrices (live ones first: Mobile keeps a deprecated second matrix)
    and its tactic ids in matrix order, then tactics no matrix lists."""
    matrices = sorted(r.matrices, key=lambda m: m.get("x_mitre_deprecated") is True)
    tactic_order: list[str] = []
    for matrix in matrices:
        for ref in _list(matrix, "tactic_refs"):
            tid = r.ids.get(ref) if isinstance(ref, str) else None
            if tid and tid not in tactic_order:
                tactic_order.append(tid)
    for sid, kind in r.kinds.items():
        if kind == "tactic" and sid in r.ids and r.ids[sid] not in tactic_order:
            tactic_order.append(r.ids[sid])
    return matrices, tactic_order


def _check_relationship_ends(r: _Reader) -> None:
    """One issue per relationship whose source or target is not in the bundle (identities,
    markings and matrices are not read as objects and do not count)."""
    for rel in r.relationships:
        for end in (rel.source_ref, rel.target_ref):
            if end not in r.raw and not end.startswith(("identity--", "marking-definition--", "x-mitre-matrix--")):
                r.issue("missing-object", f"{rel.relation} relationship points to {end}, which is not in the bundle", rel.stix_id)
                break


class _Builder:
    """Turns each raw object with an ATT&CK id into its record: one method per kind,
    sharing what several kinds need (tactic shortnames and order, technique parents)."""

    def __init__(self, r: _Reader, tactic_order: list[str], domain: str) -> None:
        self.r = r
        self.domain = domain
        self.rank = {tid: i for i, tid in enumerate(tactic_order)}
        self.shortnames = {_str(r.raw[s], "x_mitre_shortname"): r.ids[s] for s, k in r.kinds.items() if k == "tactic" and s in r.ids}
        self.parents: dict[str, str] = {}
        for rel in r.relationships:
            if rel.relation == "subtechnique-of" and r.kinds.get(rel.source_ref) == r.kinds.get(rel.target_ref) == "technique" and rel.target_ref in r.ids:
                self.parents[rel.source_ref] = r.ids[rel.target_ref]

    def builders(self) -> dict[str, Callable[[dict, str, dict], AttackObject]]:
        """The method for each kind. Never kept on the builder: bound methods held by
        their own object make a reference cycle, and the cycle held the reader with the
        whole parsed bundle (a few hundred MB for Enterprise) until the cyclic collector
        ran, which a build runs only between stages and after freezing what it finds."""
        return {
            "tactic": self.tactic,
            "technique": self.technique,
            "mitigation": self.mitigation,
            "group": self.group,
            "software": self.software,
            "campaign": self.campaign,
            "datasource": self.datasource,
            "datacomponent": self.datacomponent,
            "detection_strategy": self.detection_strategy,
            "analytic": self.analytic,
            "asset": self.asset,
        }

    def objects(self) -> tuple[dict[str, AttackObject], dict[str, AttackObject]]:
        """(live, revoked) records by STIX id; an object that cannot be built is an issue."""
        r = self.r
        builders = self.builders()
        live: dict[str, AttackObject] = {}
        revoked: dict[str, AttackObject] = {}
        for sid, obj in r.raw.items():
            attack_id = r.ids.get(sid)
            if attack_id is None:
                continue
            common = _common(obj, attack_id, r.attack_refs.get(sid), self.domain)
            try:
                record = builders[r.kinds[sid]](obj, sid, common)
            except (TypeError, ValueError, AttributeError) as exc:
                r.issue("bad-object", f"unreadable {obj['type']}: {exc}; skipped", sid)
                continue
            (revoked if record.revoked else live)[sid] = record
        return live, revoked

    def tactics_of(self, obj: dict, sid: str) -> tuple[str, ...]:
        found = []
        for phase in _list(obj, "kill_chain_phases"):
            if not isinstance(phase, dict) or _str(phase, "kill_chain_name") not in KILL_CHAINS:
                continue
            tid = self.shortnames.get(_str(phase, "phase_name"))
            if tid is None:
                if not (obj.get("revoked") or obj.get("x_mitre_deprecated")):
                    self.r.issue("unknown-tactic", f"kill chain phase {phase.get('phase_name')!r} is not a tactic of this release", sid)
            elif tid not in found:
                found.append(tid)
        return tuple(sorted(found, key=self.rank.__getitem__))

    def log_sources(self, obj: dict, sid: str) -> tuple[LogSource, ...]:
        out = []
        for ref in _list(obj, "x_mitre_log_source_references"):
            if not isinstance(ref, dict):
                continue
            dc = self.r.ids.get(_str(ref, "x_mitre_data_component_ref"), "")
            if not dc:
                self.r.issue("missing-object", f"log source {_str(ref, 'name')!r} names an unknown data component", sid)
            out.append(LogSource(data_component=dc, name=_str(ref, "name"), channel=_str(ref, "channel")))
        return tuple(out)

    def tactic(self, o: dict, s: str, c: dict) -> Tactic:
        return Tactic(**c, shortname=_str(o, "x_mitre_shortname"))

    def technique(self, obj: dict, sid: str, c: dict) -> Technique:
        attack_id = c["attack_id"]
        parent = self.parents.get(sid)
        if parent is None and (obj.get("x_mitre_is_subtechnique") is True or "." in attack_id):
            parent = attack_id.split(".")[0]
        return Technique(
            **c,
            tactics=self.tactics_of(obj, sid),
            platforms=_strs(obj, "x_mitre_platforms"),
            parent=parent,
            detection=_str(obj, "x_mitre_detection"),
            data_sources=_strs(obj, "x_mitre_data_sources"),
            system_requirements=_strs(obj, "x_mitre_system_requirements"),
            permissions_required=_strs(obj, "x_mitre_permissions_required"),
            effective_permissions=_strs(obj, "x_mitre_effective_permissions"),
            defense_bypassed=_strs(obj, "x_mitre_defense_bypassed"),
            remote_support=_flag(obj, "x_mitre_remote_support"),
            impact_type=_strs(obj, "x_mitre_impact_type"),
            tactic_type=_strs(obj, "x_mitre_tactic_type"),
        )

    def mitigation(self, o: dict, s: str, c: dict) -> Mitigation:
        return Mitigation(**c)

    def group(self, o: dict, s: str, c: dict) -> Group:
        return Group(**c, aliases=_strs(o, "aliases"))

    def software(self, o: dict, s: str, c: dict) -> Software:
        return Software(**c, software_type=o["type"], aliases=_strs(o, "x_mitre_aliases"), platforms=_strs(o, "x_mitre_platforms"))

    def campaign(self, o: dict, s: str, c: dict) -> Campaign:
        return Campaign(
            **c,
            aliases=_strs(o, "aliases"),
            first_seen=_str(o, "first_seen"),
            last_seen=_str(o, "last_seen"),
            first_seen_citation=_str(o, "x_mitre_first_seen_citation"),
            last_seen_citation=_str(o, "x_mitre_last_seen_citation"),
        )

    def datasource(self, o: dict, s: str, c: dict) -> DataSource:
        return DataSource(**c, platforms=_strs(o, "x_mitre_platforms"), collection_layers=_strs(o, "x_mitre_collection_layers"))

    def datacomponent(self, o: dict, s: str, c: dict) -> DataComponent:
        return DataComponent(**c, data_source=self.r.ids.get(_str(o, "x_mitre_data_source_ref"), ""))

    def detection_strategy(self, o: dict, s: str, c: dict) -> DetectionStrategy:
        return DetectionStrategy(**c, analytics=tuple(self.r.ids[a] for a in _strs(o, "x_mitre_analytic_refs") if a in self.r.ids))

    def analytic(self, o: dict, s: str, c: dict) -> Analytic:
        return Analytic(**c, platforms=_strs(o, "x_mitre_platforms"), log_sources=self.log_sources(o, s))

    def asset(self, o: dict, s: str, c: dict) -> Asset:
        return Asset(**c, platforms=_strs(o, "x_mitre_platforms"), sectors=_strs(o, "x_mitre_sectors"), related_assets=_related_assets(o))


def _tactic_live(objects: dict[str, AttackObject], tactic_id: str) -> bool:
    return any(o.kind == "tactic" and o.attack_id == tactic_id and o.live for o in objects.values())


def _spec_of_objects(objects: list) -> str:
    for obj in objects:
        if isinstance(obj, dict) and isinstance(obj.get("spec_version"), str):
            return obj["spec_version"]
    return "2.0"
