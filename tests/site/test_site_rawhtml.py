"""Raw HTML blocks found with less work inside them (pipeline/site/rawhtml.py): the
same text kept aside, the same document left, as Python-Markdown's own extractor."""

from __future__ import annotations

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.htmlparser import HTMLExtractor

from pipeline.site import rawhtml
from pipeline.site.config import MARKDOWN_EXTENSIONS
from pipeline.site.convert import Converter
from pipeline.site.rawhtml import LeanHTMLExtractor

# Pieces of documents: raw blocks in the strict form and out of it (quotes, bare
# values, upper case, odd spaces, comments, declarations, script and style, the tags
# HTML leaves open), references written every way, and the Markdown around them.
_PIECES = [
    "<div>", "</div>", '<details class="atk-fold" open>', "</details>", "<summary>", "</summary>", "<table>",
    "</table>", "<tr>", "</tr>", '<td class="x">', "</td>", "<th>", "</th>", "<p>", "</p>", "<span>", "</span>",
    '<a href="../t/T1046.md" title="a > b">', "</a>", "<br>", "<br/>", "<br />", "<hr>", "<hr/>", '<img src="i.png" />',
    "<svg>", "</svg>", "<title>", "</title>", "<g>", "</g>", '<rect x="1"/>', "<DIV>", "</DIV>", "</div >", "<Div Class=\"y\">",
    "<a href='x'>", "<a href=x>", '<a b="1"c="2">', "<a\xa0b>", "<td\x0bx>", "<x-y>", "</x-y>", "<script>", "</script>",
    "<style>", "</style>", "<textarea>", "</textarea>", "<!-- c -->", "<!--", "-->", "<!DOCTYPE html>", "<?php x ?>",
    "<![CDATA[x]]>", "&amp;", "&#39;", "&#x27;", "&#X2F;", "&#12", "&#x27", "&#x;", "<div/>", "<p />", "\n  <p>", "\n <div>", "&", "&#", "&foo", "&a.b;", "ATT&CK",
    "T1046", " ", "  ", "   ", "    ", "\t", "\n", "\n\n", "\n\n\n", "<", ">", "</", "</>", "<>", "=", '"', "'", "/",
    "`", "# ", "- ", "| a |", "**b**", ";", "#",
]


def _extract(extractor: type, text: str) -> tuple[str, list]:
    md = markdown.Markdown()
    parser = extractor(md)
    parser.feed(text)
    parser.close()
    return "".join(parser.cleandoc), list(md.htmlStash.rawHtmlBlocks)


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_raw_blocks_are_found_as_python_markdown_finds_them(text):
    assert _extract(LeanHTMLExtractor, text) == _extract(HTMLExtractor, text)


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join), st.sampled_from(["", "\n", "\n\n", "x\n\n"]))
def test_a_raw_block_at_a_line_start_is_found_as_python_markdown_finds_it(body, before):
    """Blocks begin only at a line's start: each document here holds one there."""
    text = before + '<details class="atk-fold" open><table>' + body + "</table></details>\n\nAfter.\n"
    assert _extract(LeanHTMLExtractor, text) == _extract(HTMLExtractor, text)


@settings(max_examples=1000)
@given(st.lists(st.sampled_from(["<div>", "</div>", "<p>", "</p>", "<div/>", "<hr>", "\n", "\n  ", "x", "&#x;", "&#12", "&#x27"]), max_size=24).map("".join))
def test_blocks_around_a_reference_cut_short_are_found_as_python_markdown_finds_them(body):
    """An `&#` that starts no reference makes html.parser stop early and the extractor
    find tags' texts by the line starts it kept before: nested blocks around one."""
    text = "<div>\n <div>" + body + "</div>\n</div>\n\nAfter.\n"
    assert _extract(LeanHTMLExtractor, text) == _extract(HTMLExtractor, text)


def test_a_technique_table_is_kept_whole_with_few_callbacks(monkeypatch):
    """A mapping table as the technique pages hold it: one raw block, its text kept as
    written, html.parser called for its first and last tags only."""
    rows = "".join(
        f'<tr><td><a href="../controls/AC-{n}.md">AC-{n}</a></td><td>Access &amp; flow &#39;{n}&#39;</td><td>ATT&CK</td></tr>'
        for n in range(50)
    )
    table = f'<details class="atk-fold" open><summary>50 controls</summary><table><tbody>{rows}</tbody></table></details>'
    text = f"## Controls\n\n{table}\n\nAfter.\n"
    calls: list[str] = []
    for name in ("parse_starttag", "parse_endtag"):
        real = getattr(HTMLExtractor, name)
        monkeypatch.setattr(HTMLExtractor, name, lambda self, i, real=real, name=name: calls.append(name) or real(self, i))
    lean, (stash,) = _extract(LeanHTMLExtractor, text)
    assert stash == table + "\n" and calls == ["parse_starttag", "parse_endtag"]
    calls.clear()
    assert _extract(HTMLExtractor, text) == (lean, [stash]) and len(calls) > 400


def test_the_site_converts_with_the_lean_extractor():
    md = Converter.__new__(Converter)
    md.config = {"markdown_extensions": [e if isinstance(e, str) else next(iter(e)) for e in MARKDOWN_EXTENSIONS],
                 "mdx_configs": {next(iter(e)): next(iter(e.values())) for e in MARKDOWN_EXTENSIONS if isinstance(e, dict)}}
    md._md = None
    assert type(md._markdown().preprocessors["html_block"]) is rawhtml.LeanHtmlBlockPreprocessor


# Pieces of kept HTML and of the text around placeholders: block-level and inline
# HTML, placeholders (wrapped in a paragraph or not, of kept pieces or past them) and
# the characters they are made of.
_STASH_PIECES = ["<div>a</div>", "<span>b</span>", "<p>c</p>", "<!-- d -->", "e", "<pre><code>f</code></pre>", "\x02", "\x03", "<p>", "</p>"]


def _placeholder(n: int, wrapped: bool) -> str:
    from markdown import util

    text = util.HTML_PLACEHOLDER % n
    return f"<p>{text}</p>" if wrapped else text


@settings(max_examples=1500)
@given(
    st.lists(st.lists(st.one_of(st.sampled_from(_STASH_PIECES), st.tuples(st.integers(0, 5), st.booleans())), max_size=4), max_size=4),
    st.lists(st.one_of(st.sampled_from(_STASH_PIECES + ["\n", "x"]), st.tuples(st.integers(0, 5), st.booleans())), max_size=12),
)
def test_kept_html_is_put_back_as_python_markdown_puts_it_back(stash, text):
    """Any kept pieces (placeholders inside them too, of pieces before or after, or of
    none), any text: the same page as Python-Markdown's own postprocessor gives."""
    from markdown.postprocessors import RawHtmlPostprocessor

    def joined(parts) -> str:
        return "".join(p if isinstance(p, str) else _placeholder(*p) for p in parts)

    md = markdown.Markdown()
    for piece in stash:
        md.htmlStash.store(joined(piece))
    page = joined(text)
    try:
        expected = RawHtmlPostprocessor(md).run(page)
    except RecursionError:  # a piece holding its own placeholder: both recurse for ever
        return
    assert rawhtml.LeanRawHtmlPostprocessor(md).run(page) == expected
