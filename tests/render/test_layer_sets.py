"""Framework, category, control and detection layers; the `layer` query command; slugs.

Small graphs are made by the real control stage (`add_controls`) from mapping records
written here; the real-data tests build the default graph of the mirror once.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import stix_factory as f
from testpaths import ROOT
from pipeline.reconcile.controls import ControlSet
from pipeline.core.errors import PipelineError
from pipeline.graph.build import build_graph
from pipeline.graph.controls import add_controls
from pipeline.graph.detections import add_detections
from pipeline.ingest.attack import read_attack_release
from pipeline.model.controls import Mapping, MappingTable
from pipeline.model.detections import Detection, Query, TechniqueRef
from pipeline.reconcile.mappings import NameCheck, ReconciledTable, Remapped
from pipeline.render.navigator import validate
from pipeline.render.navigator.layer import TechniqueIndex
from pipeline.render.navigator.query import LayerQuery, query_layer
from pipeline.render.navigator.scoring import MIXED_COLOR, VALUE_COLORS
from pipeline.render.navigator.sets import all_layers, layer_set
from pipeline.render.naming import MAX_NAME as MAX_SLUG, slug as safe_slug, unique_slugs

SITE = "https://soc.example.org/attack/"
NIST = "mapex/nist-test"
AZURE = "mapex/azure-test"


def _table(source: str, framework: str, version: str, rows: list[dict]) -> ReconciledTable:
    """A reconciled table as the control stage hands it to the graph."""
    mappings, remapped = [], []
    for n, row in enumerate(rows):
        target = row.pop("technique_id")
        published = row.pop("published", target)
        m = Mapping(source_id=source, file=f"{source}.json", row=f"mapping_objects[{n}]", framework=framework,
                    framework_version=version, domain="enterprise", attack_version="98.0", technique_id=published,
                    original_technique_id=published, **row)
        mappings.append(m)
        status = "revoked" if published != target else "unchanged"
        remapped.append(Remapped(mapping=m, status=status, technique_id=target, chain=(published, target) if status == "revoked" else ()))
    table = MappingTable(source_id=source, format="mapex-json", file=f"{source}.json", framework=framework, framework_version=version,
                         domain="enterprise", attack_version="98.0", rows=len(rows), mappings=tuple(mappings))
    return ReconciledTable(table=table, enabled=True, target_version="99.0", name_check=NameCheck(declared="98.0", used="98.0"),
                           remapped=tuple(remapped))


def _nist(control: str, family: str, technique: str) -> dict:
    return dict(subject_kind="control", subject_id=control, subject_name=f"{control} name", group=family,
                group_name={"AC": "Access Control", "SI": "System and Information Integrity"}[family],
                technique_id=technique, kind="mitigate", mapping_type="mitigates")


def _azure(cap: str, technique: str, category: str, value: str, comment: str, published: str | None = None) -> dict:
    row = dict(subject_kind="capability", subject_id=cap, subject_name=cap.replace("_", " ").title(), group=cap, group_name=cap,
               technique_id=technique, kind=category, mapping_type="technique_scores",
               score_category=category, score_value=value, comments=comment)
    if published:
        row["published"] = published
    return row


@pytest.fixture
def framework_graph(tmp_path):
    """Three live techniques (T1046; T1003 with its sub-technique T1003.001), a NIST-like
    control table with an enhancement id, a scored capability table with a mixed-category
    capability and a revoked published id, and one Sigma rule."""
    path = f.write(tmp_path / "b.json", f.small_bundle())
    g = build_graph([read_attack_release(path, domain="enterprise", version="99.0")])
    nist = [_nist("AC-4", "AC", "T1046"), _nist("SI-4", "SI", "T1046"), _nist("SI-4", "SI", "T1003"), _nist("AC-2(1)", "AC", "T1003.001")]
    azure = [
        _azure("azure_firewall", "T1046", "protect", "partial", "Filters external scans."),
        _azure("azure_web_application_firewall", "T1046", "protect", "partial", "Web applications only."),
        _azure("azure_web_application_firewall", "T1046", "detect", "partial", "Detects scans of web applications."),
        _azure("microsoft_sentinel", "T1046", "detect", "significant", "Many ports from one address."),
        _azure("microsoft_sentinel", "T1003.001", "detect", "minimal", "LSASS access alert.", published="T9002"),
    ]
    tables = (_table(NIST, "nist_800_53", "rev5", nist), _table(AZURE, "azure", "04/26/2025", azure))
    add_controls(g, ControlSet(target_version="99.0", tables=tables, catalogs=()))
    rule = Detection(id="sigma:lsass", source="sigma", native_id="lsass", format="sigma-yaml", title="LSASS access",
                     queries=(Query(language="sigma", text="detection: x"),),
                     techniques=(TechniqueRef(attack_id="T1003.001", how="tag", target="T1003.001", status="live"),))
    add_detections(g, [rule])
    return g


def _small_set(g, site_url: str = SITE) -> dict[str, dict]:
    index = TechniqueIndex.of(g)
    return {rel: layer.to_dict(g, index) for rel, layer in layer_set(g, "enterprise", "99.0", site_url, index)}


def _entry(layer: dict, tid: str) -> dict:
    (entry,) = [t for t in layer["techniques"] if t["techniqueID"] == tid]
    return entry


def _names(entry: dict, field: str = "capability") -> list[str]:
    return [m["value"].split()[0] for m in entry.get("metadata", []) if m.get("name") == field]


# --- Small graph -----------------------------------------------------------------------------


def test_golden_small_framework_layers(framework_graph, golden):
    layers = {rel: data for rel, data in _small_set(framework_graph).items() if rel.startswith(("frameworks/", "detections/"))}
    assert sorted(layers) == [
        "detections/all.json", "detections/sigma.json",
        "frameworks/azure/categories/detect.json", "frameworks/azure/categories/protect.json",
        "frameworks/azure/controls/azure_firewall.json", "frameworks/azure/controls/azure_web_application_firewall.json",
        "frameworks/azure/controls/microsoft_sentinel.json", "frameworks/azure/overview.json",
        "frameworks/nist_800_53/controls/AC-2-1.json", "frameworks/nist_800_53/controls/AC-4.json",
        "frameworks/nist_800_53/controls/SI-4.json", "frameworks/nist_800_53/families/AC.json",
        "frameworks/nist_800_53/families/SI.json", "frameworks/nist_800_53/overview.json",
    ]
    data = orjson.dumps(layers, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    golden.check("small-framework-layers.json", data)
    for rel, layer in layers.items():
        assert validate.problems(layer, framework_graph) == [], rel


def test_scores_categories_and_sub_techniques(framework_graph):
    layers = _small_set(framework_graph)
    overview = layers["frameworks/azure/overview.json"]
    t1046 = _entry(overview, "T1046")
    assert t1046["score"] == 3 and "mixed categories: protect 2, detect 2" in t1046["comment"]
    assert overview["gradient"]["maxValue"] == 3 and overview["legendItems"][-1]["label"] == "3 capabilities"
    # One metadata block per mapping: the web application firewall twice (protect and detect).
    assert sum(1 for m in t1046["metadata"] if m.get("divider")) == 3
    assert _names(t1046) == ["azure_firewall", "azure_web_application_firewall", "azure_web_application_firewall", "microsoft_sentinel"]

    protect = _entry(layers["frameworks/azure/categories/protect.json"], "T1046")
    detect = _entry(layers["frameworks/azure/categories/detect.json"], "T1046")
    assert (protect["score"], protect["color"]) == (2, VALUE_COLORS["partial"])
    assert (detect["score"], detect["color"]) == (3, VALUE_COLORS["significant"])
    assert detect["comment"].startswith("Significant (best of 2): ")

    waf = _entry(layers["frameworks/azure/controls/azure_web_application_firewall.json"], "T1046")
    assert waf["color"] == MIXED_COLOR and waf["comment"] == "mixed categories: protect Partial; detect Partial"
    fw = layers["frameworks/azure/controls/azure_firewall.json"]
    assert _entry(fw, "T1046")["color"] != MIXED_COLOR and [i["label"] for i in fw["legendItems"]] == ["Protect"]

    # No roll-up: T1003 has no Azure mapping of its own, only its sub-technique does.
    sentinel_detect = layers["frameworks/azure/categories/detect.json"]
    parent, sub = _entry(sentinel_detect, "T1003"), _entry(sentinel_detect, "T1003.001")
    assert "score" not in parent and "color" not in parent and parent["showSubtechniques"] is True
    assert parent["comment"].startswith("not mapped itself; mapped sub-techniques") and "T1003.001" in parent["comment"]
    assert sub["score"] == 1 and {"name": "published as", "value": "T9002 (revoked; now T1003.001)"} in sub["metadata"]
    # NIST: T1003 is mapped itself (SI-4) and keeps its own score; AC-2(1) stays on the sub-technique.
    nist = layers["frameworks/nist_800_53/overview.json"]
    assert _entry(nist, "T1003")["score"] == 1 and "sub-techniques with their own entries: T1003.001" in _entry(nist, "T1003")["comment"]
    assert _names(_entry(nist, "T1003.001"), "control") == ["AC-2(1)"]
    assert _entry(layers["frameworks/nist_800_53/families/SI.json"], "T1046")["score"] == 1

    links = {link["url"] for link in _entry(nist, "T1003.001")["links"]}
    # Control links land on the docs pages, named as the pages name them.
    from pipeline.render.naming import stem as file_stem

    page = f"{SITE}controls/nist_800_53/{file_stem('AC-2(1)')}/"
    assert links == {f"{SITE}techniques/T1003.001/", page}
    assert layers["frameworks/nist_800_53/controls/AC-2-1.json"]["links"] == [{"label": "AC-2(1) in the docs", "url": page}]
    assert _entry(layers["detections/all.json"], "T1003.001")["score"] == 1


def test_no_links_without_site_url(framework_graph):
    for rel, layer in _small_set(framework_graph, site_url="").items():
        assert "links" not in layer, rel
        assert not any("links" in t for t in layer["techniques"]), rel


def test_query_layer_on_small_graph(framework_graph):
    q = LayerQuery(frameworks=("azure",), categories=("detect",), min_value="partial", style="value", platforms=("windows",))
    data = query_layer(framework_graph, q, "").to_dict(framework_graph)
    assert data["filters"] == {"platforms": ["Windows"]}
    assert [t["techniqueID"] for t in data["techniques"] if "score" in t] == ["T1046"]  # the Minimal one is below the floor
    assert validate.problems(data, framework_graph) == []
    both = query_layer(framework_graph, LayerQuery(frameworks=("nist_800_53",), families=("Access Control",), detections=("all",)), "")
    by_id = {m.technique: m for m in both.marks}
    assert by_id["T1003.001"].score == 2 and "controls 1, detections 1" in by_id["T1003.001"].comment
    assert set(by_id) == {"T1003", "T1003.001", "T1046"} and by_id["T1003"].score is None
    for bad, message in (
        (LayerQuery(frameworks=("nist",)), "no enterprise framework 'nist' in this build (known: azure, nist_800_53)"),
        (LayerQuery(frameworks=("azure",), families=("AC",)), "no family or group of the chosen frameworks 'AC'"),
        (LayerQuery(frameworks=("nist_800_53",), categories=("protect",)), "no category of the chosen frameworks 'protect'"),
        (LayerQuery(detections=("splunk",)), "no enterprise detection source 'splunk' in this build (known: sigma)"),
        (LayerQuery(frameworks=("all",), platforms=("Amiga",)), "no enterprise platform 'Amiga'"),
        (LayerQuery(), "nothing selected"),
    ):
        with pytest.raises(PipelineError) as exc:
            query_layer(framework_graph, bad, "")
        assert message in str(exc.value) and "\n" not in str(exc.value)


def test_platform_filter_is_checked(framework_graph):
    data = query_layer(framework_graph, LayerQuery(frameworks=("all",), platforms=("Windows",)), "").to_dict(framework_graph)
    data["filters"]["platforms"].append("Amiga")
    assert validate.problems(data, framework_graph) == ["filters.platforms: 'Amiga' is not a platform of any live enterprise technique"]


def test_slugs():
    assert safe_slug("AC-2(1)") == "AC-2-1" and safe_slug("I&S-04") == "I-S-04"
    assert safe_slug("action.social.variety.Evade Defenses") == "action.social.variety.Evade-Defenses"
    hostile = ["..", "../", "/", "", " ", "(())"]
    assert all(re.fullmatch(r"id-[0-9a-f]{8}", safe_slug(h)) for h in hostile) and len({safe_slug(h) for h in hostile}) == len(hostile)
    assert safe_slug("../../etc/passwd") == "etc-passwd"
    slugs = unique_slugs(["AC-2(1)", "AC-2-1", "AC-3"])
    assert slugs["AC-3"] == "AC-3" and len(set(slugs.values())) == 3 and all(s.startswith("AC-2-1-") for k, s in slugs.items() if k != "AC-3")
    assert unique_slugs(["b", "a(1)", "a-1"]) == unique_slugs(["a-1", "b", "a(1)"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=150), max_size=6))
def test_slugs_are_safe_file_names(ids):
    for i in ids:
        s = safe_slug(i)
        assert 0 < len(s) <= MAX_SLUG and ".." not in s and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", s)
        assert s[-1] not in ".-"
    slugs = unique_slugs(ids)
    assert len(set(slugs.values())) == len(slugs) == len(set(ids))


# --- The default build on the mirror -------------------------------------------------------------


@pytest.fixture(scope="module")
def full_graph(config, mirror):
    from pipeline.workspace import Workspace

    return Workspace.open(config, mirror, "18.1").graph()


@pytest.fixture(scope="module")
def full_layers(full_graph):
    index = TechniqueIndex.of(full_graph)
    return {f"{domain}/{rel}": layer.to_dict(full_graph, index) for domain, rel, layer in all_layers(full_graph, SITE, index)}


def _subjects_in_graph(g) -> dict[tuple[str, str], set[str]]:
    """Controls and capabilities with an edge to a live technique, per (domain, framework), read from the graph."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for u, v, d in g.edges(data=True):
        n = g.nodes[u]
        if n["kind"] in ("control", "capability") and "source" in d and not n["deprecated"]:
            t = g.nodes[v]
            if not t["deprecated"] and d["domain"] in t["domains"]:
                out[(d["domain"], n["framework"])].add(n["id"])
    return out


