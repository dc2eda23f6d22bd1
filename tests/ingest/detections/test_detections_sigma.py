"""Sigma rules: the real corpus, tag handling, and files that are not rules."""

from __future__ import annotations

import re

import pytest

from pipeline.core.errors import InputError
from pipeline.ingest.detections import sigma
from pipeline.ingest.detections.corpus import load_source

from detection_helpers import corpus_files, ctx_for, source_for, write

TECHNIQUE_TAG = re.compile(r"^\s*-\s*attack\.t\d{4}(\.\d{3})?\s*(#.*)?$", re.M)
T1046_TAG = re.compile(r"^\s*-\s*attack\.t1046\s*(#.*)?$", re.M)

RULE = """title: Test rule
id: 11111111-2222-3333-4444-555555555555
status: test
description: Finds things.
references:
    - https://example.org/a
author: Jane Doe, John Roe
tags:
{tags}
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\\\nmap.exe'
    condition: selection
level: medium
"""


def parse(text: str | bytes, relpath: str = "rules/windows/x.yml"):
    ctx = ctx_for("sigma-yaml", relpath, name="sigma")
    data = text.encode("utf-8") if isinstance(text, str) else text
    return sigma.parse(data, ctx), ctx.issues


def rule(*tags: str) -> str:
    return RULE.format(tags="\n".join(f"    - {t}" for t in tags))


@pytest.mark.realdata
def test_every_rule_file_is_one_record_and_technique_counts_match(mirror, by_source):
    root = mirror / "detections" / "sigma"
    files = corpus_files(root, (".yml", ".yaml"))
    got = {d.path: d for d in by_source["sigma"]}
    assert sorted(got) == sorted(p.relative_to(root).as_posix() for p in files)
    with_technique = {p.relative_to(root).as_posix() for p in files if TECHNIQUE_TAG.search(p.read_text())}
    assert {path for path, d in got.items() if d.techniques} == with_technique


@pytest.mark.realdata
def test_t1046_rules_in_every_folder_with_deprecated_and_unsupported_flagged(mirror, by_source):
    root = mirror / "detections" / "sigma"
    tagged = {p.relative_to(root).as_posix() for p in corpus_files(root, (".yml",)) if T1046_TAG.search(p.read_text())}
    got = {d.path: d for d in by_source["sigma"] if "T1046" in d.technique_ids}
    assert set(got) == tagged
    assert len(tagged) == 22  # README of the mirror: 22 across all folders …
    assert sum(1 for p in tagged if p.startswith("rules/")) == 19  # … 19 under rules/
    assert {d.collection for d in got.values()} == {"rules", "rules-emerging-threats", "unsupported"}
    for d in got.values():
        assert ("unsupported" in d.flags) == (d.collection == "unsupported")
        assert [q.language for q in d.queries] == ["sigma"]
        assert d.queries[0].text == (root / d.path).read_text().strip("\n")
    assert all(d.id == f"sigma:{d.native_id}" for d in got.values())


@pytest.mark.realdata
def test_deprecated_folder_is_flagged_not_dropped(mirror, by_source):
    root = mirror / "detections" / "sigma" / "deprecated"
    deprecated = [d for d in by_source["sigma"] if d.collection == "deprecated"]
    assert len(deprecated) == len(corpus_files(root, (".yml", ".yaml")))
    assert all("deprecated" in d.flags for d in deprecated)


def test_tags_techniques_tactics_groups_software():
    [d], issues = parse(
        rule(
            "attack.privilege-escalation", "attack.privilege_escalation", "attack.stealth", "attack.t1046",
            "attack.t1003.001", "attack.g0016", "attack.s0154", "attack.ds0005", "cve.2021-44228", "detection.threat-hunting",
        )
    )
    assert issues == []
    assert [(t.attack_id, t.how) for t in d.techniques] == [("T1046", "tag"), ("T1003.001", "tag")]
    assert [t.shortname for t in d.tactics] == ["privilege-escalation", "stealth"]
    assert d.attack_objects == ("G0016", "S0154", "DS0005")
    assert d.tags == ("cve.2021-44228", "detection.threat-hunting")
    assert d.authors == ("Jane Doe", "John Roe")
    assert (d.status, d.severity, d.data_sources) == ("test", "medium", ("product:windows category:process_creation",))
    assert d.id == "sigma:11111111-2222-3333-4444-555555555555"


