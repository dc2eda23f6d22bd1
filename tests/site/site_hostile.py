"""A small hostile mirror written by the site tests: one ATT&CK release whose technique
and tactic text, mapping comments and ids, and detection titles, descriptions, queries
and ids carry HTML, `<script>`, `javascript:` links, Jinja `{{ }}`, table-breaking
pipes and newlines, and `../`, absolute paths and NUL in ids; plus its sources file.

Besides markup that runs where it stands, the text carries markup that first closes the
element it may be printed in: `</title>` (inside `<title>` a plain `<script>` is inert
text, so only a title that ends the element early runs anything), `</textarea>`,
`</style>`, and `"` and `'` that end an attribute value. Every smuggled script sets
`window.__pwned` or `window.PWNED`, or opens a dialog."""

from __future__ import annotations

import json
from pathlib import Path

import stix_factory as sf

# Every script the fixture smuggles sets this flag or opens a dialog; a page that ran
# one is a failed test.
SCRIPT = "window.__pwned=1;alert(1)"
# Ends the element or attribute the text sits in, then runs a script.
BREAKOUT = (
    "</title><img src=x onerror=alert(document.domain)><script>window.PWNED=1</script><title> "
    "</textarea><img src=x onerror=\"window.PWNED=1\"> </style><img src=x onerror=\"window.PWNED=1\"> "
    "\" onmouseover=\"window.PWNED=1\" autofocus onfocus=\"window.PWNED=1\" x=\" "
    "' onmouseover='window.PWNED=1' autofocus onfocus='window.PWNED=1' x='"
)
HTML = f"<script>{SCRIPT}</script><img src=x onerror=\"{SCRIPT}\"><svg onload=\"{SCRIPT}\"> {BREAKOUT}"
# A rule title that is nothing but a title breakout.
TITLE_BREAK = "Pwn </title><img src=x onerror=alert(document.domain)><script>window.PWNED=1</script><title>"
MD_LINK = "[click me](javascript:window.__pwned=1) [ref][r]\n\n[r]: javascript:window.__pwned=1"
JINJA = "{{ 7*7 }} {% raw %}{{ config }}{% endraw %} {# c #}"
PIPES = "a | b || c\n| x | y |\n|-|-|\nnew\nline"
TEXT = f"Hostile {HTML} {MD_LINK} {JINJA} {PIPES} `code` <a href=\"javascript:window.__pwned=1\">a</a> {{: onclick=\"{SCRIPT}\"}}"
BAD_IDS = [
    "../../../escape-map", "/tmp/absolute-map", "nul\x00id", "..", "id<script>x</script>", "javascript:alert(1)",
    "</title><script>window.PWNED=1</script>", "\" onmouseover=\"window.PWNED=1", "' autofocus onfocus='window.PWNED=1",
]
GROUP_ID = "G9999"
GROUP_NAME = f"Crew {TITLE_BREAK}"
T1018_NAME = f"Remote System Discovery {HTML}"
SIGMA_IDS = ["../../../../escape-rule", "/tmp/absolute-rule", "rule\x00nul", "</title><script>window.PWNED=1</script>"]


def bundle() -> dict:
    disc = sf.tactic("TA0007", "discovery", "Discovery")
    disc["description"] = TEXT
    t1046 = sf.technique("T1046", "Network Service Discovery", "discovery")
    t1046["description"] = TEXT
    t1046["x_mitre_contributors"] = [HTML, "{{ 7*7 }}"]
    t1018 = sf.technique("T1018", T1018_NAME, "discovery")
    mit = {
        "type": "course-of-action", "id": sf.sid("course-of-action", "M1030"), "name": f"Segmentation {HTML}",
        "description": TEXT, "external_references": sf.ref("M1030", "mitigations"),
    }
    rel = sf.relationship("mitigates", mit, t1046)
    rel["description"] = TEXT
    # A group whose name breaks out of a title: its page, its heatmap and the layer of
    # what it uses carry it.
    group = {
        "type": "intrusion-set", "id": sf.sid("intrusion-set", GROUP_ID), "name": GROUP_NAME,
        "description": TEXT, "aliases": [GROUP_NAME, HTML], "external_references": sf.ref(GROUP_ID, "groups"),
    }
    uses = sf.relationship("uses", group, t1018)
    uses["description"] = TEXT
    return sf.bundle(sf.matrix(disc), disc, t1046, t1018, mit, rel, group, uses)