def test_every_layer_of_the_default_build_validates(full_layers, full_graph):
    assert len(full_layers) > 1000
    index = TechniqueIndex.of(full_graph)
    for name, layer in full_layers.items():
        assert validate.problems(layer, full_graph, index) == [], name


def test_the_tree_has_a_layer_per_mapped_control(full_layers, full_graph):
    subjects = _subjects_in_graph(full_graph)
    for (domain, framework), ids in subjects.items():
        assert f"{domain}/frameworks/{framework}/overview.json" in full_layers
        files = [k for k in full_layers if k.startswith(f"{domain}/frameworks/{framework}/controls/")]
        assert len(files) == len(ids), (domain, framework)
    assert 100 <= len(subjects[("enterprise", "nist_800_53")]) <= 120
    assert len(subjects[("enterprise", "azure")]) == 38 and len(subjects[("enterprise", "kev")]) == 419
    for fw in ("azure", "aws", "gcp", "m365"):
        assert {f"enterprise/frameworks/{fw}/categories/{c}.json" for c in ("protect", "detect", "respond")} <= set(full_layers)
    assert {"enterprise/frameworks/intel-vpro/categories/protect.json", "enterprise/frameworks/intel-vpro/categories/detect.json"} <= set(full_layers)
    assert not any("/categories/" in k for k in full_layers if "/nist_800_53/" in k or "/kev/" in k)
    assert "enterprise/frameworks/nist_800_53/families/AC.json" in full_layers
    assert not any(k.startswith("enterprise/frameworks/azure/families/") for k in full_layers)
    for source in ("sigma", "elastic", "splunk", "all"):
        assert f"enterprise/detections/{source}.json" in full_layers


