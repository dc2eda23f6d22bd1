"""Pages of the small written mirror: golden files, a hostile rule and mapping rendered
inert by two Markdown renderers, links that resolve, safe file names."""

from __future__ import annotations

from pathlib import Path

import pages_fixture as fx
import pytest
from pages_html import both, broken_links, commonmark, markdown_links, problems, relative_links, scan, text_of



def test_every_page_kind_is_written(small_docs):
    names = sorted(p.relative_to(small_docs).as_posix() for p in small_docs.rglob("*.md"))
    assert names == [
        "controls/azure/azure_firewall.md",
        "controls/azure/azure_sentinel.md",
        f"controls/azure/odd-id-.-x-{__import__('hashlib').sha256(b'odd id/../x').hexdigest()[:8]}.md",
        "detections/cards.md",
        "detections/cards/735ac006b8dca6a7.md",
        "detections/sigma.md",
        f"detections/sigma/{fx.HOSTILE_ID}.md",
        f"detections/sigma/{fx.PLAIN_ID}.md",
        "frameworks/azure.md",
        "index.md",
        "tactics/TA0006.md",
        "tactics/TA0007.md",
        "techniques/T1003.001.md",
        "techniques/T1003.md",
        "techniques/T1046.md",
    ]


def test_technique_page_matches_the_golden_file(small_docs, golden):
    golden.check("pages-small-T1046.md", (small_docs / "techniques" / "T1046.md").read_text(encoding="utf-8"))


