"""Elastic detection-rules TOML and Splunk security_content YAML."""

from __future__ import annotations

import re

import pytest

from pipeline.core.errors import InputError
from pipeline.ingest.detections import elastic, splunk
from pipeline.ingest.detections.corpus import load_source

from detection_helpers import corpus_files, ctx_for, source_for, write

ELASTIC_TECHNIQUE = re.compile(r"""^\s*id = "T\d{4}(\.\d{3})?"|^mitre = \[[^\]]*["']T\d{4}""", re.M)
ELASTIC_T1046 = re.compile(r"""^\s*id = "T1046"|^mitre = \[[^\]]*["']T1046["']""", re.M)
SPLUNK_TECHNIQUE = re.compile(r"^  mitre_attack_id:\n  - T\d{4}", re.M)
SPLUNK_T1046 = re.compile(r"^  mitre_attack_id:\n(  - T[\d.]+\n)*  - T1046\n", re.M)

RULE = '''[metadata]
maturity = "production"

[rule]
author = ["Elastic"]
description = "Finds scans."
language = "eql"
name = "Scan"
rule_id = "aaaa-bbbb"
severity = "medium"
tags = ["Data Source: Elastic Defend", "Tactic: Discovery", "OS: Linux"]
type = "eql"
query = """
process where process.name == "nmap"
"""

[[rule.threat]]
framework = "MITRE ATT&CK"

[[rule.threat.technique]]
id = "T1046"
name = "Network Service Discovery"

[[rule.threat.technique]]
id = "T1003"
name = "OS Credential Dumping"

[[rule.threat.technique.subtechnique]]
id = "T1003.001"
name = "LSASS Memory"

[rule.threat.tactic]
id = "TA0007"
name = "Discovery"
'''

HUNT = """[hunt]
author = "Elastic"
name = "Hunt"
uuid = "cccc"
language = ["ES|QL", "SQL"]
mitre = ['T1046', "AML.T0051"]
query = [
'''
FROM logs-* | WHERE x == 1
''',
'''
SELECT * FROM processes;
'''
]
"""

SPLUNK = """name: Port Scan
id: dddd
version: 1
author: Dean Luxton, Splunk
status: production
type: TTP
data_source:
- Sysmon EventID 3
description: Finds scans.
search: '| tstats `security_content_summariesonly` count from datamodel=Network_Traffic by $src_ip$ | `port_scan_filter`'
references: []
tags:
  analytic_story:
  - Network Discovery
  mitre_attack_id:
  - T1046
  security_domain: network
"""


def parse_elastic(text: str, relpath: str = "rules/network/x.toml"):
    ctx = ctx_for("elastic-toml", relpath, name="elastic")
    return elastic.parse(text.encode(), ctx), ctx.issues


def parse_splunk(text: str, relpath: str = "detections/network/x.yml"):
    ctx = ctx_for("splunk-yaml", relpath, name="splunk")
    return splunk.parse(text.encode(), ctx), ctx.issues


@pytest.mark.realdata
def test_elastic_counts_match_an_independent_count(mirror, by_source):
    root = mirror / "detections" / "elastic-detection-rules"
    files = corpus_files(root, (".toml",), ("rules", "rules_building_block", "hunting"))
    got = {d.path: d for d in by_source["elastic"]}
    assert len(by_source["elastic"]) == len(files)
    assert sorted(got) == sorted(p.relative_to(root).as_posix() for p in files)
    named = {p.relative_to(root).as_posix() for p in files if ELASTIC_TECHNIQUE.search(p.read_text())}
    assert {path for path, d in got.items() if d.techniques} == named
    t1046 = {p.relative_to(root).as_posix() for p in files if ELASTIC_T1046.search(p.read_text())}
    assert t1046 and {path for path, d in got.items() if "T1046" in d.technique_ids} == t1046
    deprecated = {p.relative_to(root).as_posix() for p in files if "/_deprecated/" in p.as_posix()}
    assert deprecated and deprecated <= {path for path, d in got.items() if d.deprecated}
    ml = [d for d in got.values() if d.queries and d.queries[0].language == "machine-learning"]
    assert len(ml) == sum(1 for p in files if re.search(r'^type = "machine_learning"', p.read_text(), re.M))
    assert all(q.text == "" and q.label for d in ml for q in d.queries)


@pytest.mark.realdata
def test_elastic_files_read_as_the_standard_library_reads_them(mirror):
    """The compiled tomli the parser uses gives every real rule file the values
    Python's own tomllib gives it."""
    import tomllib

    import tomli

    root = mirror / "detections" / "elastic-detection-rules"
    files = corpus_files(root, (".toml",), ("rules", "rules_building_block", "hunting"))
    assert len(files) > 2000
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert tomli.loads(text) == tomllib.loads(text), path


