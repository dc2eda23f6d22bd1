"""Helpers of the page tests: Markdown → HTML with two independent renderers (CommonMark
via markdown-it-py with raw HTML allowed, and Python-Markdown as mkdocs configures it),
what the HTML contains, and the relative links of a page."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Elements and attributes that would make a page active in a browser. Inline SVG is how
# the pages draw their pictures; what would make an SVG active (a script, an event
# handler, foreign HTML, animation setting attributes) is refused like anywhere else.
ACTIVE_TAGS = {
    "script", "iframe", "img", "object", "embed", "style", "form", "input", "link", "meta", "base", "frame", "video",
    "audio", "foreignobject", "animate", "set", "use", "image",
}  # fmt: skip
SAFE_SCHEMES = {"http", "https", "mailto"}


def commonmark(md: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def python_markdown(md: str) -> str:
    import markdown

    return markdown.markdown(md, extensions=["tables", "fenced_code", "attr_list", "toc", "def_list", "abbr", "footnotes", "md_in_html"])


def both(md: str) -> list[str]:
    return [commonmark(md), python_markdown(md)]


class Scan(HTMLParser):
    """Tags, attributes, links and code blocks of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.hrefs: list[str] = []
        self.codes: list[str] = []
        self._code: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((k, v or ""))
            if k in ("href", "src"):
                self.hrefs.append(v or "")
        if tag == "code":
            self._code = []

    def handle_endtag(self, tag):
        if tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None

    def handle_data(self, data):
        if self._code is not None:
            self._code.append(data)


def scan(fragment: str) -> Scan:
    s = Scan()
    s.feed(fragment)
    s.close()
    return s


def problems(fragment: str) -> list[str]:
    """Why an HTML fragment is not inert: active elements, event handlers, unsafe URLs."""
    s = scan(fragment)
    out = [f"<{t}>" for t in s.tags if t in ACTIVE_TAGS]
    out += [f"attribute {k}" for k, _ in s.attrs if k.lower().startswith("on")]
    for href in s.hrefs:
        scheme = urlsplit(href).scheme.lower()
        if scheme and scheme not in SAFE_SCHEMES:
            out.append(f"link {href}")
    return out


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# --- relative links of generated Markdown ---------------------------------------------------

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_LINK = re.compile(r"(?<!\\)\]\(([^()\s]+)\)")
# Links of the raw HTML the pages write (pictures, the card's framework tables).
_HREF = re.compile(r'<a [^>]*?href="([^"]*)"')


def outside_code(md: str):
    """Each line outside fenced blocks (indented ones too: inside content tabs and
    folded blocks), with its code spans removed."""
    fence = None
    for line in md.split("\n"):
        m = _FENCE.match(line.lstrip(" "))
        if fence is None:
            if m:
                fence = m.group(1)
            else:
                yield _CODE_SPAN.sub("", line)
        elif line.strip() == fence:
            fence = None


def markdown_links(md: str) -> list[str]:
    """Link destinations outside code, the way the generator writes them (`](target)`);
    checked against a real parser's links in the tests."""
    out = []
    for line in outside_code(md):
        out += _LINK.findall(line)
        if line.startswith("<"):
            out += [html.unescape(h) for h in _HREF.findall(line)]
    return out


def relative_links(links: list[str]) -> list[str]:
    return [u for u in links if not urlsplit(u).scheme and not u.startswith("#")]


def broken_links(root: Path, page: Path, links: list[str]) -> list[str]:
    """Relative links of `page` that do not lead to a file inside `root`."""
    out = []
    base = root.resolve()
    for link in relative_links(links):
        target = (page.parent / unquote(link.split("#", 1)[0])).resolve()
        if not target.is_file() or base not in target.parents:
            out.append(link)
    return out


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(fragment: str) -> list[list[list[str]]]:
    """Every table of an HTML fragment as rows of cell texts (header row first)."""
    p = _Tables()
    p.feed(fragment)
    p.close()
    return p.tables


_HTML_TAG = re.compile(r"<(?!br>)[A-Za-z/!?]")


# The generator's own HTML blocks: pictures (`<figure class="atk-…">`) and the card's
# framework tables (`<details class="atk-fold">`), one line each, escaped when drawn.
_GENERATED = re.compile(r'^<(?:figure|details) class="atk-')


def raw_html(md: str) -> list[str]:
    """Lines that would carry HTML outside code, other than the generator's own blocks
    (elsewhere it writes only `<br>`)."""
    return [line for line in outside_code(md) if _HTML_TAG.search(line) and not _GENERATED.match(line)]


def generated_html(md: str) -> list[str]:
    """The generator's own HTML blocks of a page (to be checked for active content)."""
    return [line for line in outside_code(md) if _GENERATED.match(line)]


def sections(md: str) -> dict[str, str]:
    """`## Heading` → its text; the text before the first one is under ''."""
    out: dict[str, str] = {}
    name = ""
    fence = None
    buf: list[str] = []
    for line in md.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.rstrip() == fence:
            fence = None
        elif fence is None and line.startswith("## "):
            out[name] = "\n".join(buf)
            name, buf = line[3:].strip(), []
            continue
        buf.append(line)
    out[name] = "\n".join(buf)
    return out


def fenced_blocks(md: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced block, in order."""
    out = []
    fence = None
    info = ""
    body: list[str] = []
    for line in md.split("\n"):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence, info, body = m.group(1), line[len(m.group(1)):].strip(), []
        elif line.rstrip() == fence:
            out.append((info, "\n".join(body)))
            fence = None
        else:
            body.append(line)
    return out


_INDENTED_FENCE = re.compile(r"^( *)(`{3,})([A-Za-z0-9_+-]*)$")


def code_blocks(md: str) -> list[tuple[str, str]]:
    """(info, body) of every fenced block, indented ones too (inside content tabs and
    folded blocks): each body line loses exactly the fence line's indentation."""
    out = []
    lines = md.split("\n")
    i = 0
    while i < len(lines):
        m = _INDENTED_FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        pad, fence, info = m.groups()
        body = []
        i += 1
        while lines[i] != pad + fence:
            assert lines[i].startswith(pad), lines[i]
            body.append(lines[i][len(pad):])
            i += 1
        out.append((info, "\n".join(body)))
        i += 1
    return out