def test_unknown_attack_tag_is_a_warning_and_kept():
    [d], issues = parse(rule("attack.t10466", "attack.discovery"))
    assert [i.code for i in issues] == ["sigma-unknown-tag"]
    assert "attack.t10466" in issues[0].one_line() and "Test rule" in issues[0].one_line()
    assert d.tags == ("attack.t10466",)


def test_multi_document_rule_is_one_record():
    text = rule("attack.t1543.003") + "---\nlogsource:\n    product: windows\n    service: system\ndetection:\n    s: {EventID: 7045}\n"
    [d], _ = parse(text)
    assert d.data_sources == ("product:windows category:process_creation", "product:windows service:system")


@pytest.mark.parametrize(
    "data, message",
    [
        ("- just\n- a list\n", "must be a YAML mapping, not a list"),
        ("title: [unclosed\n", "not valid YAML"),
        (b"title: caf\xe9\n", "not valid UTF-8"),
        ("", "empty YAML file"),
        ("title: x\nid: y\n" + "#" * (3 * 1024 * 1024), "over the"),
        # libyaml recurses in C: this deep a flow sequence would crash the interpreter.
        ("title: x\nid: y\nq: ']]]]'\ntags: " + "[ " * 60000 + "]" * 60000, "nested more than 1,000 levels deep"),
        ("a: &a [1,2]\nb: &b [*a,*a]\nc: &c [*b,*b]\ntitle: *c\nid: bomb\n", None),
    ],
)
def test_bad_files_raise_one_line_input_errors(data, message):
    if message is None:
        # An alias bomb loads as shared references and its title is not text: one record, no blow-up.
        [d], issues = parse(data)
        assert d.title == "bomb" and [i.code for i in issues] == ["sigma-no-title"]
        return
    with pytest.raises(InputError) as err:
        parse(data)
    line = err.value.one_line()
    assert message in line and "\n" not in line and line.startswith("rules/windows/x.yml")


def test_billion_laughs_is_refused_in_no_time():
    """The alias-expansion limit (yaml_max_nodes) refuses it before any object is built
    (a few MB of Python memory, not the billion strings)."""
    import tracemalloc

    levels = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
    for n in range(1, 10):
        prev, cur = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(levels) + "\ntitle: Laughs\nid: bomb\ntags: *j\ndescription: *j\n"
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as err:
            parse(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000
    assert err.value.one_line().startswith("rules/windows/x.yml: YAML document expands to more than 100,000 nodes through aliases")


def test_yaml_error_names_the_line():
    with pytest.raises(InputError) as err:
        parse("title: ok\nid: x\ntags:\n  - a\n b: c\n")
    assert err.value.record == "line 5"


def test_rule_without_id_gets_a_path_hash_and_a_warning():
    [d], issues = parse(rule("attack.t1046").replace("id: 11111111-2222-3333-4444-555555555555\n", ""))
    assert d.native_id and d.id == f"sigma:{d.native_id}"
    assert [i.code for i in issues] == ["sigma-no-id"]


def test_bad_files_are_reported_and_the_rest_loads(tmp_path):
    root = tmp_path / "sigma"
    write(root, "rules/good.yml", rule("attack.t1046"))
    write(root, "rules/list.yml", "- not\n- a mapping\n")
    write(root, "rules/broken.yml", "title: [x\n")
    write(root, "deprecated/old.yml", rule("attack.t1046").replace("1111", "9999"))
    load = load_source(source_for("sigma-yaml", "sigma"), root, cache_dir=None)
    assert sorted(d.path for d in load.detections) == ["deprecated/old.yml", "rules/good.yml"]
    assert {i.code for i in load.issues} == {"detection-file-skipped"}
    assert sorted(i.file.rsplit("/", 1)[-1] for i in load.issues) == ["broken.yml", "list.yml"]
    assert [d.flags for d in load.detections] == [("deprecated",), ()]
