"""Detections against ATT&CK 18.1: stale ids, derived tactics, graph edges, the T1046 case."""

from __future__ import annotations

import dataclasses
import re

import pytest

from pipeline.graph import query
from pipeline.graph.build import build_graph
from pipeline.graph.detections import add_detections, node_key
from pipeline.graph.views import technique_view
from pipeline.ingest.detections.attack_analytics import analytics_as_detections
from pipeline.ingest.detections.corpus import load_source
from pipeline.ingest.detections.load import select_sources
from pipeline.reconcile.detections import ReleaseIndex, reconcile_detections

from detection_helpers import corpus_files, source_for, write
from test_detections_elastic_splunk import ELASTIC_T1046, SPLUNK_T1046

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def index(workspace):
    return ReleaseIndex.of(workspace.releases())


@pytest.fixture(scope="module")
def graph(workspace, detection_set):
    g = build_graph(workspace.releases())
    add_detections(g, detection_set.detections)
    return g


def test_stale_ids_resolve_or_are_flagged(index, workspace):
    assert (index.resolve("T1046").status, index.resolve("T1046").target) == ("live", "T1046")
    assert (index.resolve("T1170").status, index.resolve("T1170").target) == ("revoked", "T1218.005")
    assert index.resolve("T1436").status == "deprecated"  # a Mobile technique, deprecated in 18.1
    assert index.resolve("T9999").status == "unknown"
    enterprise_only = ReleaseIndex.of([r for r in workspace.releases() if r.domain == "enterprise"])
    assert enterprise_only.resolve("T1436").status == "unknown"


def test_a_card_naming_t1436_and_t1170_is_reported(tmp_path, index):
    root = tmp_path / "cards"
    write(root, "Execution/old.md", "# Old ids\n\nUses T1170 (mshta) and T1436.\n\n```\nDeviceProcessEvents\n```\n")
    load = load_source(source_for("hunting-cards", "cards"), root, cache_dir=None)
    result = reconcile_detections(load.detections, index)
    [d] = result.detections
    assert [(t.attack_id, t.status, t.target) for t in d.techniques] == [("T1170", "revoked", "T1218.005"), ("T1436", "deprecated", "T1436")]
    codes = sorted(i.code for i in result.issues)
    assert codes == ["detection-technique-deprecated", "detection-technique-revoked"]
    for issue in result.issues:
        assert issue.file == "cards/Execution/old.md" and issue.record == "Old ids"
    assert any("T1170 is revoked in ATT&CK 18.1" in i.problem and "T1218.005" in i.problem for i in result.issues)
    # Tactics come from the folder and are derived from the live replacement technique.
    assert [(t.shortname, t.how, t.attack_id) for t in d.tactics][0] == ("execution", "folder", "TA0002")
    assert ("defense-evasion", "derived", "TA0005") in [(t.shortname, t.how, t.attack_id) for t in d.tactics]


def test_sigma_tactics_newer_than_the_release_are_reported_not_dropped(mirror, detection_set, by_source):
    root = mirror / "detections" / "sigma"
    stealth = sum(1 for p in corpus_files(root, (".yml",)) if re.search(r"^\s*-\s*attack\.stealth\s*$", p.read_text(), re.M))
    assert detection_set.reconciled.unknown_tactics["sigma"]["stealth"] == stealth
    assert sum(1 for d in by_source["sigma"] if "stealth" in {t.shortname for t in d.tactics}) == stealth
    both = {d.id for d in by_source["sigma"] for t in d.tactics if t.shortname == "privilege-escalation"}
    underscore = sum(1 for p in corpus_files(root, (".yml",)) if re.search(r"^\s*-\s*attack\.privilege_escalation\s*$", p.read_text(), re.M))
    assert underscore and len(both) >= underscore
    assert all(t.attack_id == "TA0004" for d in by_source["sigma"] for t in d.tactics if t.shortname == "privilege-escalation")


