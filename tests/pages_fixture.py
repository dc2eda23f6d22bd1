"""A small mirror written by the page tests: one ATT&CK release, one mapping table, a
hunting card and two Sigma rules — one of them hostile (HTML and a `javascript:` link
in its title and description, runs of backticks in its query), as is a mapping
comment — and its sources file."""

from __future__ import annotations

import json
from pathlib import Path

import stix_factory as sf

HOSTILE_TITLE = "Scan <script>alert('title')</script> [x](javascript:alert(1)) | pipe"
HOSTILE_QUERY_LINE = "    CommandLine|contains: 'a ``` b ```` c ` d'"
HOSTILE_ID = "5f0c7a32-3f7e-4d0e-9a4b-000000000001"
PLAIN_ID = "5f0c7a32-3f7e-4d0e-9a4b-000000000002"

T1046_DESCRIPTION = (
    "Adversaries may scan for services, e.g. with <code>nmap -sV &lt;host&gt;</code>.(Citation: Scan Report)\n\n"
    "Related to [OS Credential Dumping](https://attack.mitre.org/techniques/T1003) and "
    "[Mimikatz](https://attack.mitre.org/software/S0002). "
    "Bad: [click](javascript:alert(document.cookie)) <img src=x onerror=alert(2)> {: onclick=alert(3)}(Citation: Other Report)"
)


def bundle() -> dict:
    disc = sf.tactic("TA0007", "discovery", "Discovery")
    cred = sf.tactic("TA0006", "credential-access", "Credential Access")
    t1046 = sf.technique("T1046", "Network Service Discovery", "discovery")
    t1046["description"] = T1046_DESCRIPTION
    t1046["external_references"] = sf.ref("T1046") + [
        {"source_name": "Scan Report", "url": "https://example.org/scan", "description": "Example. (2024). Scan report."},
        {"source_name": "Other Report", "url": "javascript:alert(4)", "description": "A report with a bad URL."},
    ]
    t1046["x_mitre_contributors"] = ["Ada Lovelace", "<b>Mallory</b>"]
    t1003 = sf.technique("T1003", "OS Credential Dumping", "credential-access")
    t1003_1 = sf.technique("T1003.001", "LSASS Memory", "credential-access")
    mit = {
        "type": "course-of-action", "id": sf.sid("course-of-action", "M1030"), "name": "Network Segmentation",
        "external_references": sf.ref("M1030", "mitigations"),
    }
    rel = sf.relationship("mitigates", mit, t1046)
    rel["description"] = "Segment networks | keep <i>scanners</i> out.(Citation: Scan Report)"
    return sf.bundle(
        sf.matrix(disc, cred), disc, cred, t1046, t1003, t1003_1, mit, rel,
        sf.relationship("subtechnique-of", t1003_1, t1003),
    )


def mapex() -> dict:
    def row(cap, desc, tech, name, category, value, comments, refs):
        return {
            "capability_id": cap, "capability_group": cap, "capability_description": desc,
            "attack_object_id": tech, "attack_object_name": name, "mapping_type": "technique_scores",
            "score_category": category, "score_value": value, "comments": comments, "references": refs,
            "status": "complete",
        }

    return {
        "metadata": {
            "attack_version": "18.1", "technology_domain": "enterprise", "mapping_framework": "azure",
            "mapping_framework_version": "06/29/2021", "mapping_types": {"technique_scores": {"description": "scores"}},
            "capability_groups": {},
        },
        "mapping_objects": [
            row("azure_firewall", "Azure Firewall", "T1046", "Network Service Scanning", "protect", "Partial",
                "Filters traffic | <img src=x onerror=alert(5)>\n\nSecond paragraph.", ["https://example.org/fw", "javascript:alert(6)"]),
            row("azure_sentinel", "Azure Sentinel", "T1046", "Network Service Discovery", "detect", "Significant", "", []),
            row("odd id/../x", "A capability with an unsafe id", "T1003.001", "LSASS Memory", "detect", "Minimal", "", []),
        ],
    }


CARD = """# T1046 Network Service Scanning

Scans for services.

---

## Query

```Kusto
// port scanning Alerts
DeviceAlertEvents
| where Title == "Horizontal port scan initiated"
```

## Category

| Technique, tactic, or state | Covered? (v=yes) | Notes |
|-|-|-|
| Discovery | v | https://attack.mitre.org/techniques/T1046/ |
| Vulnerability | v |  |

## See also

## Contributor info

**Contributor:** Grace Hopper
"""


def sigma_rule(rule_id: str, title: str, description: str, line: str) -> str:
    return (
        f"title: \"{title}\"\nid: {rule_id}\nstatus: test\ndescription: \"{description}\"\n"
        "author: Eve <eve@example.org>\ntags:\n    - attack.discovery\n    - attack.t1046\n"
        "logsource:\n    category: process_creation\n    product: windows\n"
        f"detection:\n    selection:\n    {line}\n    condition: selection\nlevel: medium\n"
    )


SOURCES = """
[[source]]
id = "mapex/azure-test/enterprise"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/azure.json"
mirror = "mappings/azure.json"
framework = "azure"
framework_version = "06/29/2021"
domain = "enterprise"
attack_version = "18.1"
license = "Apache-2.0"

[[source]]
id = "detections/cards"
kind = "detection"
format = "hunting-cards"
url = "https://example.org/cards.tar.gz"
mirror = "detections/cards"
folder = true
license = "MIT"

[[source]]
id = "detections/sigma"
kind = "detection"
format = "sigma-yaml"
url = "https://example.org/sigma.tar.gz"
mirror = "detections/sigma"
folder = true
license = "DRL-1.1"
"""


def write_mirror(root: Path) -> Path:
    """The mirror under `root/mirror` and the sources file `root/sources.toml`; returns the latter."""
    mirror = root / "mirror"
    sf.write(mirror / "attack" / "enterprise-attack-18.1.json", bundle())
    (mirror / "mappings").mkdir(parents=True)
    (mirror / "mappings" / "azure.json").write_text(json.dumps(mapex()), encoding="utf-8")
    cards = mirror / "detections" / "cards"
    cards.mkdir(parents=True)
    (cards / "T1046 Network Service Scanning.md").write_text(CARD, encoding="utf-8")
    rules = mirror / "detections" / "sigma" / "rules"
    rules.mkdir(parents=True)
    (rules / "hostile.yml").write_text(
        sigma_rule(HOSTILE_ID, HOSTILE_TITLE.replace('"', '\\"'), "Bad [link](javascript:alert(7)) and <iframe src=x>", HOSTILE_QUERY_LINE),
        encoding="utf-8",
    )
    (rules / "plain.yml").write_text(sigma_rule(PLAIN_ID, "Port scan tool", "Detects a scanner.", "    Image|endswith: '\\\\nmap.exe'"), encoding="utf-8")
    sources = sf.sources_file(root / "sources.toml", [("enterprise", "18.1")])
    with sources.open("a", encoding="utf-8") as fh:
        fh.write(SOURCES)
    return sources
