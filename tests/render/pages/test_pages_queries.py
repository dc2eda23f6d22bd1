"""The converted Sigma queries on the pages of the real default build: T1046's card
against pySigma run independently on the same rule files, the Kusto of every converted
rule on its page exactly as the backend wrote it and shaped like a query, and Splunk and
ES|QL laid out in tabs the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pages_html import code_blocks, fenced_blocks, markdown_links, sections

from pipeline.render.pages.builders import page_markdown

pytestmark = pytest.mark.realdata

ADVANCED_HUNTING_TABLES = frozenset({
    "DeviceEvents", "DeviceFileCertificateInfo", "DeviceFileEvents", "DeviceImageLoadEvents", "DeviceInfo", "DeviceLogonEvents",
    "DeviceNetworkEvents", "DeviceNetworkInfo", "DeviceProcessEvents", "DeviceRegistryEvents",
})


def sigma_rules_of(site, technique: str) -> list[str]:
    g = site.g
    return sorted(
        u for u, _, d in g.in_edges(technique, data=True)
        if d.get("relation") == "detects" and g.nodes[u].get("kind") == "detection" and g.nodes[u]["record"].format == "sigma-yaml"
    )


def independently(site, mirror: Path, key: str, language: str):
    """pySigma's own path (`SigmaCollection.from_yaml` on the file, a fresh backend with
    the pipeline) → (queries, None) or (None, reason)."""
    from sigma.collection import SigmaCollection

    from pipeline.convert.sigma import reason_of
    from pipeline.convert.targets import target

    d = site.g.nodes[key]["record"]
    text = (mirror / "detections" / "sigma" / d.path).read_text(encoding="utf-8")
    try:
        return target(language).backend().convert(SigmaCollection.from_yaml(text)), None
    except Exception as exc:  # noqa: BLE001 - the reason is what is compared
        return None, reason_of(exc)[0]


def balanced(query: str) -> bool:
    """Brackets balance and close in order outside string literals, and every string closes."""
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    quote = None
    i = 0
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "([{":
            stack.append(c)
        elif c in pairs:
            if not stack or stack.pop() != pairs[c]:
                return False
        i += 1
    return quote is None and not stack


def no_page_escaping(query: str, rule: str) -> bool:
    """No HTML entity, Jinja delimiter or Markdown backslash-escape that the rule itself
    does not hold (the page text is also compared with the backend's output)."""
    return all(x in rule for x in ("{{", "{%", "&lt;", "&gt;", "&amp;", "\\`") if x in query)


@pytest.fixture(scope="module")
def card(seed_site) -> str:
    return page_markdown(seed_site, "technique:T1046")


def test_every_sigma_rule_of_t1046_is_on_the_card_as_pysigma_converts_it(seed_site, card, mirror):
    rules = sigma_rules_of(seed_site, "technique:T1046")
    assert len(rules) == 22  # the mirror's README: 22 Sigma rules tagged attack.t1046 across its folders
    query = sections(card)["Query"]
    blocks = code_blocks(query)
    kusto = [body for info, body in blocks if info == "kusto"]
    links = set(markdown_links(query))
    converted = failed = 0
    for key in rules:
        assert "../" + seed_site.pages[key] in links, key
        queries, reason = independently(seed_site, mirror, key, "kusto")
        if queries is not None:
            converted += 1
            for q in queries:
                assert q in kusto, key
        else:
            failed += 1
            line = next(line for line in query.split("\n") if seed_site.pages[key].rsplit("/", 1)[1] in line and line.startswith("- "))
            assert line.endswith(": " + reason.replace("*", "\\*").replace("[", "\\[").replace("]", "\\]")), line
    assert converted == len(kusto) and converted >= 12 and failed >= 1
    assert f"*{converted} of 22 Sigma rules naming this technique converted to Kusto (Microsoft Defender XDR)" in query
    # The seed's three KQL queries still lead the section, byte for byte; no Sigma YAML is left on the card.
    assert [info for info, _ in blocks[:3]] == ["Kusto"] * 3
    assert "yaml" not in {info for info, _ in blocks}
    assert "??? note" in query  # the list folds after the first rules


def test_the_rule_page_shows_the_conversion_and_the_rule(seed_site, mirror):
    key = next(k for k in sigma_rules_of(seed_site, "technique:T1046") if "pua_nmap_zenmap" in seed_site.g.nodes[k]["record"].path)
    md = page_markdown(seed_site, key)
    blocks = code_blocks(sections(md)["Query"])
    queries, _ = independently(seed_site, mirror, key, "kusto")
    rule = (mirror / "detections" / "sigma" / seed_site.g.nodes[key]["record"].path).read_text(encoding="utf-8")
    assert blocks == [("kusto", queries[0]), ("yaml", rule.strip("\n"))]
    assert "### Kusto (Microsoft Defender XDR)" in md and "### Sigma rule" in md


def test_every_converted_kusto_query_is_on_its_page_exactly_and_shaped_like_a_query(seed_site):
    g = seed_site.g
    counted = 0
    tables = set()
    for key, node in g.nodes(data=True):
        for c in node.get("conversions", ()):
            if c.language != "kusto" or not c.ok:
                continue
            md = page_markdown(seed_site, key)
            on_page = [body for info, body in code_blocks(md) if info == "kusto"]
            assert on_page == list(c.queries), key
            for q in c.queries:
                first = re.match(r"[A-Za-z_][A-Za-z0-9_]*", q)
                assert first and q[first.end():first.end() + 3] in ("\n| ", ""), (key, q[:80])
                tables.add(first.group(0))
                assert balanced(q), (key, q)
                assert no_page_escaping(q, node["record"].queries[0].text), key
            counted += 1
    counts = g.graph["query_conversions"]["counts"]["kusto"]
    assert counted == counts["converted"] > 2000
    # Tables of Defender XDR's advanced hunting schema (the microsoft_xdr pipeline's targets).
    assert tables <= ADVANCED_HUNTING_TABLES, tables
    assert {"DeviceProcessEvents", "DeviceNetworkEvents", "DeviceFileEvents", "DeviceRegistryEvents"} <= tables


def test_splunk_and_esql_sit_in_tabs_exactly_as_converted(seed_site, mirror):
    """T1046's rules in three languages: one tab each, every query exactly as the backend
    wrote it, balanced, SPL without page escaping, ES|QL starting at `from`."""
    from pipeline.convert.gather import attach
    from pipeline.convert.run import convert_rules
    from pipeline.render.pages.pageset import Site

    g = seed_site.g.copy()
    rules = {g.nodes[k]["id"]: g.nodes[k]["record"].queries[0].text for k in sigma_rules_of(seed_site, "technique:T1046")}
    languages = ("kusto", "splunk", "esql")
    attach(g, convert_rules(rules, languages, cache_dir=None, jobs=1))
    site = Site.gather(g, seed_site.out, seed_site.attack_version, texts=seed_site.texts, detection_sources=seed_site.detection_sources,
                       mapping_sources=seed_site.mapping_sources)
    query = sections(page_markdown(site, "technique:T1046"))["Query"]
    assert [line for line in query.split("\n") if line.startswith("=== ")] == ['=== "KQL"', '=== "SPL"', '=== "ES|QL"']
    blocks = code_blocks(query)
    for language, info in (("splunk", "text"), ("esql", "sql")):
        expected = []
        for key in sigma_rules_of(seed_site, "technique:T1046"):
            queries, _ = independently(seed_site, mirror, key, language)
            expected += queries or []
        assert expected, language
        ours = [body for i, body in blocks if i == info]
        assert sorted(ours) == sorted(expected), language
        for q in ours:
            assert balanced(q) and no_page_escaping(q, "\n".join(rules.values())), q
            if language == "esql":
                assert q.startswith("from ")


def test_card_queries_still_lead_with_the_seed(card):
    seed = Path(__file__).resolve().parents[4] / "shared" / "seeds" / "technique-card-T1046.md"
    if not seed.is_file():
        pytest.skip("seed card not found")
    seed_blocks = fenced_blocks(seed.read_text(encoding="utf-8"))
    assert fenced_blocks(sections(card)["Query"])[: len(seed_blocks)] == seed_blocks
