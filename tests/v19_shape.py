"""A release in ATT&CK v19's shape, derived from the real Enterprise 18.1 bundle.

v19 retired the Defense Evasion tactic: TA0005 keeps its id as Stealth (`stealth`), the
new Defense Impairment (TA0112, `defense-impairment`) takes part of its techniques, and
the Impair Defenses family is revoked for new ids. The derivation does the same to the
real bundle, so every mapping table and rule corpus of the mirror meets it:

- TA0005 renamed Stealth / `stealth` (version 1.0 → 2.0), every `defense-evasion`
  kill-chain phase renamed with it;
- TA0112 Defense Impairment added (in the matrix after TA0005);
- T1562 and each sub-technique revoked by a new object (T1562 → T1690, T1562.NNN →
  T1690.NNN) under TA0112 only, with revoked-by relationships, the relationships of the
  old objects moved to the new ones, and subtechnique-of between the new ones;
- T1070 Indicator Removal in both Stealth and Defense Impairment.
"""

from __future__ import annotations

import copy
import gzip
import json
import uuid
from pathlib import Path

MODIFIED = "2026-04-28T12:00:00.000Z"
NEW_PARENT = "T1690"
BOTH = "T1070"
FAMILY = "T1562"


def _attack_id(obj: dict) -> str | None:
    for ref in obj.get("external_references", ()):
        if ref.get("source_name") == "mitre-attack":
            return ref.get("external_id")
    return None


def _stix_id(kind: str, seed: str) -> str:
    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, 'v19-shape/' + seed)}"


def new_id(old: str) -> str:
    return NEW_PARENT + old[len(FAMILY):]


def derive(src: Path, dst: Path) -> dict[str, str]:
    """Write the v19-shaped bundle to `dst` (gzip when it ends in .gz); old id → new id."""
    bundle = json.loads(gzip.decompress(src.read_bytes()))
    objects = bundle["objects"]
    by_attack_id = {}
    for obj in objects:
        if obj.get("type") == "attack-pattern" and not obj.get("revoked") and (aid := _attack_id(obj)):
            by_attack_id[aid] = obj
    family = sorted(a for a in by_attack_id if a == FAMILY or a.startswith(FAMILY + "."))
    moved: dict[str, str] = {}  # old STIX id → new STIX id
    remap: dict[str, str] = {}
    out = []
    for obj in objects:
        kind = obj.get("type")
        if kind == "x-mitre-tactic" and obj.get("x_mitre_shortname") == "defense-evasion":
            obj = copy.deepcopy(obj)
            obj.update(name="Stealth", x_mitre_shortname="stealth", x_mitre_version="2.0", modified=MODIFIED)
            obj["description"] = "The adversary is trying to avoid being detected."
            impairment = copy.deepcopy(obj)
            impairment.update(
                id=_stix_id("x-mitre-tactic", "TA0112"), name="Defense Impairment", x_mitre_shortname="defense-impairment",
                x_mitre_version="1.0", created=MODIFIED,
                description="The adversary is trying to disable or degrade your defenses.",
                external_references=[{"source_name": "mitre-attack", "url": "https://attack.mitre.org/tactics/TA0112", "external_id": "TA0112"}],
            )
            out += [obj, impairment]
            stealth_id = obj["id"]
            continue
        if kind == "attack-pattern" and not obj.get("revoked"):
            phases = obj.get("kill_chain_phases", [])
            if any(p.get("phase_name") == "defense-evasion" for p in phases):
                obj = copy.deepcopy(obj)
                for p in obj["kill_chain_phases"]:
                    if p.get("phase_name") == "defense-evasion":
                        p["phase_name"] = "stealth"
            if _attack_id(obj) == BOTH:
                obj = copy.deepcopy(obj)
                obj["kill_chain_phases"].append({"kill_chain_name": "mitre-attack", "phase_name": "defense-impairment"})
                obj.update(x_mitre_version="2.0", modified=MODIFIED)
        out.append(obj)
    for old_aid in family:
        old = by_attack_id[old_aid]
        aid = new_id(old_aid)
        new = copy.deepcopy(old)
        new.update(id=_stix_id("attack-pattern", aid), created=MODIFIED, modified=MODIFIED, x_mitre_version="1.0")
        new["kill_chain_phases"] = [{"kill_chain_name": "mitre-attack", "phase_name": "defense-impairment"}]
        for ref in new["external_references"]:
            if ref.get("source_name") == "mitre-attack":
                ref["external_id"] = aid
                ref["url"] = "https://attack.mitre.org/techniques/" + aid.replace(".", "/")
        out.append(new)
        moved[old["id"]] = new["id"]
        remap[old_aid] = aid
    revoked_ids = set(moved)
    final = []
    for obj in out:
        if obj.get("id") in revoked_ids:
            final.append({k: v for k, v in obj.items() if k not in ("kill_chain_phases",)} | {"revoked": True, "modified": MODIFIED})
            continue
        if obj.get("type") == "x-mitre-matrix":
            obj = copy.deepcopy(obj)
            refs = obj["tactic_refs"]
            refs.insert(refs.index(stealth_id) + 1, _stix_id("x-mitre-tactic", "TA0112"))
        if obj.get("type") == "relationship" and (obj.get("source_ref") in moved or obj.get("target_ref") in moved):
            obj = copy.deepcopy(obj)
            obj["source_ref"] = moved.get(obj["source_ref"], obj["source_ref"])
            obj["target_ref"] = moved.get(obj["target_ref"], obj["target_ref"])
            obj["id"] = _stix_id("relationship", obj["id"])
        final.append(obj)
    for old_sid, new_sid in sorted(moved.items()):
        final.append(
            {
                "type": "relationship", "id": _stix_id("relationship", "revoked-by/" + old_sid), "created": MODIFIED,
                "modified": MODIFIED, "relationship_type": "revoked-by", "source_ref": old_sid, "target_ref": new_sid,
                "object_marking_refs": ["marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"],
                "created_by_ref": "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5", "x_mitre_version": "0.1",
                "x_mitre_domains": ["enterprise-attack"], "x_mitre_attack_spec_version": "3.2.0",
                "x_mitre_modified_by_ref": "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5",
            }
        )
    bundle["objects"] = final
    data = json.dumps(bundle).encode()
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(gzip.compress(data, mtime=0) if dst.suffix == ".gz" else data)
    return remap