def test_hostile_rule_page_matches_the_golden_file(small_docs, golden):
    golden.check("pages-small-hostile-rule.md", (small_docs / "detections" / "sigma" / f"{fx.HOSTILE_ID}.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", ["techniques/T1046.md", f"detections/sigma/{fx.HOSTILE_ID}.md", "controls/azure/azure_firewall.md", "index.md", "detections/sigma.md"])
def test_hostile_text_renders_inert(small_docs, page):
    md = (small_docs / page).read_text(encoding="utf-8")
    for html in both(md):
        assert problems(html) == [], page
        assert "javascript:" not in " ".join(scan(html).hrefs)


def test_hostile_title_is_shown_as_written(small_docs):
    md = (small_docs / "detections" / "sigma" / f"{fx.HOSTILE_ID}.md").read_text(encoding="utf-8")
    html = commonmark(md)
    heading = html.split("</h1>")[0]
    assert text_of(heading).removeprefix("<h1>") == fx.HOSTILE_TITLE


def test_query_with_backtick_runs_stays_one_code_block(small_docs, small_build):
    """The fence is longer than any backtick run: the whole rule is one block, as written,
    on its page, and its Kusto conversion one block, as pySigma wrote it, on the card
    and on the rule's page."""
    rule = (small_docs.parent.parent / "mirror" / "detections" / "sigma" / "rules" / "hostile.yml").read_text(encoding="utf-8")
    g = small_build[1].graph()
    (kusto,) = next(c for c in g.nodes[f"detection:sigma:{fx.HOSTILE_ID}"]["conversions"] if c.language == "kusto").queries
    assert "a ``` b ```` c ` d" in kusto
    for page, expected in (("techniques/T1046.md", [kusto]), (f"detections/sigma/{fx.HOSTILE_ID}.md", [kusto, rule])):
        md = (small_docs / page).read_text(encoding="utf-8")
        for html in both(md):
            codes = [c.rstrip("\n") for c in scan(html).codes if "a ``` b" in c]
            assert codes == [c.rstrip("\n") for c in expected], page


def test_attack_prose_keeps_safe_links_and_drops_the_rest(small_docs):
    md = (small_docs / "techniques" / "T1046.md").read_text(encoding="utf-8")
    html = commonmark(md)
    hrefs = scan(html).hrefs
    assert "T1003.md" in hrefs  # an attack.mitre.org technique link becomes our page
    assert "https://attack.mitre.org/software/S0002" in hrefs
    assert "https://example.org/scan" in hrefs
    assert not [h for h in hrefs if "alert" in h]
    assert "nmap -sV <host>" in scan(html).codes  # <code> with entities → a code span
    assert "[1]" in text_of(html) and "1. " in md and "Example. (2024). Scan report." in md


def test_mapping_comment_with_html_and_pipes_stays_in_its_cell(small_docs):
    md = (small_docs / "techniques" / "T1046.md").read_text(encoding="utf-8")
    html = commonmark(md)
    rows = [r for r in html.split("<tr>") if "azure_firewall" in r]
    # ID, name, type, notes: the technique's id and name are the page's, not repeated per row.
    assert len(rows) == 1 and rows[0].count("<td>") == 4
    assert "Filters traffic | <img src=x onerror=alert(5)>" in text_of(rows[0])


def test_every_relative_link_resolves(small_build):
    out, _ = small_build
    docs = out / "docs"
    pages = sorted(docs.rglob("*.md"))
    found = 0
    for page in pages:
        links = markdown_links(page.read_text(encoding="utf-8"))
        found += len(relative_links(links))
        assert broken_links(out, page, links) == [], page
    assert found > 50


def test_link_extraction_agrees_with_a_markdown_parser(small_docs):
    """The link check reads links with a regex (the real tree is large); it must see what a
    CommonMark parser sees."""
    for page in small_docs.rglob("*.md"):
        md = page.read_text(encoding="utf-8")
        assert sorted(markdown_links(md)) == sorted(scan(commonmark(md)).hrefs), page


def test_technique_page_links_the_coverage_layer_of_the_same_build(small_build):
    out, _ = small_build
    md = (out / "docs" / "techniques" / "T1046.md").read_text(encoding="utf-8")
    assert "](../../layers/enterprise/coverage.json)" in md
    framework = (out / "docs" / "frameworks" / "azure.md").read_text(encoding="utf-8")
    assert "](../../reports/reconcile/mapex--azure-test--enterprise.md)" in framework
    assert "](../../tables/enterprise/azure--06.29.2021.xlsx)" in framework


def test_rebuild_is_byte_identical(small_build, tmp_path):
    from pipeline.gather import gather
    from pipeline.render.pages import render

    out, ws = small_build
    again = tmp_path / "again"
    again.mkdir()
    for sub in ("layers", "reports", "stix", "tables"):  # the artifacts pages link to
        (again / sub).symlink_to(out / sub)
    written = render(gather(ws, renderers=("docs",)), again)
    assert written
    for path in written:
        rel = path.relative_to(again)
        assert path.read_bytes() == (out / rel).read_bytes(), rel


def test_the_early_pages_look_for_no_artifact_and_are_the_build_s(small_build, tmp_path, monkeypatch):
    """A build writes the pages of `EARLY_KINDS` while the other renderers run, before
    their files exist: those pages must not look for one (`Site.artifact`), and they
    are the bytes the whole build wrote."""
    from pipeline.gather import gather
    from pipeline.render.pages import early_work
    from pipeline.render.pages.pageset import Site

    out, ws = small_build
    asked = []
    monkeypatch.setattr(Site, "artifact", lambda self, page, rel: asked.append((page, rel)))
    work = early_work(gather(ws, renderers=("docs",)), tmp_path)
    written = [rel for piece in work.pieces for rel, *_ in piece()]  # outside a build: pages only, no digests
    assert asked == []
    assert {rel.split("/")[0] for rel in written} == {"detections", "tactics", "index.md"}
    for rel in written:
        assert (tmp_path / "docs" / rel).read_bytes() == (out / "docs" / rel).read_bytes(), rel


def test_every_page_kind_has_its_place_in_the_writing_order():
    from pipeline.render.pages import BY_COST, EARLY_KINDS
    from pipeline.render.pages.builders import KINDS

    assert sorted(BY_COST) == sorted(KINDS)
    assert EARLY_KINDS <= set(KINDS)


def test_a_technique_with_nothing_mapped_still_has_its_card(small_docs):
    md = (small_docs / "techniques" / "T1003.md").read_text(encoding="utf-8")
    assert md.startswith("# T1003 OS Credential Dumping\n")
    assert "No detection of the enabled sources names this technique." in md
    assert "No control or capability of the enabled mapping tables maps this technique." in md
    assert "| [T1003.001](T1003.001.md) | LSASS Memory | controls only; controls: azure 1 |" in md


def test_index_counts_techniques_by_what_covers_them(small_docs):
    """T1046: a control and detections; T1003.001: a capability only; T1003: nothing."""
    from pages_html import tables

    html = commonmark((small_docs / "index.md").read_text(encoding="utf-8"))
    coverage = tables(html)[0]
    assert coverage[0] == ["Matrix", "Live techniques", "≥1 control", "≥1 detection", "Both", "Neither"]
    assert coverage[1:] == [["Test Matrix", "3", "2", "1", "1", "1"]]


def test_related_mappings_do_not_count_as_coverage():
    import networkx as nx

    from pipeline.graph.coverage import technique_coverage

    g = nx.MultiDiGraph()
    g.add_node("technique:T1046", kind="technique", deprecated=False)
    g.add_node("capability:veris:x", kind="capability", framework="veris", deprecated=False)
    g.add_edge("capability:veris:x", "technique:T1046", key="related_to", relation="related_to")
    assert technique_coverage(g, "technique:T1046").klass == "neither"
    g.add_node("capability:azure:y", kind="capability", framework="azure", deprecated=False)
    g.add_edge("capability:azure:y", "technique:T1046", key="protects", relation="protects")
    assert technique_coverage(g, "technique:T1046").controls == {"azure": 1}


def test_attack_texts_are_cached_and_a_damaged_entry_is_a_miss(tmp_path):
    from pipeline.ingest.attack_texts import cached_attack_texts, read_attack_texts

    bundle = fx.sf.write(tmp_path / "b.json", fx.bundle())
    cache = tmp_path / "cache"
    first = cached_attack_texts(bundle, cache)
    assert first == read_attack_texts(bundle)
    assert first.contributors["technique:T1046"] == ("Ada Lovelace", "<b>Mallory</b>")
    (entry,) = (cache / "parsed" / "attack-texts").glob("*.json")
    assert cached_attack_texts(bundle, cache) == first
    entry.write_text('{"references": [[1, 2]], "contributors": "x"}')
    assert cached_attack_texts(bundle, cache) == first
