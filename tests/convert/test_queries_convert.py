"""Sigma → queries with pySigma: one rule, the reasons, the cache, the settings, and
hostile rules (hypothesis, fixed seed) that must fail alone."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from pipeline.convert.run import QueryCache, convert_rules, rule_key
from pipeline.convert.sigma import convert, convert_all, reason_of
from pipeline.convert.targets import TARGETS, target

RULE = """title: Nmap run
id: 0b3f0a0e-1111-4222-8333-444455556666
status: test
level: medium
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\\\nmap.exe'
        CommandLine|contains|all:
            - ' -sV '
            - ' -p'
    condition: selection
"""

CORRELATION = """title: Many nmap runs
id: 0b3f0a0e-1111-4222-8333-444455556667
correlation:
    type: event_count
    rules:
        - 0b3f0a0e-1111-4222-8333-444455556666
    group-by:
        - ComputerName
    timespan: 5m
    condition:
        gte: 10
"""


def pysigma(text: str, language: str) -> list[str]:
    """The same conversion through pySigma's own YAML entry point and a fresh backend."""
    from sigma.collection import SigmaCollection

    return target(language).backend().convert(SigmaCollection.from_yaml(text))


@pytest.mark.parametrize("language", sorted(TARGETS))
def test_a_rule_converts_as_pysigma_converts_it(language):
    got = convert(RULE, target(language).backend())
    assert got == {"queries": pysigma(RULE, language)}


def test_kusto_of_defender_xdr_names_the_table_first():
    (query,) = convert(RULE, target("kusto").backend())["queries"]
    assert query.split("\n")[0] == "DeviceProcessEvents"
    assert 'FolderPath endswith "\\\\nmap.exe"' in query


def test_a_rule_the_backend_refuses_has_its_reason():
    no_table = RULE.replace("category: process_creation", "category: no_such_category")
    got = convert(no_table, target("kusto").backend())
    assert got["reason"] == "SigmaTransformationError: Unable to determine table name from rule"
    assert got["detail"].startswith("Unable to determine table name from rule.")
    pipe = RULE.replace("condition: selection", "condition: selection | count() by Image > 5")
    assert convert(pipe, target("splunk").backend())["reason"].startswith("SigmaConditionError: The pipe syntax in Sigma conditions has been deprecated")


def test_a_correlation_rule_alone_is_not_a_query():
    got = convert(CORRELATION, target("kusto").backend())
    assert "reason" in got and got["reason"]


def test_reasons_fold_the_rule_s_own_names():
    class E(Exception):
        pass

    assert reason_of(E("Invalid SigmaDetectionItem field name encountered: Signed"))[0] == "E: Invalid SigmaDetectionItem field name encountered: …"
    assert reason_of(E("Expected end of text, found 'x'  (at char 5), (line:1, col:6)"))[0] == "E: Expected end of text, found '…'"
    assert reason_of(E("Sigma type 'SigmaRegularExpression' can't be converted. More text\nsecond line")) == (
        "E: Sigma type '…' can't be converted",
        "Sigma type 'SigmaRegularExpression' can't be converted. More text",
    )


def test_second_run_converts_nothing_and_a_damaged_cache_is_ignored(tmp_path):
    rules = {"sigma:a": RULE, "sigma:b": RULE.replace("nmap", "masscan"), "sigma:c": CORRELATION}
    first = convert_rules(rules, ["kusto", "splunk"], cache_dir=tmp_path, jobs=1)
    assert (first.converted, first.cached) == (6, 0)
    again = convert_rules(rules, ["kusto", "splunk"], cache_dir=tmp_path, jobs=1)
    assert (again.converted, again.cached) == (0, 6)
    assert again.by_detection == first.by_detection
    # A changed rule is converted again, alone.
    rules["sigma:b"] = RULE.replace("nmap", "zmap")
    third = convert_rules(rules, ["kusto"], cache_dir=tmp_path, jobs=1)
    assert (third.converted, third.cached) == (1, 2)
    # Planted entries of the wrong shape are not results.
    path = tmp_path / "queries-kusto.json"
    doc = orjson.loads(path.read_bytes())
    doc["entries"][rule_key(RULE)] = {"queries": [1, 2]}
    path.write_bytes(orjson.dumps(doc))
    assert QueryCache(tmp_path, target("kusto")).get(rule_key(RULE)) is None
    fourth = convert_rules(rules, ["kusto"], cache_dir=tmp_path, jobs=1)
    assert fourth.converted == 1 and fourth.by_detection["sigma:a"] == first.by_detection["sigma:a"][:1]


