"""`stats --attack-only` counts from the records (pipeline.graph.counts) without building
the graph: they must be what `query.stats` finds in the graph the same releases build."""

from __future__ import annotations

import pytest

from pipeline.graph import query
from pipeline.graph.build import build_graph
from pipeline.graph.counts import attack_stats


def test_counts_equal_the_graphs_for_all_domains_together(release_cache):
    releases = [release_cache(d, "18.1") for d in ("enterprise", "mobile", "ics")]
    assert attack_stats(releases) == query.stats(build_graph(releases))


@pytest.mark.parametrize("domains", [("enterprise",), ("mobile",), ("ics",), ("ics", "enterprise", "mobile")])
def test_counts_equal_the_graphs_per_domain_and_order(release_cache, domains):
    releases = [release_cache(d, "18.1") for d in domains]
    assert attack_stats(releases) == query.stats(build_graph(releases))


def test_counts_equal_the_graphs_on_a_stix_2_0_release(release_cache):
    releases = [release_cache("enterprise", "8.2")]
    assert attack_stats(releases) == query.stats(build_graph(releases))
