"""A small, complete mirror written by the STIX tests: one synthetic ATT&CK release, a
NIST table and catalogue, an Azure-style scored table, a KEV table and two Sigma rules,
each exercising one path of the bundles (revoked target, deprecated target, enhancement,
related control, scored capability, CVE, tactic-only rule)."""

from __future__ import annotations

import json
from pathlib import Path

import stix_factory as f

VERSION = "99.0"

SOURCES = """
[[source]]
id = "test/nist"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/nist.json"
mirror = "mappings/nist.json"
framework = "nist_800_53"
framework_version = "rev5"
domain = "enterprise"
attack_version = "99.0"
license = "Apache-2.0"

[[source]]
id = "test/nist-catalog"
kind = "catalog"
format = "nist-controls-tsv"
url = "https://example.org/cat.tsv"
mirror = "mappings/cat.tsv"
framework = "nist_800_53"
framework_version = "rev5"
license = "Apache-2.0"

[[source]]
id = "test/azure"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/azure.json"
mirror = "mappings/azure.json"
framework = "azure"
framework_version = "04/26/2025"
domain = "enterprise"
attack_version = "99.0"
license = "Apache-2.0"

[[source]]
id = "test/kev"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/kev.json"
mirror = "mappings/kev.json"
framework = "kev"
framework_version = "07/28/2025"
domain = "enterprise"
attack_version = "99.0"
license = "Apache-2.0"

[[source]]
id = "detections/sigma"
kind = "detection"
format = "sigma-yaml"
url = "https://example.org/sigma.tar.gz"
mirror = "detections/sigma"
folder = true
license = "DRL-1.1"
"""


def _meta(framework: str, version: str, groups: dict[str, str]) -> dict:
    return {
        "attack_version": VERSION, "technology_domain": "enterprise", "mapping_framework": framework,
        "mapping_framework_version": version, "mapping_types": {}, "capability_groups": groups,
        "creation_date": "01/13/2022", "last_update": "04/16/2025",
    }


def _row(subject: str, technique: str, mapping_type: str, **extra) -> dict:
    return {"capability_id": subject, "attack_object_id": technique, "mapping_type": mapping_type, "status": "complete",
            "references": [], "comments": ""} | extra


def release() -> dict:
    doc = f.small_bundle()
    for obj in doc["objects"]:
        if obj.get("name") == "Network Service Discovery":
            obj["modified"] = "2025-10-24T17:49:31.494Z"
    doc["objects"].append(f.technique("T1040", "Network Sniffing", "credential-access", deprecated=True))
    return doc


def write_mirror(root: Path) -> Path:
    """The mirror under `root/mirror` and its sources file; returns the sources file."""
    mirror = root / "mirror"
    f.write(mirror / "attack" / f"enterprise-attack-{VERSION}.json", release())
    nist = [
        _row("AC-04", "T1046", "mitigates", capability_group="AC", capability_description="Information Flow Enforcement",
             attack_object_name="Network Service Scanning", comments="Filters flows.", references=["https://example.org/ac-4"]),
        _row("AC-2(1)", "T9001", "mitigates", capability_group="AC", attack_object_name="Old A"),
        _row("AC-04", "T1003.001", "mitigates", capability_group="AC", attack_object_name="LSASS Memory"),
        _row("SI-4", "T1040", "mitigates", capability_group="SI", attack_object_name="Network Sniffing"),
        {"capability_id": None, "attack_object_id": "T1003", "mapping_type": None, "status": "non_mappable", "comments": "nothing maps"},
    ]
    azure = [
        _row("azure_firewall", "T1046", "technique_scores", capability_group="azure_firewall", capability_description="Azure Firewall",
             score_category="protect", score_value="partial", comments="Blocks scans.", references=["https://example.org/fw"]),
        _row("azure_firewall", "T1046", "technique_scores", capability_group="azure_firewall", capability_description="Azure Firewall",
             score_category="detect", score_value="minimal", comments="Logs scans."),
    ]
    kev = [
        _row("CVE-2024-0001", "T1046", "exploitation_technique", capability_group="xxe", capability_description="Example XXE Vulnerability",
             comments="Exploited by scanning."),
        _row("CVE-2024-0001", "T1003.001", "primary_impact", capability_group="xxe", capability_description="Example XXE Vulnerability"),
    ]
    tables = {
        "nist.json": (_meta("nist_800_53", "rev5", {"AC": "Access Control", "SI": "System and Information Integrity"}), nist),
        "azure.json": (_meta("azure", "04/26/2025", {"azure_firewall": "Azure Firewall"}), azure),
        "kev.json": (_meta("kev", "07/28/2025", {"xxe": "XML External Entity"}), kev),
    }
    for name, (meta, rows) in tables.items():
        f.write(mirror / "mappings" / name, {"metadata": meta, "mapping_objects": rows})
    (mirror / "mappings" / "cat.tsv").write_text(
        "Control Identifier\tControl (or Control Enhancement) Name\tControl (or Control Enhancement)\tDiscussion\tRelated Controls\n"
        "AC-2\tAccount Management\tManage accounts.\tAccounts matter.\tAC-4\n"
        "AC-2(1)\tAccount Management | Automated System Account Management\tAutomate it.\t\t\n"
        "AC-4\tInformation Flow Enforcement\tEnforce approved authorizations.\tFlows matter.\tAC-2, SC-7\n"
        "SI-4\tSystem Monitoring\tMonitor the system.\t\t\n"
    )
    rules = mirror / "detections" / "sigma" / "rules"
    rules.mkdir(parents=True)
    (rules / "scan.yml").write_text(
        "title: Port Scan\nid: 5a0f6f3e-0000-4000-8000-000000000001\nstatus: test\ndescription: Many ports in a short time.\n"
        "author: Jane Doe\nreferences:\n    - https://example.org/scan\ntags:\n    - attack.discovery\n    - attack.t1046\n    - attack.t9001\n"
        "logsource:\n    category: firewall\ndetection:\n    selection:\n        action: deny\n    condition: selection\nlevel: medium\n"
    )
    (rules / "creds.yml").write_text(
        "title: Credential Tooling\nid: 5a0f6f3e-0000-4000-8000-000000000002\nstatus: experimental\n"
        "tags:\n    - attack.credential-access\n"
        "logsource:\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\\\tool.exe'\n    condition: selection\n"
    )
    sources = f.sources_file(root / "sources.toml", [("enterprise", VERSION)])
    sources.write_text(sources.read_text() + SOURCES)
    return sources


def open_workspace(root: Path):
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    sources = write_mirror(root)
    return Workspace.open(load_config(sources), root / "mirror", VERSION)


def read(path: Path) -> dict:
    return json.loads(path.read_bytes())


def render_stix(ws, out: Path, *, include_attack: bool = False) -> Path:
    """The STIX renderer alone, as `build` runs it; returns `out/stix`."""
    from pipeline.gather import gather
    from pipeline.render.stix import INCLUDE_ATTACK, render

    render(gather(ws, renderers=("stix",), options={INCLUDE_ATTACK: include_attack}), out)
    return out / "stix"


def tree(base: Path) -> dict[str, bytes]:
    """Every file under `base` by relative path, for byte comparisons."""
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}