@pytest.mark.realdata
def test_splunk_counts_match_an_independent_count(mirror, by_source):
    root = mirror / "detections" / "splunk-security_content"
    files = corpus_files(root / "detections", (".yml",))
    got = {d.path: d for d in by_source["splunk"]}
    assert sorted(got) == sorted(p.relative_to(root).as_posix() for p in files)
    named = {p.relative_to(root).as_posix() for p in files if SPLUNK_TECHNIQUE.search(p.read_text())}
    assert {path for path, d in got.items() if d.techniques} == named
    t1046 = {p.relative_to(root).as_posix() for p in files if SPLUNK_T1046.search(p.read_text())}
    assert t1046 and {path for path, d in got.items() if "T1046" in d.technique_ids} == t1046
    macros = [d for d in got.values() if "`" in d.queries[0].text and "$" in d.queries[0].text]
    assert macros  # SPL with macros and $field$ tokens, as written
    assert all(d.queries[0].language == "spl" for d in got.values())
    assert {d.collection for d in got.values() if d.deprecated} == {"deprecated"}


def test_elastic_rule_threat_blocks():
    [d], issues = parse_elastic(RULE)
    assert issues == []
    assert [(t.attack_id, t.how) for t in d.techniques] == [("T1046", "field"), ("T1003", "field"), ("T1003.001", "field")]
    assert [(t.shortname, t.attack_id) for t in d.tactics] == [("discovery", "TA0007")]
    assert d.queries[0].language == "eql" and d.queries[0].text == 'process where process.name == "nmap"'
    assert d.data_sources == ("Elastic Defend",)
    assert d.tags == ("OS: Linux",)
    assert (d.id, d.status, d.severity) == ("elastic:aaaa-bbbb", "production", "medium")


def test_elastic_hunting_file_with_two_languages():
    [d], issues = parse_elastic(HUNT, "hunting/linux/queries/x.toml")
    assert issues == []
    assert [q.language for q in d.queries] == ["esql", "sql"]
    assert [t.attack_id for t in d.techniques] == ["T1046"]
    assert d.tags == ("atlas:AML.T0051",)
    assert d.collection == "hunting"


def test_elastic_machine_learning_rule_has_no_query_text():
    text = RULE.replace('type = "eql"', 'type = "machine_learning"\nmachine_learning_job_id = ["high_count_network_denies"]')
    text = re.sub(r'query = """.*?"""\n', "", text, flags=re.S).replace('language = "eql"\n', "")
    [d], issues = parse_elastic(text)
    assert issues == []
    assert [(q.language, q.text, q.label) for q in d.queries] == [("machine-learning", "", "high_count_network_denies")]


def test_toml_syntax_error_names_the_line():
    with pytest.raises(InputError) as err:
        parse_elastic(RULE.replace('name = "Scan"', 'name = "Scan'))
    assert err.value.record == "line 8"
    assert err.value.one_line().startswith("rules/network/x.toml: line 8: not valid TOML")


def test_deeply_nested_toml_is_refused():
    with pytest.raises(InputError) as err:
        parse_elastic("[rule]\nname = " + "[" * 100000 + "]" * 100000)
    assert err.value.one_line() == "rules/network/x.toml: TOML nesting too deep; skipped"


def test_splunk_search_is_kept_as_written():
    [d], issues = parse_splunk(SPLUNK)
    assert issues == []
    assert d.queries[0].text == "| tstats `security_content_summariesonly` count from datamodel=Network_Traffic by $src_ip$ | `port_scan_filter`"
    assert [(t.attack_id, t.how) for t in d.techniques] == [("T1046", "field")]
    assert d.authors == ("Dean Luxton", "Splunk")
    assert d.tags == ("type:TTP", "analytic_story:Network Discovery", "security_domain:network")
    assert d.data_sources == ("Sysmon EventID 3",)


def test_bad_elastic_and_splunk_files_are_reported_and_the_rest_loads(tmp_path):
    root = tmp_path / "elastic"
    write(root, "rules/good.toml", RULE)
    write(root, "rules/broken.toml", RULE.replace("[rule]", "[rule"))
    write(root, "rules/neither.toml", "[other]\nx = 1\n")
    write(root, "docs/ignored.toml", "not read at all [")
    load = load_source(source_for("elastic-toml", "elastic"), root, cache_dir=None)
    assert [d.path for d in load.detections] == ["rules/good.toml"]
    assert sorted((i.file.rsplit("/", 1)[-1], i.record) for i in load.issues) == [("broken.toml", "line 4"), ("neither.toml", None)]

    root = tmp_path / "splunk"
    write(root, "detections/a/good.yml", SPLUNK)
    write(root, "detections/a/scalar.yml", "just a string\n")
    write(root, "macros/m.yml", "definition: x\nname: m\n")
    load = load_source(source_for("splunk-yaml", "splunk"), root, cache_dir=None)
    assert [d.path for d in load.detections] == ["detections/a/good.yml"]
    assert [i.one_line() for i in load.issues] == [
        f"{root}/detections/a/scalar.yml: document 1: a Splunk detection must be a YAML mapping, not a str; skipped"
    ]