def test_conversions_made_beside_the_parse_are_taken_not_made_again(tmp_path, monkeypatch):
    from pipeline.convert import run
    from pipeline.convert.run import convert_records
    from pipeline.ingest.detections.common import FileContext, SourceInfo
    from pipeline.ingest.detections.sigma import parse

    # As the build gives them (`sigma_texts`): each rule's text as its record holds it.
    rules = {"sigma:a": RULE.strip("\n"), "sigma:b": RULE.replace("nmap", "masscan").replace("6666", "7777").strip("\n")}
    ctx = FileContext(source=SourceInfo(name="sigma", source_id="detections/sigma", format="sigma-yaml", license="MIT"), relpath="r.yml", file="r.yml")
    records = [d for text in rules.values() for d in parse(text.encode(), ctx)]
    made = convert_records(("kusto",), run.DEFAULT, records)
    assert made == {"kusto": {rule_key(text): convert(text, target("kusto").backend()) for text in rules.values()}}
    plain = convert_rules(rules, ["kusto"], cache_dir=None, jobs=1)
    converted: list = []
    monkeypatch.setattr(run, "convert_all", lambda texts, *a: converted.extend(texts) or [convert(t, target("kusto").backend()) for t in texts])
    made["kusto"][rule_key(rules["sigma:b"])] = {"queries": [1]}  # not an entry: converted here
    got = convert_rules(rules, ["kusto"], cache_dir=tmp_path, jobs=1, converted=made)
    assert got.by_detection == plain.by_detection and (got.converted, got.cached) == (2, 0)
    assert converted == [rules["sigma:b"]]
    again = convert_rules(rules, ["kusto"], cache_dir=tmp_path, jobs=1)  # what was taken is in the cache
    assert (again.converted, again.cached) == (0, 2)


def test_counts_account_for_every_rule(tmp_path):
    rules = {"sigma:a": RULE, "sigma:c": CORRELATION, "sigma:d": "title: [unclosed"}
    found = convert_rules(rules, ["kusto"], cache_dir=None, jobs=1)
    counts = found.counts()["kusto"]
    assert counts["rules"] == 3 == counts["converted"] + sum(counts["not_converted"].values())
    assert counts["converted"] == 1


def test_query_languages_setting(tmp_path):
    from pipeline.core.config import load_config
    from pipeline.core.errors import ConfigError

    base = '[attack]\nmirror = "a/{domain}-{version}.json"\nurl_stix20 = "https://x/{version}"\nurl_stix21 = "https://x/{version}"\nreleases = [{ domain = "enterprise", version = "18.1", stix = "2.0" }]\n'
    path = tmp_path / "sources.toml"
    path.write_text(base, encoding="utf-8")
    assert load_config(path).query_languages == ("kusto",)
    path.write_text('[settings]\nquery_languages = ["splunk", "esql"]\n' + base, encoding="utf-8")
    assert load_config(path).query_languages == ("splunk", "esql")
    for bad, words in (('["kql"]', "unknown query language 'kql'"), ("[]", "non-empty list"), ('["splunk", "splunk"]', "twice")):
        path.write_text(f"[settings]\nquery_languages = {bad}\n" + base, encoding="utf-8")
        with pytest.raises(ConfigError, match=words):
            load_config(path)


# --- hostile rules ----------------------------------------------------------------------------

MODIFIERS = ["contains", "startswith", "endswith", "all", "re", "base64", "base64offset", "wide", "windash", "cidr", "exists", "expand",
             "fieldref", "gt", "lte", "i", "m", "s", "cased", "utf16le", "no_such_modifier", "re|i", ""]
FIELDS = st.sampled_from(["Image", "CommandLine", "Hashes", "TargetFilename", "a b", "Ünï", "x" * 300, "", "|", "'q'"])
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.sampled_from(["*", "?", "\\", "10.0.0.0/8", "((", "${x}", "%placeholder%", "`", "\"", "\x00"]),
)


def _yaml_string(s: str) -> str:
    return orjson.dumps(s).decode()


