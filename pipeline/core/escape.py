"""Text from sources → Markdown that renders as that text and nothing else.

The pages are Markdown today and HTML in a reader's browser tomorrow (the docs site),
and everything on them comes from files other people publish: rule titles, mapping
comments, queries. So no source string reaches a page unescaped:

- `text`/`para`/`cell`: plain text. HTML is neutralised with entities (`<` → `&lt;`:
  an entity always renders as a character, never as markup), and every character that
  could start Markdown syntax is backslash-escaped: links and images (`[`, `]`), code
  (backtick), emphasis (`*`, and `_` except inside a word, where neither CommonMark nor
  Python-Markdown reads it), headings (`#`), attribute lists (`{`, `}`: Python-Markdown's
  attr_list would otherwise accept `{: onclick=…}`), table cells (`|`), and at the start
  of a line list and quote markers, and the site's admonition, details and content-tab
  markers (`!!!`, `???`, `===`).
- `fence`: queries go into a fenced block whose fence is longer than any run of
  backticks inside, so no query can close it early; its info string is reduced to
  `[A-Za-z0-9_+-]`.
- `safe_url`: only http, https and mailto links are kept (no `javascript:`, `data:`,
  `vbscript:`), percent-encoding the characters that could end a Markdown link.

Every function returns `Md`, the marker type the template environment requires for
anything it prints (see `pipeline.render.pages.environment`): a value that did not pass through here
cannot reach a page.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote


class Md(str):
    """A string that is safe to place in a Markdown page as it is."""

    __slots__ = ()


EMPTY = Md("")

_CONTROL_CHARS = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
_CLEAN = {c: " " for c in _CONTROL_CHARS}
_CONTROL = re.compile("[" + "".join(re.escape(chr(c)) for c in _CONTROL_CHARS) + "]")
_TEXT = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "[": "\\[",
        "]": "\\]",
        "{": "\\{",
        "}": "\\}",
        "#": "\\#",
        "<": "&lt;",
        ">": "&gt;",
    }
) | _CLEAN
_CELL = _TEXT | {ord("|"): "\\|"}
# Whether a string needs the table at all: most titles and names do not, and a search
# is much cheaper than str.translate with multi-character replacements.
_NEEDS = {id(t): re.compile("[" + "".join(re.escape(chr(c)) for c in t) + "]") for t in (_TEXT, _CELL)}
# `&` starts an entity only before `name;` or `#digits;`; elsewhere it is printed as is.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# `_` opens or closes emphasis unless it sits between two letters or digits.
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BLANK_LINES = re.compile(r"\n\s*\n")
# What would make a line a list item or a thematic break (`#`, `>`, `*` are escaped anyway).
_LINE_START = re.compile(r"^(\d{0,9})([-+]|(?<=\d)[.)](?=\s|$))")
_LINE_START_CHARS = frozenset("-+~:!?=0123456789")
# Not escapable in Python-Markdown, so written as entities: `~~~` opens a fence there,
# and `: x` after a paragraph makes a definition list.
# On the site, `!!!`, `???` and `===` open an admonition, a collapsed details block and a
# content tab (pymdownx); an entity is never read as one.
_LINE_START_ENTITIES = {"~": "&#126;", ":": "&#58;", "!": "&#33;", "?": "&#63;", "=": "&#61;"}
_BACKTICKS = re.compile(r"`+")
_INFO = re.compile(r"[^A-Za-z0-9_+-]")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
# Kept as they are in a link destination; everything else (spaces, brackets, parentheses,
# quotes, `<>`, backslashes, non-ASCII) is percent-encoded, so nothing ends the link early.
_URL_SAFE = "/:?#@!$&'*+,;=%~.-_"
_URL_PLAIN = re.compile(r"[A-Za-z0-9/:?#@!$&'*+,;=%~._-]+")


def _str(value: object) -> str:
    return value if type(value) is str else "" if value is None else str(value)


def _clean(value: object) -> str:
    s = _str(value)
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s.translate(_CLEAN) if _CONTROL.search(s) else s


def _line(s: str, table: dict) -> str:
    """One line (whitespace already collapsed) escaped with `table`: these run a few
    hundred thousand times per build, so each regex runs only where it can match."""
    if "&" in s:  # before translating, which writes entities of its own
        s = _ENTITY.sub("&amp;", s)
    if _NEEDS[id(table)].search(s):
        s = s.translate(table)
    if "_" in s:
        s = _UNDERSCORE.sub(r"\\_", s)
    return s


@functools.lru_cache(maxsize=1 << 16)
def text(value: object) -> Md:
    """One line of plain text (whitespace, newlines included, collapses to single spaces)."""
    s = " ".join(_str(value).split())
    if s and not s.isprintable() and _CONTROL.search(s):
        s = " ".join(s.translate(_CLEAN).split())
    if not s:
        return EMPTY
    s = _line(s, _TEXT)
    return Md(_line_start(s) if s[0] in _LINE_START_CHARS else s)


def _line_start(s: str) -> str:
    """Escape what would make a line a list item, a thematic break, a fence or a definition."""
    entity = _LINE_START_ENTITIES.get(s[0])
    if entity:
        return entity + s[1:]
    return _LINE_START.sub(r"\1\\\2", s)


def _paragraphs(value: object) -> list[str]:
    s = _str(value)
    if _CONTROL.search(s):
        s = s.translate(_CLEAN)
    if "\n" not in s:
        one = " ".join(s.split())
        return [one] if one else []
    return [p for p in (" ".join(x.split()) for x in _BLANK_LINES.split(s.replace("\r\n", "\n").replace("\r", "\n"))) if p]


def para(value: object) -> Md:
    """Plain text in paragraphs: blank lines separate them, each is one line of text."""
    out = []
    for p in _paragraphs(value):
        p = _line(p, _TEXT)
        out.append(_line_start(p) if p[0] in _LINE_START_CHARS else p)
    return Md("\n\n".join(out))


@functools.lru_cache(maxsize=1 << 16)
def cell(value: object) -> Md:
    """Plain text for a table cell: pipes escaped, paragraphs joined by line breaks."""
    return Md("<br>".join(_line(p, _CELL) for p in _paragraphs(value)))


def fence_info(language: str) -> str:
    return _INFO.sub("", language)


def fence(body: object, info: str = "") -> Md:
    """A fenced code block that nothing inside can close: the fence is longer than any
    backtick run of the body (CommonMark needs a closing fence at least as long as the
    opening one; Python-Markdown needs exactly the opening one)."""
    s = _clean(body).strip("\n")
    longest = max((len(m) for m in _BACKTICKS.findall(s)), default=0)
    f = "`" * max(3, longest + 1)
    return Md(f"{f}{fence_info(info)}\n{s}\n{f}")


def codespan(value: object) -> Md:
    """Inline code on one line (outside tables): delimited by a longer backtick run."""
    s = " ".join(_clean(value).split())
    if not s:
        return EMPTY
    longest = max((len(m) for m in _BACKTICKS.findall(s)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return Md(f"{tick}{pad}{s}{pad}{tick}")


def safe_url(value: object) -> Md | None:
    """An http(s) or mailto URL made safe for a link destination, or None."""
    s = _clean(value).strip()
    if not s.lower().startswith(_SAFE_SCHEMES):
        return None
    return Md(s if _URL_PLAIN.fullmatch(s) else quote(s, safe=_URL_SAFE))


def link(label: Md, url: object) -> Md:
    """`[label](url)` if the URL is safe, else the label alone (already escaped)."""
    u = safe_url(url)
    return Md(f"[{label}]({u})") if u else label


def url_text(value: object) -> Md:
    """A URL as a link to itself where it is safe, else as inert text."""
    u = safe_url(value)
    return Md(f"[{text(value)}]({u})") if u else text(value)


def local(label: Md, target: str) -> Md:
    """A relative link to another generated page (targets come from validated file names)."""
    return Md(f"[{label}]({target})")
