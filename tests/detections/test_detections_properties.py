"""Property tests: on any input, every parser gives records or the project's own error."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline.errors import InputError
from pipeline.ingest.detections import cards, elastic, sigma, splunk
from pipeline.model_detections import Detection, detection_from_dict

from detection_helpers import ctx_for
from test_detections_cards import table
from test_detections_elastic_splunk import HUNT, RULE as ELASTIC_RULE, SPLUNK
from test_detections_sigma import rule as sigma_rule

CARD = (
    "# T1046 Network Service Scanning\n\nDescription with https://attack.mitre.org/techniques/T1484/001/.\n\n## Query\n\n"
    "```Kusto\n// label\nDeviceNetworkEvents\n| take 1\n```\n\n## Category\n\n"
    + table(["| Discovery | v | https://attack.mitre.org/techniques/T1046/ |", "| Ransomware | V | |"])
    + "\n\n## Contributor info\n\n**Contributor:**\nAlex\n"
)
KQL_TXT = "// header https://attack.mitre.org/wiki/Technique/T1135\n// Tags: #a, #b\nDeviceEvents | take 1 // T1016\n"

PARSERS = {
    "card": (cards, "hunting-cards", "Discovery/card.md", CARD),
    "kql-txt": (cards, "hunting-cards", "Discovery/query.txt", KQL_TXT),
    "sigma": (sigma, "sigma-yaml", "rules/x.yml", sigma_rule("attack.t1046", "attack.discovery", "attack.g0016")),
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
@given(text=st.text(max_size=400))
def test_arbitrary_text(kind, text):
    check(kind, text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("kind", sorted(PARSERS))
@SETTINGS
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(kind, data):
    check(kind, data)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@SETTINGS
@given(data=st.data())
def test_mutated_valid_files(kind, data):
    check(kind, data.draw(mutated(PARSERS[kind][3])))


# Real files of each corpus, mutated the same way (read from the mirror when present).
REAL = {
    "card": "cards/T1046 Network Service Scanning.md",
    "kql-txt": "m365-hunting-queries/Command and Control/Tor.txt",
    "sigma": "sigma/rules/windows/process_creation/proc_creation_win_pua_nmap_zenmap.yml",
    "elastic-rule": "elastic-detection-rules/rules/cross-platform/command_and_control_suricata_elastic_defend_c2.toml",
    "splunk": "splunk-security_content/detections/network/internal_horizontal_port_scan.yml",
}


@pytest.mark.realdata
@pytest.mark.parametrize("kind", sorted(REAL))
@SETTINGS
@given(data=st.data())
def test_mutated_real_files(kind, data, mirror):
    text = (mirror / "detections" / REAL[kind]).read_text(encoding="utf-8")
    check(kind, data.draw(mutated(text)))


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
