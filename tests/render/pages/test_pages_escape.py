"""Escaping of source text into Markdown: inert in two renderers and faithful (a
CommonMark renderer shows exactly the text), for any input (hypothesis)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pages_html import both, commonmark, problems, scan, text_of

from pipeline.ingest.attack_texts import Reference, texts_of_objects
from pipeline.core import escape
from pipeline.render.pages.environment import UnescapedValue, environment
from pipeline.render.pages.paths import file_stem, relative, stems
from pipeline.render.pages.prose import Citations, prose

# Text that exercises Markdown and HTML: punctuation-heavy, with hostile fragments.
_PIECES = list("ab1 _*`[]()<>&#|{}!-+.:=~\\\"'\n\t/;x\x00\u00a0") + ["<script>", "javascript:", "&lt;", "```", "1. ", "\n\n", "[a](javascript:b)"]
MARKUP = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CONTROLS = {c: " " for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]}


def _one_line(s: str) -> str:
    return " ".join(s.translate(_CONTROLS).split())


def _paragraph_html(md: str) -> str:
    html = commonmark(md).strip()
    assert html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1, html
    return html[3:-4]


@SETTINGS
@given(MARKUP)
def test_text_is_inert_and_shows_exactly_the_text(s):
    md = escape.text(s)
    assert "\n" not in md
    if not _one_line(s):
        assert md == ""
        return
    inner = _paragraph_html(md)
    assert re.sub(r"<[^>]+>", "", inner) == inner.replace("<br />", ""), "only text, no elements"
    assert text_of(inner) == _one_line(s)
    for html in both(md):
        assert problems(html) == []


@SETTINGS
@given(MARKUP)
def test_cell_stays_in_its_cell(s):
    md = f"| a | b |\n|-|-|\n| {escape.cell(s)} | z |\n"
    html = commonmark(md)
    assert html.count("<td>") + html.count("<td ") == 2 and html.count("<tr>") == 2
    cell = html.split("<td>")[1].split("</td>")[0]
    assert cell.replace("<br>", "") == re.sub(r"<[^>]+>", "", cell), "no element but the line breaks cell() writes"
    for h in both(md):
        assert problems(h) == []


@SETTINGS
@given(MARKUP)
def test_para_keeps_paragraphs_and_nothing_else(s):
    md = escape.para(s)
    for html in both(md):
        assert problems(html) == []
        assert set(scan(html).tags) <= {"p"}


@SETTINGS
@given(st.text(), st.sampled_from(["Kusto", "yaml", "spl", "bad`info lang", ""]))
def test_fence_holds_any_query_whole(body, info):
    md = f"before\n\n{escape.fence(body, info)}\n\nafter\n"
    expected = body.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS).strip("\n")
    # Python-Markdown expands tabs (tab_length 4) and empties whitespace-only lines before
    # it parses; CommonMark keeps both.
    pm = "\n".join(x if x.strip(" ") else "" for x in (line.expandtabs(4) for line in expected.split("\n")))
    for html, want in zip(both(md), (expected, pm)):
        codes = scan(html).codes
        assert len(codes) == 1
        assert codes[0].rstrip() == want.rstrip()  # Python-Markdown drops trailing blank space
        assert html.rstrip().endswith("<p>after</p>")


def test_fence_is_longer_than_any_backtick_run():
    assert escape.fence("a ```` b").startswith("`````\n")
    assert escape.fence("plain", "Kusto").startswith("```Kusto\n")
    assert escape.fence("x", "k`q l").startswith("```kql\n")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/a b(c)", "https://example.org/a%20b%28c%29"),
        ("http://x.org/?q=1&r=<2>", "http://x.org/?q=1&r=%3C2%3E"),
        ("mailto:a@b.org", "mailto:a@b.org"),
        ("javascript:alert(1)", None),
        (" JaVaScRiPt:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:x", None),
        ("/relative/path", None),
        ("", None),
    ],
)
def test_only_web_and_mail_urls_are_linked(url, safe):
    assert escape.safe_url(url) == safe


def test_link_without_a_safe_url_is_its_label():
    assert escape.link(escape.text("x"), "javascript:alert(1)") == "x"
    assert escape.link(escape.text("x"), "https://a.org") == "[x](https://a.org)"


PROSE_CASES = [
    ("[click](javascript:alert(1)) text", "click text"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("[a](https://x.org/p_(q)) b", "a b"),
    ("see <code>a<b && `c`</code>", "see a<b && `c`"),
    ("{: onclick=alert(1)}", "{: onclick=alert(1)}"),
    ("x\\[y](javascript:z) [k]: javascript:alert(1)", None),
    ("![img](https://x.org/i.png)", "img"),
    ("**bold** and _em_", "bold and em"),
]


@pytest.mark.parametrize(("source", "shown"), PROSE_CASES)
def test_prose_is_inert_and_keeps_its_text(source, shown):
    md = prose(source)
    for html in both(md):
        assert problems(html) == []
        assert "img" not in scan(html).tags
    if shown is not None:
        assert text_of(commonmark(md)).strip() == shown


@SETTINGS
@given(MARKUP)
def test_prose_is_inert_for_any_input(s):
    for html in both(prose(s, Citations({}))):
        assert problems(html) == []
    for html in both(f"| a |\n|-|\n| {prose(s, None, in_cell=True)} |\n"):
        assert problems(html) == []


def test_citations_are_numbered_in_order_of_first_use():
    c = Citations({"B": Reference(name="B", url="https://b.org", description="B ref")})
    md = prose("x(Citation: B) y(Citation: A)(Citation: B)", c)
    assert md == "x\\[1\\] y\\[2\\]\\[1\\]"
    assert [(n, r.name, r.url) for n, r in c.entries()] == [(1, "B", "https://b.org"), (2, "A", "")]


def test_technique_links_point_at_pages_that_exist():
    md = prose("[a](https://attack.mitre.org/techniques/T1003/001) [b](https://attack.mitre.org/techniques/T9999)", None, lambda t: "T1003.001.md" if t == "T1003.001" else None)
    assert md == "[a](T1003.001.md) [b](https://attack.mitre.org/techniques/T9999)"


def test_templates_cannot_print_unescaped_values():
    env = environment()
    with pytest.raises(UnescapedValue):
        env.from_string("{{ x }}").render(x="<script>")
    with pytest.raises(UnescapedValue):
        env.from_string("{{ xs|joined }}").render(xs=[escape.text("a"), "<b>"])
    assert env.from_string("{{ x|text }} {{ n }}").render(x="<b>", n=3) == "&lt;b&gt; 3"


def test_templates_refuse_undefined_names():
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ missing }}").render()


# --- file names -------------------------------------------------------------------------------

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@pytest.mark.parametrize("value", ["../../etc/passwd", "a/b", "I&S-04", "index", "INDEX.x", "con", "", ".hidden", "x" * 300, "ü", "AC-2(1)"])
def test_unsafe_ids_get_a_safe_hashed_name(value):
    name = file_stem(value)
    assert SAFE_NAME.match(name) and ".." not in name and len(name) < 80 and name != value


@pytest.mark.parametrize("value", ["T1046", "AC-4", "network_security_groups", "PR.IR-01.01", "CVE-2021-44228", "5f0c7a32-3f7e-4d0e"])
def test_safe_ids_are_their_own_names(value):
    assert file_stem(value) == value


@SETTINGS
@given(st.lists(st.text(min_size=1, max_size=40), unique=True, max_size=30))
def test_names_in_a_folder_are_safe_and_unique_ignoring_case(values):
    names = stems(values)
    assert all(SAFE_NAME.match(n) and ".." not in n for n in names.values())
    assert len({n.lower() for n in names.values()}) == len(values)


def test_relative_links():
    assert relative("techniques/T1046.md", "techniques/T1003.md") == "T1003.md"
    assert relative("techniques/T1046.md", "controls/aws/x.md") == "../controls/aws/x.md"
    assert relative("controls/aws/x.md", "index.md") == "../../index.md"
    assert relative("index.md", "tactics/TA0007.md") == "tactics/TA0007.md"
    assert relative("detections/sigma.md", "detections/sigma/x.md") == "sigma/x.md"
    assert relative("docs/techniques/T1046.md", "layers/enterprise/coverage.json") == "../../layers/enterprise/coverage.json"


# --- ATT&CK texts -----------------------------------------------------------------------------


def test_citations_and_contributors_are_read_defensively():
    objects = [
        {"type": "attack-pattern", "id": "attack-pattern--1", "x_mitre_contributors": ["Ada", 3, " "],
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1046"}, {"source_name": "R", "url": "https://r.org", "description": "R."}, "junk", {"source_name": 5}]},
        {"type": "attack-pattern", "id": "attack-pattern--2", "revoked": True, "x_mitre_contributors": ["Old"],
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1001"}, {"source_name": "R", "url": "https://other.org"}]},
        "not an object",
        {"type": "course-of-action", "external_references": "not a list"},
    ]
    t = texts_of_objects(objects)
    assert t.contributors == {"technique:T1046": ("Ada",)}
    assert t.references == {"R": Reference(name="R", url="https://r.org", description="R.")}


def test_a_framework_in_two_versions_gets_a_folder_per_version(tmp_path):
    """AC-4 of rev4 and of rev5 are different controls: their pages must not collide."""
    import networkx as nx

    from pipeline.render.pages.pageset import MappingSource, Site

    g = nx.MultiDiGraph()
    g.add_node("technique:T1046", kind="technique", id="T1046", name="N", deprecated=False, domains=("enterprise",), subtechnique=False)
    for version in ("rev4", "rev5"):
        key = f"control:nist_800_53/{version}:AC-4"
        g.add_node(key, kind="control", id="AC-4", name="IFE", framework="nist_800_53", framework_version=version, deprecated=False, domains=("enterprise",))
        g.add_edge(key, "technique:T1046", key="mitigates", relation="mitigates", source=f"t/{version}")
    g.add_node("capability:veris:a/b", kind="capability", id="a/b", name="x", framework="veris", framework_version="1", deprecated=False, domains=())
    g.add_edge("capability:veris:a/b", "technique:T1046", key="related_to", relation="related_to", source="t/veris")
    sources = [MappingSource(id=f"t/{v}", framework="nist_800_53", framework_version=v, domain="enterprise", attack_version="18.1") for v in ("rev4", "rev5")]
    site = Site.gather(g, tmp_path, "18.1", mapping_sources=sources + [MappingSource(id="t/veris", framework="veris", framework_version="1", domain="enterprise", attack_version="18.1")])
    assert site.pages["control:nist_800_53/rev4:AC-4"] == "controls/nist_800_53/rev4/AC-4.md"
    assert site.pages["control:nist_800_53/rev5:AC-4"] == "controls/nist_800_53/rev5/AC-4.md"
    assert site.pages["capability:veris:a/b"] == f"controls/veris/{file_stem('a/b')}.md" != "controls/veris/a/b.md"
    assert site.pages["framework:nist_800_53"] == "frameworks/nist_800_53.md"