def test_attack_analytics_are_detections(workspace, by_source):
    expected = {}
    for release in workspace.releases():
        for ds in release.of_kind("detection_strategy", live_only=False):
            for a in ds.analytics:
                if release.get(f"analytic:{a}") is not None:
                    expected[a] = {ls.name for ls in release.get(f"analytic:{a}").log_sources}
    got = {d.native_id: d for d in by_source["attack"]}
    assert set(got) == set(expected)
    assert all(not d.queries and d.description for d in got.values())  # text, never a query
    assert all({s.rsplit(" (", 1)[0] for s in d.data_sources} == expected[a] for a, d in got.items())
    assert analytics_as_detections(workspace.releases()) == sorted(
        analytics_as_detections(workspace.releases()), key=lambda d: d.id
    )


def test_t1046_page_lists_its_detections(mirror, graph, workspace, by_source):
    view = technique_view(graph, query.technique(graph, "T1046"))
    found = view["detections"]
    per_source: dict[str, list] = {}
    for item in found:
        per_source.setdefault(item["source"], []).append(item)
    [card] = per_source["cards"]
    assert (card["queries"], card["languages"], card["how"]) == (3, ["kql"], "title")
    assert len(per_source["sigma"]) == 22
    assert sorted(i["path"] for i in per_source["sigma"] if "unsupported" in i["flags"]) == [
        "unsupported/network/net_firewall_susp_network_scan_by_ip.yml",
        "unsupported/network/net_firewall_susp_network_scan_by_port.yml",
    ]
    elastic_root = mirror / "detections" / "elastic-detection-rules"
    elastic = {p.relative_to(elastic_root).as_posix() for p in corpus_files(elastic_root, (".toml",), ("rules", "rules_building_block", "hunting")) if ELASTIC_T1046.search(p.read_text())}
    assert {i["path"] for i in per_source["elastic"]} == elastic
    splunk_root = mirror / "detections" / "splunk-security_content"
    splunk = {p.relative_to(splunk_root).as_posix() for p in corpus_files(splunk_root / "detections", (".yml",)) if SPLUNK_T1046.search(p.read_text())}
    assert {i["path"] for i in per_source["splunk"]} == splunk
    [strategy] = view["detection_strategies"]
    analytics = {a["id"] for a in strategy["analytics"]}
    assert analytics == {d.native_id for d in by_source["attack"] if "T1046" in d.technique_ids}
    assert found == sorted(found, key=lambda i: (i["source"], i["title"].lower(), i["id"]))


def test_revoked_ids_lead_to_their_replacement_with_the_published_id_on_the_edge(graph, by_source):
    tor = next(d for d in by_source["m365-hunting-queries"] if d.path == "Command and Control/Tor.txt")
    edges = graph.get_edge_data(node_key(tor), "technique:T1090.003")
    assert edges["detects:T1090.003"] | {} == {"relation": "detects", "how": "link", "published_id": "T1188", "status": "revoked"}
    view = technique_view(graph, query.technique(graph, "T1090.003"))
    [item] = [i for i in view["detections"] if i["id"] == tor.id]
    assert (item["published_id"], item["published_status"]) == ("T1188", "revoked")


def test_detections_with_only_tactics_link_to_the_tactic(graph, by_source):
    card = next(d for d in by_source["m365-hunting-queries"] if d.path == "Campaigns/Sysrv-botnet/app-armor-stopped.md")
    assert [v for _u, v, k in graph.out_edges(node_key(card), keys=True)] == ["tactic:TA0002"]
    node = graph.nodes[node_key(card)]
    assert (node["kind"], node["source"], node["language"]) == ("detection", "m365-hunting-queries", "kql")
    assert not any(n.startswith("detection:attack:") for n in graph)


def test_only_enabled_sources_by_default(config):
    sources = tuple(dataclasses.replace(s, enabled=False) if s.id == "detections/sigma" else s for s in config.sources)
    changed = dataclasses.replace(config, sources=sources, _by_id={})
    chosen, attack = select_sources(changed, None)
    assert "detections/sigma" not in {s.id for s in chosen} and attack
    chosen, attack = select_sources(changed, ["sigma"])
    assert [s.id for s in chosen] == ["detections/sigma"] and not attack
