"""Priorities of a profile built from DeTT&CT's samples and two groups, recomputed here
from the raw inputs: the ATT&CK 18.1 bundle (groups' `uses` relationships, revoked-by),
CTID's Techniques.json, and the graph's mappings and rules for actionability."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict

import pytest

from pipeline.graph.controls import controls_of_technique
from pipeline.graph.detections import detections_of
from pipeline.ingest.profiles.toml_profile import load_profile
from pipeline.profile import results
from pipeline.profile.resolve import resolve
from pipeline.render.navigator.layer import TechniqueIndex
from pipeline.render.navigator.validate import problems
from pipeline.render.profiles.layers import layers_of
from profile_files import write_profile

PROFILE = """
[profile]
name = "Sample SOC"
platforms = ["Windows", "Linux"]
top_n = 10

[weights]
threat = 3
prevalence = 1
choke_point = 1
actionability = 1

[controls.nist_800_53]
version = "rev5"
implemented = ["AC-2", "SI-4", "CM-7"]
partial = ["AC-4"]

[[detections]]
source = "sigma"
paths = ["rules/windows/process_creation/proc_creation_win_powershell_*"]

[data]
dettect_data_sources = "{samples}/data-sources-endpoints.yaml"
dettect_techniques = "{samples}/techniques-administration-endpoints.yaml"

[threat]
groups = ["G0006", "APT29"]

