"""Pages of the real default build: the T1046 card against both seeds, a byte-stable
golden T1046 card, and the whole docs tree (counts from the inputs, links, reachability,
no HTML from sources, queries intact)."""

from __future__ import annotations

import gzip
import json
import re
from collections import deque
from pathlib import Path

import pytest
from pages_html import (
    broken_links, code_blocks, commonmark, fenced_blocks, generated_html, markdown_links, problems, raw_html, relative_links,
    scan, sections, tables, text_of,
)  # fmt: skip

from seed_mappings import parse_seed

from pipeline.render.pages.builders import page_markdown

pytestmark = pytest.mark.realdata

SEEDS = Path(__file__).resolve().parents[4] / "shared" / "seeds"
# Score of each seed row of the 2021 Azure table, in seed order (published in the 2021 table).
SEED_AZURE_SCORES = ["protect, partial", "detect, partial", "protect, partial", "detect, partial", "protect, partial", "detect, significant"]


@pytest.fixture(scope="module")
def card(seed_site) -> str:
    return page_markdown(seed_site, "technique:T1046")


@pytest.fixture(scope="module")
def seed_card() -> str:
    path = SEEDS / "technique-card-T1046.md"
    if not path.is_file():
        pytest.skip("seed card not found")
    return path.read_text(encoding="utf-8")


def _attack_t1046(mirror: Path) -> dict:
    with gzip.open(mirror / "attack" / "enterprise-attack-18.1.json.gz") as fh:
        objects = json.load(fh)["objects"]
    return next(o for o in objects if o["type"] == "attack-pattern" and any(r.get("external_id") == "T1046" for r in o.get("external_references", [])))


# --- the T1046 card against the seed card ---------------------------------------------------------


def test_card_has_the_seed_cards_sections_in_order(card, seed_card):
    ours = [line[3:] for line in card.split("\n") if line.startswith("## ")]
    seed = [line[3:] for line in seed_card.split("\n") if line.startswith("## ")]
    assert seed == ["Query", "Category", "See also", "Contributor info"]
    assert [s for s in ours if s in seed] == seed


def test_card_title_and_description(card, seed_card, mirror):
    t = _attack_t1046(mirror)
    assert card.split("\n")[0] == f"# T1046 {t['name']}" == "# T1046 Network Service Discovery"
    assert seed_card.split("\n")[0].startswith("# T1046 ")
    before, rule, _ = card.partition("\n---\n")
    assert rule and "## Query" not in before
    seed_paragraphs = [p for p in seed_card.partition("\n---\n")[0].split("\n\n")[1:] if p.strip()]
    ours = text_of(commonmark(before))
    assert "Adversaries may attempt to get a listing of services running on remote hosts" in ours
    assert seed_paragraphs[1] in ours  # ATT&CK kept the cloud paragraph word for word
    assert "dns-sd -B _ssh._tcp ." in scan(commonmark(before)).codes  # <code> became a code span
    cited = re.findall(r"\(Citation: ([^)]+)\)", t["description"])
    assert re.findall(r"\\\[(\d+)\\\]", before) == [str(i) for i in range(1, len(cited) + 1)]


def test_card_queries_come_first_as_in_the_seed(card, seed_card):
    seed_blocks = [b for b in fenced_blocks(seed_card)]
    assert [info for info, _ in seed_blocks] == ["Kusto"] * 3
    ours = fenced_blocks(sections(card)["Query"])
    assert ours[: len(seed_blocks)] == seed_blocks
    assert {info for info, _ in ours[3:]} <= {"kusto", "eql", "esql", "kuery", "spl", "Kusto", "lucene", "sql"}


