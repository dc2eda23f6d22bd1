"""Pages of the small written mirror: golden files, a hostile rule and mapping rendered
inert by two Markdown renderers, links that resolve, safe file names."""

from __future__ import annotations

import os
from pathlib import Path

import pages_fixture as fx
import pytest
from pages_html import both, broken_links, commonmark, markdown_links, problems, relative_links, scan, text_of

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path}"


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


def test_technique_page_matches_the_golden_file(small_docs):
    _golden("pages-small-T1046.md", (small_docs / "techniques" / "T1046.md").read_text(encoding="utf-8"))


def test_hostile_rule_page_matches_the_golden_file(small_docs):
    _golden("pages-small-hostile-rule.md", (small_docs / "detections" / "sigma" / f"{fx.HOSTILE_ID}.md").read_text(encoding="utf-8"))


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


def test_query_with_backtick_runs_stays_one_code_block(small_docs):
    """The fence is longer than any backtick run: the whole rule is one block, as written."""
    rule = (small_docs.parent.parent / "mirror" / "detections" / "sigma" / "rules" / "hostile.yml").read_text(encoding="utf-8")
    for page in ("techniques/T1046.md", f"detections/sigma/{fx.HOSTILE_ID}.md"):
        md = (small_docs / page).read_text(encoding="utf-8")
        for html in both(md):
            codes = [c for c in scan(html).codes if fx.HOSTILE_ID in c]
            assert codes == [rule], page


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
    assert len(rows) == 1 and rows[0].count("<td>") == 6
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


def test_rebuild_is_byte_identical(small_build, tmp_path):
    from pipeline.render import RenderContext
    from pipeline.render.pages import render

    out, ws = small_build
    again = tmp_path / "again"
    again.mkdir()
    for sub in ("layers", "reports"):  # the artifacts pages link to
        (again / sub).symlink_to(out / sub)
    written = render(RenderContext(graph=ws.graph(), workspace=ws), again)
    assert written
    for path in written:
        rel = path.relative_to(again)
        assert path.read_bytes() == (out / rel).read_bytes(), rel