def test_t1046_in_the_nist_overview(full_layers):
    entry = _entry(full_layers["enterprise/frameworks/nist_800_53/overview.json"], "T1046")
    controls = _names(entry, "control")
    assert entry["score"] == 11
    assert sorted(controls) == ["AC-4", "CA-7", "CM-2", "CM-6", "CM-7", "CM-8", "RA-5", "SC-46", "SC-7", "SI-3", "SI-4"]
    assert sum(1 for m in entry["metadata"] if m.get("divider")) == 10
    assert f"{SITE}controls/nist_800_53/SC-46/" in {link["url"] for link in entry["links"]}


# The 2025 Azure table's rows on T1046 (the seed's six rows under their 2025 ids, tests/ingest/mappings).
AZURE_T1046 = {
    "protect": {"azure_network_security_groups": "Partial", "azure_web_application_firewall": "Partial", "azure_firewall": "Partial"},
    "detect": {"microsoft_sentinel": "Partial", "azure_web_application_firewall": "Partial", "azure_network_watcher_traffic_analytics": "Significant"},
}


@pytest.mark.parametrize("category", ["protect", "detect"])
def test_t1046_in_the_azure_category_layers(full_layers, category):
    entry = _entry(full_layers[f"enterprise/frameworks/azure/categories/{category}.json"], "T1046")
    blocks, block = [], {}
    for m in entry["metadata"] + [{"divider": True}]:
        if m.get("divider"):
            blocks.append(block)
            block = {}
        else:
            block[m["name"]] = m["value"]
    got = {b["capability"].split()[0]: b["value"] for b in blocks}
    assert got == AZURE_T1046[category]
    assert all(b["category"] == category and b["comment"] and b["source"].startswith("mapex/azure-04.26.2025/") for b in blocks)
    best = max(got.values(), key=["Minimal", "Partial", "Significant"].index)
    assert entry["score"] == {"Partial": 2, "Significant": 3}[best] and entry["color"] == VALUE_COLORS[best.lower()]


