"""The site converter's shortcuts around Python-Markdown and mkdocs (pipeline/site/convert.py):
block-level answers kept by tag, anchors of raw HTML looked for only where one can be,
block starts searched only in blocks that hold them. Each gives what the library's own
code gives, on random input."""

from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from mkdocs.structure.pages import _RawHTMLPreprocessor

from pipeline.site.config import MARKDOWN_EXTENSIONS
from pipeline.site.convert import BlockLevel, Converter, LeanRawHTMLPreprocessor, NeedingPattern


def _names_and_configs(extensions: list) -> tuple[list, dict]:
    names = [e if isinstance(e, str) else next(iter(e)) for e in extensions]
    configs = {next(iter(e)): next(iter(e.values())) for e in extensions if isinstance(e, dict)}
    return names, configs


def _stock() -> markdown.Markdown:
    names, configs = _names_and_configs(MARKDOWN_EXTENSIONS)
    return markdown.Markdown(extensions=names, extension_configs=configs)


def _site() -> markdown.Markdown:
    names, configs = _names_and_configs(MARKDOWN_EXTENSIONS)
    return Converter({"markdown_extensions": names, "mdx_configs": configs})._markdown()


_TAGS = ["p", "P", "div", "DIV/", "a", "span", "code", "pre", "table", "td", "x-new", "", "/", etree.Comment, None, 3]


def test_block_level_answers_as_python_markdown():
    md = markdown.Markdown()
    kept = BlockLevel(md)
    assert md.is_block_level == kept._is_block_level
    for _ in range(2):  # asked again: the kept answers
        assert [md.is_block_level(t) for t in _TAGS] == [markdown.Markdown.is_block_level(md, t) for t in _TAGS]
    md.block_level_elements.append("x-new")
    assert md.is_block_level("x-new") is False  # kept until the list is checked
    kept.check()
    assert md.is_block_level("x-new") is True
    assert [md.is_block_level(t) for t in _TAGS] == [markdown.Markdown.is_block_level(md, t) for t in _TAGS]


def test_the_converter_checks_the_block_level_list_before_each_page():
    names, configs = _names_and_configs(MARKDOWN_EXTENSIONS)
    converter = Converter({"markdown_extensions": names, "mdx_configs": configs})
    md = converter._markdown()
    assert isinstance(converter._block_level, BlockLevel) and md.is_block_level("div")
    md.block_level_elements.remove("div")
    converter._block_level.check()
    assert not md.is_block_level("div")


# Pieces of raw HTML in Markdown: tags with and without anchors (any case, quoted and
# bare values, no value), comments, scripts and CDATA that hide tags, broken tags.
_HTML_PIECES = [
    "<a", "<div", "<span", "<p", " ", "\n", "/", ">", "/>", "id", "ID", "Id", "name", "NAME", "ıd", "=", " = ", "\"x\"",
    "'y'", "z", "\"", "'", "<!--", "-->", "<script>", "</script>", "<style>", "</style>", "<![CDATA[", "]]>", "&amp;", "<?",
    "</a>", "</div>", "`", "```\n", "\t", "<", "data-id", "xid",
]


@settings(max_examples=600)
@given(st.lists(st.sampled_from(_HTML_PIECES), max_size=40).map("".join))
def test_raw_html_anchors_are_mkdocs_own(text):
    """The anchors found are mkdocs' own, but for an attribute without a value (None):
    whether or not the text is parsed."""
    lines = text.split("\n")
    mkdocs_own, lean = _RawHTMLPreprocessor(), LeanRawHTMLPreprocessor()
    assert lean.run(lines) == mkdocs_own.run(lines) == lines
    assert lean.present_anchor_ids == {a for a in mkdocs_own.present_anchor_ids if a is not None}


_TAG_NAMES = st.sampled_from(["a", "A", "div", "span", "script", "p"])
_ATTRIBUTES = st.tuples(
    st.sampled_from([" ", "\t", "\n", "/", "'", '"', "  "]),
    st.sampled_from(["id", "ID", "iD", "name", "Name", "xid", "id-x", "data-id", "href", "ıd"]),
    st.sampled_from(["", "=", " =", "= ", "\t=\t", "=="]),
    st.sampled_from(["", "x", "'y z'", '"q"', "'", "<b>", "id=w"]),
).map("".join)
_TAGS_WITH_ATTRIBUTES = st.builds(
    lambda name, attributes, end: f"<{name}{''.join(attributes)}{end}",
    _TAG_NAMES, st.lists(_ATTRIBUTES, max_size=4), st.sampled_from([">", "/>", "", " >"]),
)