def mapex() -> dict:
    def row(cap: str, tech: str) -> dict:
        return {
            "capability_id": cap, "capability_group": cap, "capability_description": f"Capability {HTML} {PIPES}",
            "attack_object_id": tech, "attack_object_name": f"Name {HTML}", "mapping_type": "technique_scores",
            "score_category": "protect", "score_value": "Partial", "comments": TEXT,
            "references": ["javascript:window.__pwned=1", "https://example.org/ok", f"https://example.org/\" onmouseover=\"{SCRIPT}"],
            "status": "complete",
        }

    return {
        "metadata": {
            "attack_version": "18.1", "technology_domain": "enterprise", "mapping_framework": "azure",
            "mapping_framework_version": "06/29/2021", "mapping_types": {"technique_scores": {"description": "scores"}},
            "capability_groups": {},
        },
        "mapping_objects": [row(cap, "T1046") for cap in BAD_IDS + ["azure_firewall"]] + [row("azure_sentinel", "T1018")],
    }


CARD = f"""# T1046 Network Service Scanning {HTML}

{TEXT}

---

## Query

```Kusto
// {HTML}
DeviceNetworkEvents | where RemoteUrl == "javascript:window.__pwned=1" // {{{{ 7*7 }}}}
```
</code></pre><script>{SCRIPT}</script>

## Category

| Technique, tactic, or state | Covered? (v=yes) | Notes |
|-|-|-|
| Discovery | v | {HTML} |

## See also

{MD_LINK}

## Contributor info

**Contributor:** {HTML}
"""


def sigma_rule(rule_id: str, title: str) -> str:
    doc = {
        "title": title, "id": rule_id, "status": "test", "description": TEXT, "author": HTML,
        "references": ["javascript:window.__pwned=1"],
        "tags": ["attack.discovery", "attack.t1046"],
        "logsource": {"category": "process_creation", "product": "windows"},
        "detection": {"selection": {"CommandLine|contains": [f"``` {HTML} ```", "</code></pre><script>window.__pwned=1</script>"]}, "condition": "selection"},
        "level": "medium",
    }
    return json.dumps(doc)  # JSON is YAML, and it carries NUL and newlines escaped


# (id, kind, format, mirror path, extra keys) of the fixture's sources.
SOURCES = [
    ("mapex/azure-test/enterprise", "mapping", "mapex-json", "mappings/azure.json",
     {"framework": "azure", "framework_version": "06/29/2021", "domain": "enterprise", "attack_version": "18.1", "license": "Apache-2.0"}),
    ("detections/cards", "detection", "hunting-cards", "detections/cards", {"folder": True, "license": "MIT"}),
    ("detections/sigma", "detection", "sigma-yaml", "detections/sigma", {"folder": True, "license": "DRL-1.1"}),
]


def sources_toml() -> str:
    out = []
    for sid, kind, fmt, path, extra in SOURCES:
        keys = {"id": sid, "kind": kind, "format": fmt, "url": f"https://example.org/{path}", "mirror": path, **extra}
        out.append("[[source]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items()))
    return "\n" + "\n".join(out)


def write_mirror(root: Path, site_url: str = "") -> Path:
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
    for n, rid in enumerate(SIGMA_IDS):
        (rules / f"hostile{n}.yml").write_text(sigma_rule(rid, f"Scan {HTML} {MD_LINK} {JINJA} | {n}"), encoding="utf-8")
    (rules / "title.yml").write_text(sigma_rule("5d0c1b7e-0000-4000-8000-000000000001", TITLE_BREAK), encoding="utf-8")
    sources = sf.sources_file(root / "sources.toml", [("enterprise", "18.1")])
    text = sources.read_text(encoding="utf-8").replace('site_url = ""', f'site_url = "{site_url}"')
    sources.write_text(text + sources_toml(), encoding="utf-8")
    return sources


def build(root: Path, site_url: str = "") -> Path:
    """The whole build of the hostile mirror under `root/out`."""
    from pipeline.build import build as run_build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    sources = write_mirror(root, site_url)
    ws = Workspace.open(load_config(sources), root / "mirror")
    out = root / "out"
    run_build(ws, out)
    return out