def test_parents_never_take_their_sub_techniques_scores(full_layers, full_graph):
    overview = full_layers["enterprise/frameworks/nist_800_53/overview.json"]
    own: dict[str, set[str]] = defaultdict(set)
    for u, v, d in full_graph.edges(data=True):
        if full_graph.nodes[u].get("framework") == "nist_800_53" and "source" in d:
            own[full_graph.nodes[v]["id"]].add(u)
    unscored = 0
    for t in overview["techniques"]:
        if "score" in t:
            assert t["score"] == len(own[t["techniqueID"]]), t["techniqueID"]
        else:
            unscored += 1
            assert not own[t["techniqueID"]] and t["showSubtechniques"] is True
    assert unscored > 0


def test_layers_are_byte_identical_on_rebuild(full_layers, config, mirror, tmp_path):
    """Two fresh processes with different hash seeds write the same bytes as this one."""
    script = tmp_path / "render_layers.py"
    script.write_text(
        "import hashlib, sys\nfrom pathlib import Path\n"
        "from pipeline.core.config import load_config\nfrom pipeline.workspace import Workspace\n"
        "from pipeline.gather import gather\nfrom pipeline.render.navigator import render\n"
        "def main():\n"
        "    ws = Workspace.open(load_config(Path(sys.argv[1])), Path(sys.argv[2]), '18.1')\n"
        "    out = Path(sys.argv[3])\n"
        f"    for p in sorted(render(gather(ws, renderers=('layers',), site_url={SITE!r}), out)):\n"
        "        print(p.relative_to(out / 'layers').as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    runs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, str(script), str(config.file), str(mirror), str(tmp_path / f"out{seed}")],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(done.stdout)
    assert runs[0] == runs[1]
    here = {k: hashlib.sha256(orjson.dumps(v, option=orjson.OPT_INDENT_2) + b"\n").hexdigest() for k, v in full_layers.items()}
    assert dict(line.split() for line in runs[0].splitlines()) == here


DIVIDER_MESSAGES = (
    "[Technique] - name is not present in metadata [{'divider': True}]",
    "[Technique] - Metadata {'divider': True} is missing parameters: . Skipping.",
)


def test_navlayers_loads_every_layer(full_layers, tmp_path):
    """All 1,400-odd layers, read from files as a user would; about 5 s."""
    from mitreattack.navlayers import Layer as NavLayer

    for name, data in full_layers.items():
        path = tmp_path / "layer.json"
        path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            layer = NavLayer()
            layer.from_file(str(path))
        assert layer.layer is not None, name
        lines = printed.getvalue().splitlines()
        dividers = sum(1 for t in data["techniques"] for m in t.get("metadata", []) if m.get("divider"))
        assert [line for line in lines if line not in DIVIDER_MESSAGES] == [], name
        assert len(lines) == 2 * dividers, name


def test_navlayers_exporters_render_a_framework_overview(full_layers, tmp_path, mirror):
    from mitreattack.navlayers import ToExcel, ToSvg
    from mitreattack.navlayers.core import Layer as NavLayer

    plain = tmp_path / "enterprise-attack.json"
    plain.write_bytes(gzip.decompress((mirror / "attack" / "enterprise-attack-18.1.json.gz").read_bytes()))
    path = tmp_path / "overview.json"
    path.write_bytes(orjson.dumps(full_layers["enterprise/frameworks/azure/overview.json"]))
    layer = NavLayer()
    with contextlib.redirect_stdout(io.StringIO()):
        layer.from_file(str(path))
        ToSvg(domain="enterprise", source="local", resource=str(plain)).to_svg(layer, filepath=str(tmp_path / "azure.svg"))
        ToExcel(domain="enterprise", source="local", resource=str(plain)).to_xlsx(layer, filepath=str(tmp_path / "azure.xlsx"))
    svg = (tmp_path / "azure.svg").read_text()
    assert "<svg" in svg[:1000] and "overview" in svg and re.search(r">T1\d{3}(\.\d{3})?: ", svg)
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "azure.xlsx").active
    assert sheet.max_row > 10 and sheet.max_column > 10