@settings(max_examples=600)
@given(st.lists(st.one_of(_TAGS_WITH_ATTRIBUTES, st.sampled_from(_HTML_PIECES)), max_size=12).map("".join))
def test_raw_html_anchors_of_tags_are_mkdocs_own(text):
    """The same on start tags with attributes of every spelling around them."""
    mkdocs_own, lean = _RawHTMLPreprocessor(), LeanRawHTMLPreprocessor()
    lean.run([text])
    mkdocs_own.run([text])
    assert lean.present_anchor_ids == {a for a in mkdocs_own.present_anchor_ids if a is not None}


def test_raw_html_anchors_found_where_they_are():
    found = {}
    for text in ['text <div ID = "here">x</div>', "<a\tname=there>y</a>", "<p/id='slash'>", "<span id>z</span>",
                 "the id of a process = 4, a name= and <b>bold</b>"]:
        lean = LeanRawHTMLPreprocessor()
        lean.run(text.split("\n"))
        found[text] = lean.present_anchor_ids
    assert list(found.values()) == [{"here"}, {"there"}, {"slash"}, set(), set()]


def test_the_site_block_starts_are_searched_only_where_they_can_be():
    md = _site()
    starts = {name: getattr(md.parser.blockprocessors[name], attr)
              for name, attr in (("admonition", "RE"), ("details", "START"), ("tabbed", "START"), ("hashheader", "RE"))}
    assert all(isinstance(p, NeedingPattern) for p in starts.values())
    assert {name: p.needed for name, p in starts.items()} == {"admonition": "!!!", "details": "???", "tabbed": "===", "hashheader": "#"}
    assert starts["details"].search("text\n??? note\n    body").group(0) == "\n??? note\n"
    assert starts["details"].search("text ?? note") is None
    assert starts["admonition"].pattern == starts["admonition"].expression.pattern  # anything else is the expression's


_BLOCK_PIECES = [
    "# Title", "## Sub ##", "a # b", "\\# not", "#", "####### seven", "!!! note", "!!! warning \"Title\"", "??? note", "???+ tip \"Open\"", "=== \"One\"", "===+ \"Two\"", "!!!", "???", "===",
    "    indented body", "        deeper", "text", "- item", "  - nested", "# Heading", "| a |\n|-|\n| b |", "!! two", "?? two",
    "== two", "\n", "\n\n",
]


@settings(max_examples=300)
@given(st.lists(st.lists(st.sampled_from(_BLOCK_PIECES), min_size=1, max_size=8).map("\n".join), min_size=1, max_size=3))
def test_admonitions_details_and_tabs_are_python_markdowns(pages):
    """Pages of admonitions, details and tabs (nested, indented, broken) give Python-
    Markdown's HTML with the site's converter, page after page of one instance."""
    md, stock = _site(), _stock()
    for text in pages:
        md.reset()
        stock.reset()
        assert md.convert(text) == stock.convert(text)


# Pieces of inline text after a link's `[`: brackets, parentheses, quotes, titles,
# angle-bracketed addresses, escapes, spaces, and a placeholder of the inline stash.
_LINK_PIECES = [
    "a", "r", "[r]", " [r]", "][r]", "][]", "T1046", " ", "\n", "[", "]", "(", ")", "'", '"', "<", ">", "\\", "](", "](../t.md)", "](<x y>)", ' "title")',
    "](a.md 'b')", "](a(b)c)", "#x", "\x02klzzwxh:0\x03", "\x02klzzwxh:9\x03", "`", "*",
]


@settings(max_examples=800)
@given(st.lists(st.sampled_from(_LINK_PIECES), max_size=16).map("".join), st.integers(min_value=0, max_value=4))
def test_a_link_is_read_as_python_markdown_reads_it(text, at):
    """A link's text and address (from any position) as Python-Markdown's own pattern
    reads them, placeholders of the inline stash included."""
    from markdown import inlinepatterns

    from pipeline.site.convert import LeanLinkInlineProcessor, LeanReferenceInlineProcessor, LeanShortReferenceInlineProcessor

    md = _stock()
    md.references["r"] = ("https://r.test", "R")
    md.treeprocessors["inline"].stashed_nodes = {"0": "zero", "9": etree.Element("b")}
    md.treeprocessors["inline"].stashed_nodes["9"].text = "nine"
    stock = inlinepatterns.LinkInlineProcessor(inlinepatterns.LINK_RE, md)
    lean = LeanLinkInlineProcessor(inlinepatterns.LINK_RE, md)
    at = min(at, len(text))
    assert lean.getText(text, at) == stock.getText(text, at)
    assert lean.getLink(text, at) == stock.getLink(text, at)
    for lean_class, stock_class in ((LeanReferenceInlineProcessor, inlinepatterns.ReferenceInlineProcessor),
                                    (LeanShortReferenceInlineProcessor, inlinepatterns.ShortReferenceInlineProcessor)):
        lean, stock = lean_class(inlinepatterns.REFERENCE_RE, md), stock_class(inlinepatterns.REFERENCE_RE, md)
        assert lean.getText(text, at) == stock.getText(text, at)
        found = inlinepatterns.re.compile(inlinepatterns.REFERENCE_RE).search(text)
        if found is not None:
            assert _element(lean.handleMatch(found, text)) == _element(stock.handleMatch(found, text))