[threat.weights]
APT29 = 2
"""


@pytest.fixture(scope="module")
def raw_attack(mirror):
    with gzip.open(mirror / "attack" / "enterprise-attack-18.1.json.gz") as fh:
        bundle = json.load(fh)
    ext = {}
    live = set()
    for o in bundle["objects"]:
        ids = [r["external_id"] for r in o.get("external_references", []) if r.get("source_name") == "mitre-attack"]
        if ids:
            ext[o["id"]] = ids[0]
            if o["type"] == "attack-pattern" and not o.get("revoked") and not o.get("x_mitre_deprecated"):
                live.add(ids[0])
    uses = defaultdict(set)
    revoked_by = {}
    for o in bundle["objects"]:
        if o["type"] != "relationship" or o.get("revoked") or o.get("x_mitre_deprecated"):
            continue
        if o["relationship_type"] == "uses" and o["source_ref"].startswith("intrusion-set--") and o["target_ref"].startswith("attack-pattern--"):
            tid = ext.get(o["target_ref"])
            if tid in live:
                uses[ext[o["source_ref"]]].add(tid)
        elif o["relationship_type"] == "revoked-by":
            revoked_by[ext.get(o["source_ref"])] = ext.get(o["target_ref"])
    return uses, revoked_by, live


@pytest.fixture(scope="module")
def scored(default_graph, threat, samples, tmp_path_factory):
    path = write_profile(tmp_path_factory.mktemp("p"), PROFILE.format(samples=samples))
    profile, issues = load_profile(path)
    assert issues == []
    return profile, results(default_graph, profile, threat)


def test_breakdown_recomputed_from_the_raw_data(scored, raw_attack, mirror, default_graph):
    profile, res = scored
    uses, revoked_by, live = raw_attack
    ctid = {}
    for t in json.loads((mirror / "threat/top-attack-techniques/src/data/Techniques.json").read_text()):
        tid = t["tid"]
        while tid not in live and tid in revoked_by:
            tid = revoked_by[tid]
        if tid in live:
            old = ctid.get(tid, (0.0, 0.0))
            ctid[tid] = (max(old[0], t["prevalence_score"]), max(old[1], t["choke_point_score"]))
    weights = {"G0006": 1.0, "G0016": 2.0}  # APT29 is G0016
    ranked = sorted((r for r in res["techniques"].values() if r["priority"]), key=lambda r: r["priority"]["rank"])
    assert [r["id"] for r in ranked[:10]] == res["top"]
    deployed = resolve(default_graph, profile).rules
    for r in ranked[:40] + ranked[-5:]:
        tid = r["id"]
        b = r["priority"]["breakdown"]
        threat = sum(w for g, w in weights.items() if tid in uses[g]) / sum(weights.values())
        prevalence, choke = ctid.get(tid, (0.0, 0.0))
        key = f"technique:{tid}"
        controls = {
            (fw, e["id"])
            for fw, entries in controls_of_technique(default_graph, key).items()
            for e in entries
            if e["in_coverage"] and e["kind"] in ("protect", "mitigate", "detect", "respond")
            and not (fw == "nist_800_53" and e["framework_version"] == "rev5" and e["id"] in ("AC-2", "SI-4", "CM-7", "AC-4"))
        }
        rules = [d for d in detections_of(default_graph, key) if "deprecated" not in d["flags"] and f"detection:{d['id']}" not in deployed]
        n = len(controls) + len(rules)
        assert b["threat"]["value"] == pytest.approx(threat, abs=1e-6), tid
        assert b["prevalence"]["value"] == pytest.approx(prevalence, abs=1e-6), tid
        assert b["choke_point"]["value"] == pytest.approx(choke, abs=1e-6), tid
        assert b["actionability"]["value"] == pytest.approx(n / (n + 10), abs=1e-6), tid
        expected = (3 * threat + prevalence + choke + n / (n + 10)) / 6
        assert r["priority"]["score"] == pytest.approx(expected, abs=1e-5), tid
    scores = [r["priority"]["score"] for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_every_ranked_technique_is_on_the_platforms(scored, default_graph):
    _, res = scored
    for r in res["techniques"].values():
        if r["priority"]:
            plats = set(default_graph.nodes[f"technique:{r['id']}"]["record"].platforms)
            assert not plats or plats & {"Windows", "Linux"}, r["id"]


def test_ctid_revoked_ids_are_followed(scored):
    _, res = scored
    assert res["ctid"]["outcome"]["T1574.002"] == {"status": "revoked", "target": "T1574.001"}


def test_visibility_from_collected_components(scored, default_graph, samples):
    """A technique is visible when one of its analytics (Windows or Linux) reads a data
    component the DeTT&CT data-source file makes available."""
    import yaml

    _, res = scored
    raw = yaml.safe_load((samples / "data-sources-endpoints.yaml").read_text())
    available = {d["data_source_name"].lower() for d in raw["data_sources"] if any(x["available_for_data_analytics"] for x in d["data_source"])}
    names = {k: n["name"].lower() for k, n in default_graph.nodes(data=True) if n["kind"] == "datacomponent"}
    for tid in ("T1059.001", "T1003.001", "T1486", "T1557"):
        key = f"technique:{tid}"
        verdicts = []
        for u, _, d in default_graph.in_edges(key, data=True):
            if default_graph.nodes[u]["kind"] != "detection_strategy":
                continue
            for a in default_graph.nodes[u]["record"].analytics:
                rec = default_graph.nodes[f"analytic:{a}"]["record"]
                if rec.platforms and not {"Windows", "Linux"} & set(rec.platforms):
                    continue
                verdicts.append(any(names.get(f"datacomponent:{ls.data_component}") in available for ls in rec.log_sources))
        expected = "unknown" if not verdicts else ("full" if all(verdicts) else "partial" if any(verdicts) else "none")
        assert res["techniques"][tid]["visibility"] == expected, tid


def test_priority_layers_are_valid(scored, default_graph):
    _, res = scored
    index = TechniqueIndex.of(default_graph)
    rendered = dict(layers_of(res, "https://soc.example.org/attack/"))
    assert {"priorities.json", "coverage.json", "visibility.json", "adversaries/G0006.json", "adversaries/G0016.json"} <= set(rendered)
    for rel, layer in rendered.items():
        data = layer.to_dict(default_graph, index)
        assert problems(data, default_graph, index) == [], rel
    top = rendered["priorities.json"].to_dict(default_graph, index)
    assert top["versions"] == {"attack": "18", "navigator": "5.1.0", "layer": "4.5"}
    assert top["gradient"]["maxValue"] == max(t["score"] for t in top["techniques"])


def test_adversary_gaps(scored, raw_attack):
    _, res = scored
    uses, _, _ = raw_attack
    by_id = {a["id"]: a for a in res["adversaries"]}
    assert set(by_id) == {"G0006", "G0016"}
    for gid, a in by_id.items():
        assert {t["id"] for t in a["techniques"]} == uses[gid]
        assert sum(a["counts"].values()) == len(uses[gid])
        for t in a["techniques"]:
            assert t["status"] == res["techniques"][t["id"]]["status"]


def test_badges_on_technique_cards(scored):
    from pipeline.render.pages.environment import environment
    from pipeline.render.pages.badges import badges_by_technique

    _, res = scored
    badges = badges_by_technique([res])
    top = res["top"][0]
    ranked = sum(1 for r in res["techniques"].values() if r["priority"])
    status = res["techniques"][top]["status"]
    (line,) = badges[f"technique:{top}"]
    assert line == f"**In your profile** [Sample SOC](../profiles/sample-soc.md): {status}, priority 1 of {ranked}"
    page = environment().get_template("docs-technique-profile.md.j2").render(profile_badges=badges[f"technique:{top}"])
    assert page == line + "\n\n"
    assert environment().get_template("docs-technique-profile.md.j2").render(profile_badges=()) == ""


def test_two_profiles_render_side_by_side(scored, default_graph, tmp_path):
    """The renderer of a build with two profiles: each its own folder, layers checked,
    a page each, one index."""
    import copy
    import csv

    from pipeline.render import RenderContext
    from pipeline.render.profiles import render

    _, res = scored
    other = copy.deepcopy(res)
    other["profile"] |= {"id": "second-soc", "name": "Second SOC"}
    ctx = RenderContext(graph=default_graph, profiles=(res, other))
    written = {p.relative_to(tmp_path).as_posix() for p in render(ctx, tmp_path)}
    for slug in ("sample-soc", "second-soc"):
        assert {f"profiles/{slug}/results.json", f"profiles/{slug}/priorities.csv", f"profiles/{slug}/layers/priorities.json", f"docs/profiles/{slug}.md"} <= written
    index = json.loads((tmp_path / "profiles" / "index.json").read_text())
    assert [p["id"] for p in index["profiles"]] == ["sample-soc", "second-soc"]
    rows = list(csv.reader((tmp_path / "profiles" / "sample-soc" / "priorities.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:7] == ["rank", "id", "name", "top", "coverage", "visibility", "score"]
    assert [r[1] for r in rows[1:11]] == res["top"]
    page = (tmp_path / "docs" / "profiles" / "sample-soc.md").read_text()
    assert page.startswith("# Sample SOC\n")
    assert f"| 1 | [{res['top'][0]}](../techniques/{res['top'][0]}.md)" in page
    # The same results give the same bytes.
    again = tmp_path / "again"
    render(RenderContext(graph=default_graph, profiles=(res, other)), again)
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (again / rel).read_bytes(), rel