def test_layer_command(mirror, tmp_path):
    from pipeline.cli import cli

    out = tmp_path / "azure-protect.json"
    args = ["layer", "--mirror", str(mirror), "--framework", "azure", "--category", "protect", "--min-value", "partial",
            "--platform", "windows", "--style", "value", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: ") and "techniques of enterprise ATT&CK 18.1" in result.stdout
    data = json.loads(out.read_bytes())
    assert data["filters"] == {"platforms": ["Windows"]} and data["domain"] == "enterprise-attack"
    assert validate.schema_problems(data) == []
    scored = [t for t in data["techniques"] if "score" in t]
    assert scored and all(t["score"] >= 2 for t in scored)
    values = {m["value"] for t in scored for m in t["metadata"] if m.get("name") == "value"}
    categories = {m["value"] for t in scored for m in t["metadata"] if m.get("name") == "category"}
    assert values <= {"Partial", "Significant"} and categories == {"protect"}

    runner = CliRunner()
    unknown = runner.invoke(cli, ["layer", "--mirror", str(mirror), "--framework", "nope", "--out", str(tmp_path / "x.json")])
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: no enterprise framework 'nope' in this build (known: ")
    assert not (tmp_path / "x.json").exists()
    empty = runner.invoke(cli, ["layer", "--mirror", str(mirror), "--out", str(tmp_path / "x.json")])
    assert empty.exit_code == 2 and "nothing selected" in empty.stderr
    two = runner.invoke(cli, ["layer", "--mirror", str(mirror), "--framework", "kev", "--domain", "mobile", "--domain", "ics", "--out", str(tmp_path / "x.json")])
    assert two.exit_code == 2 and "give --domain once" in two.stderr


def test_layer_names_suit_spreadsheet_exports(framework_graph):
    layer = _small_set(framework_graph)["frameworks/azure/overview.json"]
    assert layer["name"] == "Microsoft Azure 04-26-2025 — overview"
    layer["name"] = "Azure 04/26/2025: overview"
    assert validate.semantic_problems(layer, framework_graph) == [
        "name 'Azure 04/26/2025: overview' has '/:': spreadsheet exports cannot name a sheet after it"
    ]
