"""Python-Markdown's raw HTML blocks found with less work inside them, and put back
with less searching (`LeanRawHtmlPostprocessor`).

Why: Python-Markdown finds raw HTML blocks by running `html.parser` over the whole page
(`HtmlBlockPreprocessor`, `markdown.htmlparser.HTMLExtractor`), which calls back into
Python for every tag and parses every tag's attributes, though inside a raw block it
keeps only the text. A technique page's mapping tables and pictures are single lines of
raw HTML with thousands of tags: 2 s of the default site's CPU went there.

Inside a raw block, the extractor keeps each token's text as it is (a start tag's, an
end tag's, the text's, a reference's rebuilt as written when it ends with `;`), pushes
each start tag's name (but `hr`'s and a self-closing tag's) on its stack, and pops the
stack down to an end tag's name when it holds it; the block ends when the stack is
empty. `LeanHTMLExtractor` does the same for a run of tokens in a strict form (double-
quoted attribute values, ASCII spaces, references ending with `;`, no comment, no
declaration, no script or style), with one regular expression per tag, and hands back to
`html.parser` at the first token in any other form and at the end tag that would empty
the stack, which the extractor then handles as always. Outside raw blocks, nothing
changes. tests/site check both against Python-Markdown's own on random documents.
"""

from __future__ import annotations

import re

from markdown import util
from markdown.htmlparser import HTMLExtractor
from markdown.postprocessors import RawHtmlPostprocessor
from markdown.preprocessors import HtmlBlockPreprocessor

# A run of text and references the extractor keeps as written, then one tag in the
# strict form: a start tag (name, `/` when self-closing) or an end tag (name).
# Possessive throughout: a run that fails to end in a tag is given up at once.
_SPACE = "[ \t\n\r\f]"
_TEXT = r"(?:[^<&]++|&(?:#[0-9]++;|#[xX][0-9a-fA-F]++;|[a-zA-Z][-.a-zA-Z0-9]*+;|(?=[^#])))*+"
_ATTRIBUTE = rf'{_SPACE}++[a-zA-Z_:][-a-zA-Z0-9_:.]*+(?:="[^"]*+")?+'
_TOKEN = re.compile(
    rf"({_TEXT})(?:<([a-zA-Z][a-zA-Z0-9]*+)(?:{_ATTRIBUTE})*+{_SPACE}*+(/?)>|</([a-zA-Z][a-zA-Z0-9]*+)>)"
)
_TEXT_ONLY = re.compile(_TEXT)


class LeanHTMLExtractor(HTMLExtractor):
    """`HTMLExtractor` that, once a start tag leaves it inside a raw block, takes the
    strict-form tokens that follow in one go (see the module's docstring)."""

    _whole = 0

    def feed(self, data: str) -> None:
        self._whole = len(self.rawdata) + len(data)
        super().feed(data)

    def parse_starttag(self, i: int) -> int:
        k = super().parse_starttag(i)
        if k < 0 or not self.inraw or self.intail or self.cdata_elem is not None:
            return k
        if len(self.rawdata) != self._whole:
            # html.parser stopped early (an `&#` that starts no reference) and goes on with
            # the rest, while the extractor still finds an end tag's text by line and
            # column in the whole: its text is then not what is written, taken as it is.
            return k
        return self._raw_run(i, k)

    def _raw_run(self, i: int, k: int) -> int:
        """Past the strict-form tokens from `k` (the start tag at `i` ends there) that
        leave the raw block open: their text kept, the stack as the extractor would leave
        it, and the line starts it keeps as it would have found them. Returns where the
        extractor goes on."""
        rawdata, stack, empty, block_level = self.rawdata, self.stack, self.empty_tags, self.md.is_block_level
        special = set(self.CDATA_CONTENT_ELEMENTS) | set(getattr(self, "RCDATA_CONTENT_ELEMENTS", ()))
        start = at = k
        last = reads = None
        match = _TOKEN.match
        while (m := match(rawdata, at)) is not None:
            name, closing, end = m.group(2, 3, 4)
            if name is not None:
                tag = name.lower()
                if tag in special:
                    break
                at = m.start(2) - 1
                last = (tag, at, m.end())
                if not closing and tag not in empty:
                    stack.append(tag)
                    if block_level(tag) and 0 < at - rawdata.rfind("\n", 0, at) - 1 <= 3:
                        reads = at  # `at_line_start` reads the line's start there
            else:
                tag = end.lower()
                if tag in stack:
                    top = len(stack) - 1 - stack[::-1].index(tag)
                    if top == 0:
                        break  # it ends the block: the extractor's own
                    del stack[top:]
                reads = m.start(4) - 2  # `get_endtag_text` reads the line's start there
            at = m.end()
        at = _TEXT_ONLY.match(rawdata, at).end() if m is None else m.end(1)
        if at > start:
            self._cache.append(rawdata[start:at])
        if last is not None:
            self.lasttag = last[0]
            self._HTMLParser__starttag_text = rawdata[last[1]:last[2]]
        if reads is not None:
            # The extractor keeps the start of each line it reads (`line_offset`), found
            # in the text of the moment: found here, as it would have found them there.
            lineno = self.lineno
            self.lineno = lineno + rawdata.count("\n", i, reads)
            self.line_offset  # noqa: B018 - read for its side effect
            self.lineno = lineno
        return at


class LeanRawHtmlPostprocessor(RawHtmlPostprocessor):
    """Python-Markdown's `raw_html` postprocessor, which puts the kept raw HTML (each
    highlighted code block among it) back in place of its placeholders, and then
    searches each piece it put back for placeholders inside it: here only a piece that
    holds their first character (`util.STX`), as every placeholder does. The other
    pieces, nearly all (a code block's HTML: 0.2 s of the default site's CPU to search),
    are their own result."""

    def run(self, text: str) -> str:
        stash = self.md.htmlStash
        if not stash.html_counter:
            return text
        number = util.HTML_PLACEHOLDER % r"([0-9]+)"
        placeholder = re.compile(f"<p>{number}</p>|{number}")

        def put_back(m: re.Match[str]) -> str:
            wrapped = m.group(1)
            key = int(wrapped or m.group(2))
            if key >= stash.html_counter:
                return m.group(0)
            html = self.stash_to_string(stash.rawHtmlBlocks[key])
            if wrapped and not self.isblocklevel(html):
                html = f"<p>{html}</p>"
            return placeholder.sub(put_back, html) if util.STX in html else html

        return placeholder.sub(put_back, text)


class LeanHtmlBlockPreprocessor(HtmlBlockPreprocessor):
    """Python-Markdown's `html_block` preprocessor with `LeanHTMLExtractor`."""

    def run(self, lines: list[str]) -> list[str]:
        parser = LeanHTMLExtractor(self.md)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")
