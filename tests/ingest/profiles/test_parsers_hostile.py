"""DeTT&CT files, Kibana exports, CTID and MISP files written by others: any content
gives records or one InputError line, never another exception (hypothesis, fixed seed)."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from pipeline.core.errors import InputError
from pipeline.ingest.profiles import dettect
from pipeline.ingest.profiles.threat import read_ctid_techniques, read_misp_actors
from pipeline.ingest.profiles.toml_profile import read_elastic_export

_scalars = st.none() | st.booleans() | st.integers(-10, 10) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | st.dates()
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=15)
_keys = st.sampled_from(
    ["version", "file_type", "name", "domain", "platform", "systems", "data_sources", "techniques", "groups", "technique_id",
     "technique_name", "detection", "visibility", "score_logbook", "score", "date", "applicable_to", "data_source",
     "data_source_name", "available_for_data_analytics", "software_id", "enabled", "group_name", "exceptions"]
) | st.text(max_size=6)
_docs = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5), max_leaves=25)
READERS = (
    (dettect.read_techniques, "technique-administration"),
    (dettect.read_data_sources, "data-source-administration"),
    (dettect.read_groups, "group-administration"),
)


@seed(18)
@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=_docs, which=st.integers(0, 2), typed=st.booleans())
def test_dettect_readers(tmp_path, doc, which, typed):
    reader, file_type = READERS[which]
    if typed and isinstance(doc, dict):
        doc = {**doc, "file_type": file_type}
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        record = reader(path)
    except InputError as exc:
        assert "\n" not in exc.one_line() and exc.one_line().startswith(str(path))
        return
    # What was read is written back equal in content.
    back = {"technique-administration": dettect.techniques_dict, "data-source-administration": dettect.data_sources_dict, "group-administration": dettect.groups_dict}[file_type](record)
    assert back["file_type"] == file_type


@seed(18)
@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.one_of(_values.map(lambda v: json.dumps(v, default=str)), st.text(max_size=30)), max_size=6))
def test_kibana_export(lines):
    found, ids, issues = read_elastic_export("\n".join(lines).encode("utf-8", "replace"), "rules.ndjson")
    assert len(found) == len(ids)
    assert all("\n" not in i.one_line() for i in issues)


@seed(18)
@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_values)
def test_threat_files(tmp_path, doc):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc, default=str), encoding="utf-8")
    for read in (read_ctid_techniques, read_misp_actors):
        try:
            read(path)
        except InputError as exc:
            assert "\n" not in exc.one_line()