def test_card_lists_every_detection_of_the_technique(card, seed_site):
    g = seed_site.g
    expected = {u for u, _, d in g.in_edges("technique:T1046", data=True) if d.get("relation") == "detects" and g.nodes[u]["kind"] == "detection"}
    query = sections(card)["Query"]
    linked = {l for l in markdown_links(query) if l.startswith("../detections/")}
    assert linked == {"../" + seed_site.pages[k] for k in expected}
    # Each rule's own queries, but a Sigma rule's as converted (the rule itself is on its page).
    queries = sum(1 for k in expected if g.nodes[k]["record"].format != "sigma-yaml" for q in g.nodes[k]["record"].queries if q.text.strip())
    queries += sum(len(c.queries) for k in expected for c in g.nodes[k].get("conversions", ()) if c.language == "kusto")
    assert len(code_blocks(query)) == queries
    assert "### ATT&CK analytics" in query and "AN1057" in query and "WinEventLog:Sysmon (EventCode=1)" in query


def test_card_category_table_keeps_the_seed_rows(card, seed_card):
    (seed_table,) = tables(commonmark(sections(seed_card)["Category"]))
    (ours,) = tables(commonmark(sections(card)["Category"]))
    assert ours[0] == seed_table[0] == ["Technique, tactic, or state", "Covered? (v=yes)", "Notes"]
    by_label = {r[0].lower(): r for r in ours[1:]}
    order = [r[0].lower() for r in ours[1:]]
    seed_labels = [r[0].lower() for r in seed_table[1:]]
    assert all(label in by_label for label in seed_labels)
    assert [order.index(label) for label in seed_labels] == sorted(order.index(label) for label in seed_labels)
    for label, mark, note in seed_table[1:]:
        row = by_label[label.lower()]
        assert row[1] == mark
        assert row[2].rstrip("/") == note.rstrip("/")
    # ATT&CK 18.1's tactics before Initial Access are rows too, unmarked.
    assert order[:2] == ["reconnaissance", "resource development"] and by_label["reconnaissance"][1] == ""


def test_card_mapping_tables_hold_the_seed_rows(card):
    section = sections(card)["Controls and capabilities"]
    html = commonmark(section)
    found = tables(html)
    headings = re.findall(r"^### (.*)$", section, re.M)
    by_framework = {h: t for h, t in zip(headings, found)}
    nist = next(t for h, t in by_framework.items() if "NIST 800-53" in h)
    azure = next(t for h, t in by_framework.items() if "Microsoft Azure 06/29/2021" in h)
    # The seed's columns less the technique's own id and name (the same on every row).
    header = ["Capability ID", "Capability Description", "Mapping Type", "Notes"]
    assert nist[0] == azure[0] == header
    seed = parse_seed()
    seed_nist = [r for r in seed if r["type"] == "Protects"]
    seed_azure = [r for r in seed if r["type"] == "technique_scores"]
    assert len(seed_nist) == 11 and len(seed_azure) == 6
    assert {r["technique"] for r in seed} == {"T1046"}
    assert sorted((r[0], r[1]) for r in nist[1:]) == sorted((r["id"], r["description"]) for r in seed_nist)
    got = sorted((r[0], r[1], r[2]) for r in azure[1:])
    want = sorted((r["id"], r["description"], f"{r['type']} ({score})") for r, score in zip(seed_azure, SEED_AZURE_SCORES))
    assert got == want
    for r in seed_azure:
        assert any(" ".join(r["comments"].split()) in row[3] for row in azure[1:] if row[0] == r["id"])
    # Renamed since the table's release: the notes say what it was published as.
    assert all("Network Service Scanning" in row[3] for row in azure[1:])


def test_card_see_also_and_contributors(card, seed_card):
    s = sections(card)
    assert "https://attack.mitre.org/techniques/T1046" in markdown_links(s["See also"])
    assert "Alex Verboon" in s["Contributor info"]
    assert "Alex Verboon" in sections(seed_card)["Contributor info"]
    assert "Praetorian" in s["Contributor info"]  # x_mitre_contributors of T1046 in 18.1