@st.composite
def hostile_rules(draw) -> str:
    """Rules whose detection has odd modifiers, long lists, deep conditions or no sense."""
    items = []
    for n in range(draw(st.integers(1, 4))):
        field = draw(FIELDS)
        mods = draw(st.lists(st.sampled_from(MODIFIERS), max_size=3))
        key = _yaml_string(field + "".join(f"|{m}" for m in mods if m))
        many = draw(st.integers(0, 3))
        values = draw(st.lists(VALUES, min_size=0, max_size=6)) * (1 if many < 3 else 150)
        body = "\n".join(f"            - {json.dumps(v)}" for v in values) or "            - x"
        items.append(f"        {key}:\n{body}")
    depth = draw(st.integers(0, 60))
    condition = draw(st.sampled_from(["selection", "1 of sel*", "all of them", "selection and not selection", "selection | count() > 3", "nope", "("]))
    condition = "(" * depth + condition + ")" * depth
    category = draw(st.sampled_from(["process_creation", "network_connection", "file_event", "nonexistent", "ps_script"]))
    level = draw(st.sampled_from(["high", "odd", "", "[1, 2]"]))
    return (
        "title: hostile\nid: 11111111-2222-4333-8444-555555555555\nstatus: test\n"
        f"logsource:\n    category: {category}\n    product: windows\n"
        "detection:\n    selection:\n" + "\n".join(items) + f"\n    condition: {_yaml_string(condition)}\nlevel: {level or 'low'}\n"
    )


@seed(20261202)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(hostile=hostile_rules(), language=st.sampled_from(["kusto", "splunk", "esql"]))
def test_a_hostile_rule_fails_alone(hostile, language):
    """Whatever the rule, a result (queries or a reason), never an exception; the rules
    converted beside it in one batch get what they get alone."""
    backend = target(language).backend()
    got = convert(hostile, backend)
    assert set(got) in ({"queries"}, {"reason", "detail"})
    if "queries" in got:
        assert got["queries"] and all(isinstance(q, str) and q.strip() for q in got["queries"])
    else:
        assert got["reason"].strip() and "\n" not in got["reason"] and len(got["reason"]) <= 200
    both = convert_rules({"sigma:good": RULE, "sigma:hostile": hostile}, [language], cache_dir=None, jobs=1)
    assert both.by_detection["sigma:good"][0].queries == tuple(pysigma(RULE, language))


@seed(20261205)
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(hostile_rules(), min_size=1, max_size=4), at=st.integers(0, 4), language=st.sampled_from(["kusto", "sentinel", "splunk", "esql"]))
def test_a_batch_with_one_pipeline_converts_each_rule_as_alone(batch, at, language):
    """One combined pipeline for the batch: every rule, hostile or not, in any order,
    gets exactly what pySigma's own `Backend.convert` gives it on a fresh backend."""
    texts = batch[:at] + [RULE, CORRELATION] + batch[at:]
    alone = [convert(text, target(language).backend()) for text in texts]
    assert convert_all(texts, target(language).backend()) == alone


@pytest.mark.parametrize("language", ["kusto", "sentinel"])
def test_a_rule_s_reason_names_its_own_field_only(language):
    """The Kusto pipelines' field check keeps each invalid field's name in its message:
    in a batch, the second rule's reason must not name the first rule's field."""
    first, second = (RULE.replace("CommandLine|contains|all", f"{name}|contains|all") for name in ("NoSuchFieldA", "NoSuchFieldB"))
    a, b = convert_all([first, second], target(language).backend())
    assert "NoSuchFieldA" in a["detail"] and "NoSuchFieldB" not in a["detail"]
    assert "NoSuchFieldB" in b["detail"] and "NoSuchFieldA" not in b["detail"]
    assert b == convert(second, target(language).backend())


def test_a_batch_whose_pipeline_cannot_be_combined_gives_each_rule_its_reason():
    class Broken:
        def init_processing_pipeline(self):
            raise ValueError("no pipeline")

        def convert(self, collection):
            raise ValueError("no pipeline")

    got = convert_all([RULE, RULE], Broken())
    assert got == [{"reason": "ValueError: no pipeline", "detail": "no pipeline"}] * 2


@pytest.mark.parametrize("text", ["[" * 20000, "a: &a [*a, *a]\nb: " + "[*a, " * 30 + "]" * 30, "- " * 5000 + "x", "title: x\ndetection: 5", "\x00\x01"])
def test_hostile_yaml_is_a_reason(text):
    got = convert(text, target("kusto").backend())
    assert set(got) == {"reason", "detail"}
