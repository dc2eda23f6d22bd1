"""Detection parsers, format-aware: text, bytes and edits of small valid rules of each
format give records or the project's own error naming the file (byte-level fuzzing of
real rule files is in test_fuzz_parsers.py)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.core.errors import InputError
from pipeline.ingest.detections import cards, elastic, sigma, splunk
from pipeline.ingest.detections.common import FileContext, SourceInfo
from pipeline.model.detections import Detection, detection_from_dict

CARD = (
    "# T1046 Network Service Scanning\n\nDescription with https://attack.mitre.org/techniques/T1484/001/.\n\n## Query\n\n"
    "```Kusto\n// label\nDeviceNetworkEvents\n| take 1\n```\n\n## Category\n\n"
    "| Technique, tactic, or state | Covered? (v=yes) | Notes |\n|-|-|-|\n"
    "| Discovery | v | https://attack.mitre.org/techniques/T1046/ |\n| Ransomware | V | |"
    "\n\n## Contributor info\n\n**Contributor:**\nAlex\n"
)
SIGMA = """title: Nmap scan
id: 5b0f0b5e-0000-4000-8000-000000000001
status: test
description: Finds nmap.
author: Someone
date: 2024-01-01
tags:
    - attack.t1046
    - attack.discovery
    - attack.g0016
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\nmap.exe'
    condition: selection
level: medium
"""
ELASTIC_RULE = """[rule]
name = "Credential dump"
rule_id = "r-1"
type = "query"
language = "kuery"
query = 'process.name : "procdump.exe"'
description = "Dumps LSASS."
threat = [
  { framework = "MITRE ATT&CK", tactic = { id = "TA0006", name = "Credential Access" }, technique = [{ id = "T1003", name = "OS Credential Dumping", subtechnique = [{ id = "T1003.001", name = "LSASS Memory" }] }] },
]
"""
HUNT = """[hunt]
author = "Elastic"
name = "Hunt"
uuid = "cccc"
language = ["ES|QL"]
mitre = ['T1046']
query = ['FROM logs-* | WHERE x == 1']
"""
SPLUNK = """name: Port Scan
id: dddd
version: 1
author: Someone, Splunk
type: TTP
description: Finds scans.
search: '| tstats count from datamodel=Network_Traffic by $src_ip$ | `port_scan_filter`'
tags:
  mitre_attack_id:
  - T1046
"""


def ctx_for(fmt: str, relpath: str) -> FileContext:
    return FileContext(source=SourceInfo(name="test", source_id="detections/test", format=fmt, license="MIT"), relpath=relpath, file=relpath)


KQL_TXT = "// header https://attack.mitre.org/wiki/Technique/T1135\n// Tags: #a, #b\nDeviceEvents | take 1 // T1016\n"

PARSERS = {
    "card": (cards, "hunting-cards", "Discovery/card.md", CARD),
    "kql-txt": (cards, "hunting-cards", "Discovery/query.txt", KQL_TXT),
    "sigma": (sigma, "sigma-yaml", "rules/x.yml", SIGMA),
    "elastic-rule": (elastic, "elastic-toml", "rules/x.toml", ELASTIC_RULE),
    "elastic-hunt": (elastic, "elastic-toml", "hunting/x.toml", HUNT),
    "splunk": (splunk, "splunk-yaml", "detections/a/x.yml", SPLUNK),
}
SETTINGS = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(kind: str, data: bytes) -> None:
    module, fmt, relpath, _seed = PARSERS[kind]
    ctx = ctx_for(fmt, relpath)
    try:
        records = module.parse(data, ctx)
    except InputError as exc:
        line = exc.one_line()
        assert "\n" not in line and line.startswith(relpath)
        return
    assert isinstance(records, list)
    for record in records:
        assert isinstance(record, Detection)
        assert detection_from_dict(record.as_dict()) == record
    for issue in ctx.issues:
        assert "\n" not in issue.one_line() and issue.file == relpath


@st.composite
def mutated(draw, seed: str) -> bytes:
    """The seed with a few random edits: deletions, insertions, replaced bytes, cut-offs."""
    data = bytearray(seed.encode("utf-8"))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        if op == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from([b"|", b"`", b"```", b"\n", b"#", b":", b"[", b"'''", b'"', b"- ", b"\t", b"&a", b"*a", b"\xff", b"T1046", b"{"]))
        elif op == "replace":
            data[at] = draw(st.integers(0, 255))
        else:
            del data[at:]
    return bytes(data)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@SETTINGS
@given(data=st.data())
def test_mutated_valid_files(kind, data):
    check(kind, data.draw(mutated(PARSERS[kind][3])))


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_the_seeds_themselves_parse(kind):
    module, fmt, relpath, seed = PARSERS[kind]
    ctx = ctx_for(fmt, relpath)
    [record] = module.parse(seed.encode(), ctx)
    assert record.techniques and ctx.issues == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


@SETTINGS
@given(value=JSON)
def test_cache_records_rebuild_only_from_their_own_shape(value):
    try:
        record = detection_from_dict(value)
    except ValueError:
        return
    assert isinstance(record, Detection)