def test_t1046_card_matches_the_golden_file(card, seed_site, golden):
    """Byte for byte, and the same bytes when rendered again from the same site."""
    golden.check("pages-T1046.md", card)
    seed_site.memo.clear()
    assert page_markdown(seed_site, "technique:T1046") == card


# --- the whole docs tree of the default build ---------------------------------------------------


def _live_technique_ids(mirror: Path) -> set[str]:
    """Counted from the bundles, not from the graph."""
    ids = set()
    for domain in ("enterprise", "mobile", "ics"):
        with gzip.open(mirror / "attack" / f"{domain}-attack-18.1.json.gz") as fh:
            objects = json.load(fh)["objects"]
        for o in objects:
            if o["type"] != "attack-pattern" or o.get("revoked") or o.get("x_mitre_deprecated"):
                continue
            ids.update(r["external_id"] for r in o.get("external_references", []) if r.get("source_name", "").startswith("mitre-") and r.get("source_name", "").endswith("attack"))
    return ids


def test_one_page_per_live_technique(real_docs, mirror):
    docs, _ = real_docs
    pages = {p.stem for p in (docs / "techniques").glob("*.md")}
    assert pages == _live_technique_ids(mirror)
    assert len(pages) > 850


def test_one_page_per_detection_and_per_mapped_control(real_docs, real_workspace):
    docs, _ = real_docs
    ws = real_workspace
    g = ws.graph()
    per_source: dict[str, int] = {}
    for d in ws.detections().detections:
        if d.source != "attack":
            per_source[d.source] = per_source.get(d.source, 0) + 1
    assert {s: len(list((docs / "detections" / s).glob("*.md"))) for s in per_source} == per_source
    subjects = set()
    for table in ws.controls().tables:
        for r in table.remapped:
            if r.mapping.subject_key and r.technique_id and f"technique:{r.technique_id}" in g:
                subjects.add(r.mapping.subject_key)
    assert len(list((docs / "controls").rglob("*.md"))) == len(subjects) > 900


def test_every_relative_link_resolves_and_every_page_is_reachable(real_docs):
    docs, written = real_docs
    links: dict[Path, list[str]] = {}
    for path in written:
        found = markdown_links(path.read_text(encoding="utf-8"))
        assert broken_links(docs, path, found) == [], path
        links[path.resolve()] = relative_links(found)
    seen = {(docs / "index.md").resolve()}
    todo = deque(seen)
    while todo:
        page = todo.popleft()
        for link in links.get(page, ()):
            target = (page.parent / link).resolve()
            if target not in seen and target.suffix == ".md":
                seen.add(target)
                todo.append(target)
    assert {p.resolve() for p in written} - seen == set()


def test_no_html_from_sources_reaches_a_page(real_docs):
    docs, written = real_docs
    bad = {}
    pictures = 0
    for path in written:
        md = path.read_text(encoding="utf-8")
        lines = raw_html(md)
        if lines:
            bad[str(path.relative_to(docs))] = lines[:2]
        for block in generated_html(md):
            pictures += 1
            if problems(block):
                bad[str(path.relative_to(docs))] = problems(block)[:2]
    assert bad == {}
    assert pictures >= 900  # a coverage picture on every card, framework tables, heatmaps and charts


def test_queries_with_backtick_runs_stay_whole(real_docs, real_workspace):
    docs, _ = real_docs
    g = real_workspace.graph()
    found = 0
    for key, n in g.nodes(data=True):
        if n["kind"] != "detection" or not any("```" in q.text for q in n["record"].queries):
            continue
        page = docs / "detections" / n["source"] / f"{n['record'].native_id}.md"
        codes = scan(commonmark(page.read_text(encoding="utf-8"))).codes
        converted = [q + "\n" for c in n.get("conversions", ()) for q in c.queries]
        assert codes == converted + [q.text + "\n" for q in n["record"].queries if q.text.strip()], page
        found += 1
    assert found >= 10
