"""The site's search index (pipeline/site/search.py): the entries material's own index
makes from a page's whole HTML, made from the HTML with the excluded elements' content
taken out wherever that cannot change them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from material.plugins.search.plugin import SearchIndex

from pipeline.site import search
from pipeline.site.search import LeanSearchIndex, lean_page_context, without_excluded_content, without_search_marks

X = ' data-search-exclude="true"'


@dataclass
class _Page:
    """What the index reads of an mkdocs page."""

    content: str
    title: str = "Page"
    url: str = "page/"
    toc: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def _entries(index_class, html: str) -> list[dict] | str:
    """The entries of one page, or the error the index stopped with (material's parser
    fails on some tag soup, e.g. a paragraph excluded around a paragraph: the lean index
    must fail alike)."""
    index = index_class(lang=["en"], separator=r"[\s\-]+")
    page = _Page(html)
    try:
        index.add_entry_from_context(page)
    except ValueError as exc:
        return f"ValueError: {exc}"
    finally:
        assert page.content == html  # the page keeps its HTML
    return index.entries


def test_the_content_of_excluded_tables_and_code_goes_their_tags_stay():
    html = (
        '<h1 id="t">T1046</h1><p>Intro <code>x</code></p>'
        f'<table{X}><thead><tr><th>Control</th></tr></thead><tbody><tr><td><a href="a/">AC-4</a><br>x</td></tr></tbody></table>'
        f'<h2 id="q">Queries</h2><div class="highlight"><pre{X}><span></span><code><span class="n">T</span></code></pre></div>'
    )
    lean = without_excluded_content(html)
    assert lean == (
        f'<h1 id="t">T1046</h1><p>Intro <code>x</code></p><table{X}></table>'
        f'<h2 id="q">Queries</h2><div class="highlight"><pre{X}></pre></div>'
    )
    assert _entries(LeanSearchIndex, html) == _entries(SearchIndex, html)
    assert [e["title"] for e in _entries(LeanSearchIndex, html)] == ["T1046", "Queries"]


def test_elements_whose_content_the_parser_would_read_are_left_whole():
    kept = [
        f"<div{X}><p>a</p><div>inner</div><p>read once the inner div closes</p></div>",  # same tag inside
        f'<div{X}><h3 id="h">a heading starts a section</h3></div>',
        f"<div{X}><p>unclosed <b>bold</p></div>",  # <b> left open: the parser ignores </p> and </div>
        f"<div{X}><!-- </div> --></div>",
        f"<div{X}><script>'</div>'</script></div>",
        f'<table{X} title="a>b"><tr><td>x</td></tr></table>',  # not a plain start tag
        f"<pre{X}>no end",
    ]
    for html in kept:
        assert without_excluded_content(html) == html, html
        assert _entries(LeanSearchIndex, html) == _entries(SearchIndex, html), html


# Random pages made of the pieces the site's HTML is made of: elements excluded or not,
# nested (the same tag too), with ids, headings, void elements and permalinks, now and
# then an end tag left out or a stray one added: the lean index must equal material's.
_TAGS = ["p", "div", "table", "tr", "td", "pre", "code", "ul", "li", "span", "a", "details", "h2", "h3"]
_TEXT = st.sampled_from(
    ["text ", "AC-4 ", "\n", "  ", "<br>", "<hr/>", "&lt;x&gt;", '<a class="headerlink" href="#x">¶</a>', "<b/>", "</br>", "<i x=<b>y</b>/>"]
)


def _element(children):
    return st.builds(
        lambda tag, before, excluded, ident, inner, end: (
            f"<{tag}{before}{X if excluded else ''}{f' id={chr(34)}{ident}{chr(34)}' if ident else ''}>"
            + "".join(inner)
            + {"close": f"</{tag}>", "open": "", "stray": f"</{tag}></p>"}[end]
        ),
        st.sampled_from(_TAGS),
        # attributes before the mark, as the pictures write them; some not plain
        st.sampled_from(["", "", ' class="atk-figure"', ' class="a" data-domain="x"', " hidden", ' title="a>b"', " x=<b>"]),
        st.booleans(),
        st.sampled_from(["", "s1", "s2"]),
        st.lists(children, max_size=4),
        st.sampled_from(["close"] * 8 + ["open", "stray"]),
    )


_HTML = st.lists(st.recursive(_TEXT, _element, max_leaves=25), max_size=6).map("".join)


@settings(max_examples=500)
@given(_HTML)
def test_any_page_gets_the_entries_material_gives_it(html):
    assert _entries(LeanSearchIndex, html) == _entries(SearchIndex, html)


def _inert_by_walk(content: str, skipped: set[str]) -> bool:
    """The check as a plain walk over every tag (what `search._inert` gives faster)."""
    if re.search(r"<!|<\?|<(?:script|style)[\s>]|<h[1-6][\s>/]", content, re.I):
        return False
    stack: list[str] = []
    for close, name, self_closing in re.findall(r"<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>", content):
        name = name.lower()
        if not close:
            if name in skipped:
                return False
            if name not in search._VOID and not self_closing:
                stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
    return not stack


_SOUP = ["<b>", "</b>", "<B>", "<i x=", "<b/>", "<b x/>", "</i>", "<br>", "</br>", '<span class="a">', "</span>", "<span >", "y", "/>", ">",
         "<", "<pre>", "<PRE x>", "</pre>", "<!-- -->", "<h2>", "<code>", "</code>", "<td>", "</td>", "<a/ >", " "]


@settings(max_examples=1000)
@given(st.lists(st.sampled_from(_SOUP), max_size=14).map("".join), st.sampled_from([{"pre"}, {"td", "b"}, {"div"}]))
def test_an_element_is_inert_as_a_walk_over_its_tags_finds(content, skipped):
    assert search._inert(content, skipped) == _inert_by_walk(content, skipped)


def test_highlighted_code_is_found_inert_and_a_tag_within_a_tag_is_walked():
    code = '<span></span><code><span class="n">T</span><span class="o">|</span>\n<span class="s">"x"</span></code>'
    assert search._inert(code, {"pre"}) and _inert_by_walk(code, {"pre"})
    assert not search._inert("<i x=<b>y</b>/>", {"pre"}) and not _inert_by_walk("<i x=<b>y</b>/>", {"pre"})
    # a self-closing tag is no element: its end tag closes the one around it
    assert search._inert("<b><b x/>y</b>", {"pre"}) and _inert_by_walk("<b><b x/>y</b>", {"pre"})


def test_an_excluded_picture_is_emptied_whatever_attributes_come_before_its_mark():
    html = f'<p>a</p><figure class="atk-heatmap" data-domain="enterprise"{X}><svg><rect/><title>T1046</title></svg></figure><p>b</p>'
    assert without_excluded_content(html) == f'<p>a</p><figure class="atk-heatmap" data-domain="enterprise"{X}></figure><p>b</p>'
    assert _entries(LeanSearchIndex, html) == _entries(SearchIndex, html)


def test_a_stray_end_tag_inside_is_ignored_as_the_parser_ignores_it():
    html = f"<p>a</p><table{X}><tr><td>x</td></span></tr></table><p>b</p>"
    assert without_excluded_content(html) == f"<p>a</p><table{X}></table><p>b</p>"
    assert _entries(LeanSearchIndex, html) == _entries(SearchIndex, html)


def test_well_formed_random_pages_lose_their_excluded_content():
    # Balanced and flat: every excluded block is emptied, so the parser reads less.
    html = "".join(f'<h2 id="s{i}">S{i}</h2><p>t{i}</p><table{X}><tr><td>{i}</td></tr></table>' for i in range(50))
    lean = without_excluded_content(html)
    assert "<td>" not in lean and lean.count(f"<table{X}></table>") == 50
    assert _entries(LeanSearchIndex, html) == _entries(SearchIndex, html)


def test_a_page_left_out_of_the_index_adds_nothing():
    index = LeanSearchIndex(lang=["en"], separator=r"[\s\-]+")
    index.add_entry_from_context(_Page(f'<h1 id="d">Rule</h1><pre{X}>x</pre>', meta={"search": {"exclude": True}}))
    assert index.entries == []


# What material's plugin does to every page once it is indexed (its `on_page_context`).
_MATERIAL_MARKS = re.compile(r"\s?data-search-\w+=\"[^\"]+\"")
_MARK_PIECES = [
    *"ab<>=\"' \t\n\u2003\u00a0\x1c-", "data-search-", 'data-search-exclude="true"', 'data-search-boost="2"', "data-search-=\"x\"",
    'data-search-a_1="', ' data-search-x="y"',
]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_MARK_PIECES), max_size=30).map("".join))
def test_marks_are_taken_out_as_material_takes_them_out(content):
    """The same text as material's expression leaves, space before a mark included."""
    assert without_search_marks(content) == _MATERIAL_MARKS.sub("", content)


def test_the_site_takes_the_marks_out_in_place_of_material():
    """In a site build, the search plugin's page event is the lean one, where the
    plugin's own was: the page indexed once, its marks gone."""
    from mkdocs.plugins import PluginCollection

    from material.plugins.search.plugin import SearchPlugin

    plugin = SearchPlugin()
    plugin.load_config({})
    plugins = PluginCollection()
    plugins["material/search"] = plugin
    before = list(plugins.events["page_context"])

    class _Config:
        pass

    config = _Config()
    config.plugins = plugins
    plugin.search_index = LeanSearchIndex(lang=["en"], separator=r"[\s\-]+")
    lean_page_context(config, plugin)
    events = plugins.events["page_context"]
    assert len(events) == len(before) == 1 and events[0] is not before[0]
    page = _Page(f"<h1>T</h1><p{X}>a</p><table{X}><tr><td>x</td></tr></table>")
    events[0]({}, page=page, config=config, nav=None)
    assert page.content == "<h1>T</h1><p>a</p><table><tr><td>x</td></tr></table>"
    assert [e["title"] for e in plugin.search_index.entries] == ["Page"]  # indexed once