def _element(found: tuple) -> tuple:
    """A pattern's result, its element as text."""
    el, start, end = found
    return (None if el is None else etree.tostring(el), start, end)


def test_the_site_reads_links_with_the_lean_patterns():
    from pipeline.site.convert import LeanLinkInlineProcessor, LeanReferenceInlineProcessor, LeanShortReferenceInlineProcessor, needs

    md = _site()
    assert [type(md.inlinePatterns[n]) for n in ("reference", "link", "short_reference")] == [
        LeanReferenceInlineProcessor, LeanLinkInlineProcessor, LeanShortReferenceInlineProcessor]
    assert all(needs(md.inlinePatterns[n]) == ("[",) for n in ("reference", "link", "short_reference"))
    page = "[a](b.md) [c [d]](e(f).md 'g') [h](<i j>) [k](l \"m\") [n] [r] [s][r] [t [u]][r]\n\n[r]: https://r.test"
    stock = _stock()
    assert md.convert(page) == stock.convert(page)


_SPACE_PIECES = [" ", "  ", "\n", "\r\n", "\r", "\t", "a", "- b", "\x02", "\x03", "```", "\n\n", "    code"]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_SPACE_PIECES), max_size=30).map("".join))
def test_whitespace_is_normalized_as_python_markdown_normalizes_it(text):
    from markdown.preprocessors import NormalizeWhitespace

    from pipeline.site.convert import LeanNormalizeWhitespace

    md = markdown.Markdown()
    lines = text.split("\n")
    assert LeanNormalizeWhitespace(md).run(list(lines)) == NormalizeWhitespace(md).run(list(lines))


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["a", "\x02", "\x03", "42", "96", "\x0296\x03", "\x02x\x03", " "]), max_size=12).map("".join))
def test_escapes_are_put_back_as_python_markdown_puts_them_back(text):
    from markdown.treeprocessors import UnescapeTreeprocessor

    from pipeline.site.convert import LeanUnescapeTreeprocessor

    md = markdown.Markdown()
    assert LeanUnescapeTreeprocessor(md).unescape(text) == UnescapeTreeprocessor(md).unescape(text)


def test_the_site_uses_the_lean_whitespace_and_unescape_steps():
    from pipeline.site.convert import LeanNormalizeWhitespace, LeanUnescapeTreeprocessor

    md, stock = _site(), _stock()
    assert type(md.preprocessors["normalize_whitespace"]) is LeanNormalizeWhitespace
    assert type(md.treeprocessors["unescape"]) is LeanUnescapeTreeprocessor
    page = "a \\\\* b `\\\\_` \\n   \\n\\t- c\\n  \\n```\\n  \\n```\\n| d \\\\| e |\\n|-|\\n| f |"
    assert md.convert(page) == stock.convert(page)


_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.sampled_from("abcde"), st.integers(0, 4)),
        st.tuples(st.just("deregister"), st.sampled_from("abcdex"), st.just(0)),
        st.tuples(st.just("iterate"), st.just(""), st.just(0)),
        st.tuples(st.just("register while iterating"), st.sampled_from("abcde"), st.integers(0, 4)),
    ),
    max_size=25,
)


@settings(max_examples=500)
@given(_OPERATIONS)
def test_a_registry_lists_its_items_as_python_markdowns_does(operations):
    """Any registering and removing, a walk under way included: the same items, in
    the same order, as Python-Markdown's registry."""
    from markdown import util

    from pipeline.site.convert import OrderedOnce

    stock, lean = util.Registry(), OrderedOnce()
    for op, name, priority in operations:
        seen = []
        for registry in (stock, lean):
            if op == "register":
                registry.register(f"{name}{priority}", name, priority)
            elif op == "deregister":
                registry.deregister(name, strict=False)
            elif op == "iterate":
                seen.append(list(registry))
            else:
                walked = []
                for item in registry:
                    walked.append(item)
                    registry.register(f"{name}{priority}!", name, priority)
                seen.append(walked + list(registry))
        assert list(stock) == list(lean) and seen[:1] == seen[1:]
