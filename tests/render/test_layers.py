"""Navigator layers: format 4.5 schema, import by mitreattack-python, semantic checks, golden file."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import orjson
import pytest

import stix_factory as f
from pipeline.graph.build import build_graph
from pipeline.ingest.attack import read_attack_release
from pipeline.render.navigator import validate
from pipeline.render.navigator.layer import Layer, Mark
from pipeline.render.naming import attack_id as safe_file_id
from pipeline.render.navigator.sets import layer_set



@pytest.fixture
def small_graph(tmp_path):
    path = f.write(tmp_path / "b.json", f.small_bundle())
    g = build_graph([read_attack_release(path, domain="enterprise", version="99.0")])
    # A control on T1046 and a detection on T1003.001, as the control and detection stages add them.
    g.add_node("control:test/1:AC-4", kind="control", id="AC-4", name="Information Flow Enforcement", framework="test 1", deprecated=False, domains=("enterprise",))
    g.add_edge("control:test/1:AC-4", "technique:T1046", key="protects", relation="protects", kind="protect", score_category="protect",
               score_value="partial", comments="Filters flows.", source="test/table", domain="enterprise", framework_version="1")
    g.add_node("detection:sigma:x", kind="detection", id="x", name="LSASS access", source="sigma", deprecated=False, domains=("enterprise",))
    g.add_edge("detection:sigma:x", "technique:T1003.001", key="detects", relation="detects")
    return g


def _dump(layer: dict) -> bytes:
    return orjson.dumps(layer, option=orjson.OPT_INDENT_2) + b"\n"


def test_golden_small_layer_set(small_graph, golden):
    got = {rel: _dump(layer.to_dict(small_graph)) for rel, layer in layer_set(small_graph, "enterprise", "99.0", "https://soc.example.org/attack/")}
    assert sorted(got) == ["coverage.json", "detections/all.json", "detections/sigma.json", "frameworks/test-1/categories/protect.json",
                           "frameworks/test-1/controls/AC-4.json", "frameworks/test-1/overview.json", "gaps.json"]
    for rel, data in got.items():
        if "/" in rel:
            continue  # the framework and detection layers have their own golden file (test_layer_sets.py)
        golden.check(f"small-{rel}", data)
        assert validate.problems(json.loads(data), small_graph) == []


def test_coverage_classes_on_small_graph(small_graph):
    layer = dict(layer_set(small_graph, "enterprise", "99.0", ""))["coverage.json"].to_dict(small_graph)
    by_id = {t["techniqueID"]: t for t in layer["techniques"]}
    assert by_id["T1046"]["color"] == "#4575b4" and by_id["T1046"]["comment"].startswith("controls only")
    assert by_id["T1003.001"]["color"] == "#fdae61"
    assert by_id["T1003"]["showSubtechniques"] is True
    assert "showSubtechniques" not in by_id["T1046"] and "showSubtechniques" not in by_id["T1003.001"]
    assert by_id["T1046"]["metadata"][0] == {"name": "control", "value": "AC-4 Information Flow Enforcement"}
    assert "links" not in by_id["T1046"], "no site_url, no links"
    gaps = dict(layer_set(small_graph, "enterprise", "99.0", ""))["gaps.json"].to_dict(small_graph)
    assert [t["techniqueID"] for t in gaps["techniques"]] == ["T1003"]


def test_semantic_checks_catch_what_navigator_drops_silently(small_graph):
    bad = Layer(name="x", description="", domain="enterprise", attack_version="99.0",
                marks=(Mark(technique="T9001", color="#123456"), Mark(technique="T1046", color="#abcdef")))
    data = bad.to_dict(small_graph)
    assert [t["techniqueID"] for t in data["techniques"]] == ["T1046", "T9001"]
    data["techniques"][0]["tactic"] = "impact"
    found = validate.problems(data, small_graph)
    assert any("T9001: not a live enterprise technique" in p for p in found)
    assert any("tactic 'impact' is not one of ['discovery']" in p for p in found)
    assert any("colour #abcdef has no legend item" in p for p in found)
    data["techniques"][1]["extra"] = 1
    assert validate.problems(data, small_graph)[0].startswith("schema: techniques/1")


def test_file_ids_are_checked():
    assert safe_file_id("G0007") == "G0007"
    for hostile in ("../etc", "G0007/../../x", "", "g0007"):
        with pytest.raises(ValueError):
            safe_file_id(hostile)


@pytest.fixture(scope="module")
def real_layers(graph_18):
    out = {}
    for domain, version in sorted(graph_18.graph["releases"].items()):
        for rel, layer in layer_set(graph_18, domain, version, "https://soc.example.org/"):
            out[f"{domain}/{rel}"] = layer.to_dict(graph_18)
    return out


def test_every_real_layer_validates(real_layers, graph_18):
    assert len(real_layers) > 190
    for name, layer in real_layers.items():
        assert validate.problems(layer, graph_18) == [], name


def test_multi_tactic_techniques_get_one_entry_per_tactic(real_layers):
    cov = real_layers["enterprise/coverage.json"]
    t1078 = [t for t in cov["techniques"] if t["techniqueID"] == "T1078"]
    assert sorted(t["tactic"] for t in t1078) == ["defense-evasion", "initial-access", "persistence", "privilege-escalation"]
    assert cov["versions"] == {"attack": "18", "navigator": "5.1.0", "layer": "4.5"}
    live = {t["techniqueID"] for t in cov["techniques"]}
    assert len(live) == 691


def test_real_group_layer(real_layers, graph_18):
    apt28 = real_layers["enterprise/groups/G0007.json"]
    ids = {t["techniqueID"] for t in apt28["techniques"]}
    used = {graph_18.nodes[v]["id"] for _, v, d in graph_18.out_edges("group:G0007", data=True)
            if d["relation"] == "uses" and graph_18.nodes[v]["kind"] == "technique"}
    assert ids == used and len(ids) > 50
    assert apt28["name"] == "G0007 APT28 — coverage"


def test_layers_load_in_mitreattack_navlayers(real_layers, tmp_path):
    from mitreattack.navlayers import Layer as NavLayer

    for name in ("enterprise/coverage.json", "enterprise/gaps.json", "enterprise/groups/G0007.json", "ics/coverage.json", "mobile/coverage.json"):
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(_dump(real_layers[name]))
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            layer = NavLayer()
            layer.from_file(str(path))
        assert layer.layer is not None, name
        assert printed.getvalue() == "", f"{name}: {printed.getvalue()[:300]}"


def test_navlayers_exporters_render_the_coverage_layer(real_layers, tmp_path, mirror):
    from mitreattack.navlayers import ToExcel, ToSvg
    from mitreattack.navlayers.core import Layer as NavLayer

    import gzip

    plain = tmp_path / "enterprise-attack.json"
    plain.write_bytes(gzip.decompress((mirror / "attack" / "enterprise-attack-18.1.json.gz").read_bytes()))
    path = tmp_path / "coverage.json"
    path.write_bytes(_dump(real_layers["enterprise/gaps.json"]))
    layer = NavLayer()
    with contextlib.redirect_stdout(io.StringIO()):
        layer.from_file(str(path))
        ToSvg(domain="enterprise", source="local", resource=str(plain)).to_svg(layer, filepath=str(tmp_path / "gaps.svg"))
        ToExcel(domain="enterprise", source="local", resource=str(plain)).to_xlsx(layer, filepath=str(tmp_path / "gaps.xlsx"))
    assert (tmp_path / "gaps.svg").read_text().startswith("<?xml") or "<svg" in (tmp_path / "gaps.svg").read_text()[:500]
    assert (tmp_path / "gaps.xlsx").stat().st_size > 5000
