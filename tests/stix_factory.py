"""Small STIX bundles written by tests: just enough ATT&CK to exercise one behaviour."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def sid(stix_type: str, name: str) -> str:
    return f"{stix_type}--{uuid.uuid5(NS, name)}"


def ref(attack_id: str, path: str = "techniques") -> list[dict]:
    return [{"source_name": "mitre-attack", "external_id": attack_id, "url": f"https://attack.mitre.org/{path}/{attack_id.replace('.', '/')}"}]


def tactic(attack_id: str, shortname: str, name: str) -> dict:
    return {
        "type": "x-mitre-tactic", "id": sid("x-mitre-tactic", attack_id), "name": name,
        "x_mitre_shortname": shortname, "external_references": ref(attack_id, "tactics"),
    }


def matrix(*tactics: dict) -> dict:
    return {
        "type": "x-mitre-matrix", "id": sid("x-mitre-matrix", "m"), "name": "Test Matrix",
        "tactic_refs": [t["id"] for t in tactics], "external_references": ref("enterprise-attack", "matrices"),
    }


def technique(attack_id: str, name: str, *tactics: str, revoked=False, deprecated=False) -> dict:
    obj = {
        "type": "attack-pattern", "id": sid("attack-pattern", attack_id), "name": name,
        "description": f"{name} description", "external_references": ref(attack_id),
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": t} for t in tactics],
        "x_mitre_platforms": ["Windows"], "x_mitre_is_subtechnique": "." in attack_id,
    }
    if revoked:
        obj["revoked"] = True
    if deprecated:
        obj["x_mitre_deprecated"] = True
    return obj


def relationship(kind: str, source: dict | str, target: dict | str) -> dict:
    s = source if isinstance(source, str) else source["id"]
    t = target if isinstance(target, str) else target["id"]
    return {"type": "relationship", "id": sid("relationship", f"{kind}{s}{t}"), "relationship_type": kind, "source_ref": s, "target_ref": t}


def bundle(*objects: dict) -> dict:
    return {"type": "bundle", "id": sid("bundle", "b"), "spec_version": "2.0", "objects": list(objects)}


def small_bundle() -> dict:
    """Two tactics, a technique with a sub-technique, a mitigation and a revoked chain A→B→C."""
    disc = tactic("TA0007", "discovery", "Discovery")
    cred = tactic("TA0006", "credential-access", "Credential Access")
    t1046 = technique("T1046", "Network Service Discovery", "discovery")
    t1003 = technique("T1003", "OS Credential Dumping", "credential-access")
    t1003_1 = technique("T1003.001", "LSASS Memory", "credential-access")
    old_a = technique("T9001", "Old A", "discovery", revoked=True)
    old_b = technique("T9002", "Old B", "discovery", revoked=True)
    mit = {"type": "course-of-action", "id": sid("course-of-action", "M1030"), "name": "Network Segmentation", "external_references": ref("M1030", "mitigations")}
    return bundle(
        matrix(cred, disc), disc, cred, t1046, t1003, t1003_1, old_a, old_b, mit,
        relationship("subtechnique-of", t1003_1, t1003),
        relationship("mitigates", mit, t1046),
        relationship("revoked-by", old_a, old_b),
        relationship("revoked-by", old_b, t1046),
    )


def write(path: Path, doc, *, gz: bool = False) -> Path:
    data = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


SOURCES_TOML = """
[settings]
site_url = ""

[attack]
mirror = "attack/{{domain}}-attack-{{version}}.json"
url_stix20 = "https://example.org/{{domain}}/{{version}}.json"
url_stix21 = "https://example.org/21/{{domain}}/{{version}}.json"
releases = [
{releases}
]
"""


def sources_file(path: Path, releases: list[tuple[str, str]]) -> Path:
    lines = ",\n".join(f'  {{ domain = "{d}", version = "{v}", stix = "2.0" }}' for d, v in releases)
    path.write_text(SOURCES_TOML.format(releases=lines))
    return path
