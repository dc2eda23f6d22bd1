"""Graph schema and queries on the real 18.1 release."""

from __future__ import annotations

from pipeline.graph import query


def test_technique_lookup_and_revoked_redirect(graph_18):
    assert query.technique(graph_18, "t1046").key == "technique:T1046"
    assert query.technique(graph_18, "technique:T1003/001").key == "technique:T1003.001"
    found = query.technique(graph_18, "T1086")  # PowerShell, revoked for T1059.001
    assert found.key == "technique:T1059.001"
    assert found.redirect.chain == ("T1086", "T1059.001")
    assert query.technique(graph_18, "T9999") is None
    assert query.technique(graph_18, "not an id") is None


def test_dead_end_revocation_answers_with_its_reason(graph_18):
    found = query.technique(graph_18, "T1454")
    assert found.key not in graph_18 and found.redirect.status == "dead_end"


def test_techniques_of_tactic_in_matrix_order(graph_18):
    keys = query.techniques_of_tactic(graph_18, "TA0007")
    names = [graph_18.nodes[k]["name"].lower() for k in keys]
    assert names == sorted(names) and "technique:T1046" in keys
    assert all(not graph_18.nodes[k]["subtechnique"] for k in keys)
    full = query.techniques_of_tactic(graph_18, "TA0006", include_subtechniques=True)
    i = full.index("technique:T1003")
    assert full[i + 1] == "technique:T1003.001"
    assert query.techniques_of_tactic(graph_18, "TA9999") == []


def test_subtechniques_and_neighbours(graph_18):
    subs = query.subtechniques(graph_18, "technique:T1003")
    assert subs[0] == "technique:T1003.001" and len(subs) == 8
    mitigations = [k for k, _, _ in query.neighbours(graph_18, "technique:T1046", "mitigates", "in")]
    assert mitigations == ["mitigation:M1030", "mitigation:M1031", "mitigation:M1042"]
    tactics = query.neighbours(graph_18, "technique:T1046", "in_tactic", "out")
    assert [k for k, d, _ in tactics] == ["tactic:TA0007"] and tactics[0][1] == "out"


def test_schema_node_keys_and_edge_attributes(graph_18):
    kinds = {}
    for key, n in graph_18.nodes(data=True):
        prefix, _, ident = key.partition(":")
        assert prefix == n["kind"] and ident == n["id"] and n["record"].key == key
        kinds.setdefault(n["kind"], 0)
        kinds[n["kind"]] += 1
    assert set(kinds) == {
        "tactic", "technique", "mitigation", "group", "software", "campaign", "datasource",
        "datacomponent", "detection_strategy", "analytic", "asset",
    }
    for u, v, k, d in graph_18.edges(keys=True, data=True):
        assert d["relation"] and d["domain"] in ("enterprise", "mobile", "ics")


def test_shared_objects_are_one_node(graph_18):
    # Mitigations and groups shared by Enterprise and Mobile are one node with both domains.
    shared = [k for k, n in graph_18.nodes(data=True) if len(n["domains"]) > 1]
    assert shared
    assert set(graph_18.graph["releases"]) == {"enterprise", "mobile", "ics"}


def test_v18_detection_chain(graph_18):
    strategies = [k for k, _, _ in query.neighbours(graph_18, "technique:T1046", "detects", "in")]
    assert strategies == ["detection_strategy:DET0376"]
    analytics = [k for k, _, _ in query.neighbours(graph_18, strategies[0], "has_analytic", "out")]
    assert len(analytics) == 4
    logs = query.neighbours(graph_18, analytics[0], "log_source", "out")
    assert logs and all(k.startswith("datacomponent:DC") for k, _, _ in logs)


def test_stats_agree_with_the_releases(graph_18, release_cache):
    s = query.stats(graph_18)
    ent = release_cache("enterprise", "18.1")
    assert s["nodes_by_domain"]["enterprise"]["technique"] == 216
    assert s["nodes_by_domain"]["enterprise"]["subtechnique"] == 475
    assert s["edges"]["detects"] == 691 + 124 + 83
    assert s["revoked"] == {"dead_end": 1, "deprecated": 8, "live": 184}
    assert sum(1 for o in ent.objects.values() if o.kind == "technique" and o.live) == 691
