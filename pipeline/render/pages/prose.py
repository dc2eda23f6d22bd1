"""ATT&CK's own descriptions → page Markdown: formatting kept, nothing active let through.

ATT&CK writes its descriptions in Markdown for attack.mitre.org: links to other ATT&CK
pages, `<code>` tags, emphasis and `(Citation: Name)` markers. On our pages that
formatting is worth keeping, but the text is still input, so:

- `(Citation: Name)` becomes a numbered marker `[1]`, and the page lists the
  references in that order (`Citations`);
- `<code>…</code>` becomes a code span (entities decoded, fence longer than any
  backtick run inside);
- links keep only http(s)/mailto destinations (`[x](javascript:…)` keeps its text and
  loses its link); a link to an ATT&CK technique whose page we generate points at our
  page instead; images become plain links (no remote content loads from a page);
- everything else that could be markup is neutralised: `<`/`>` become entities (so
  no HTML, no autolinks), brackets, braces, stray backticks and backslashes are escaped,
  and code spans are kept as they are (their content is never interpreted).

Emphasis (`*`, `_`) is left alone: it can only format text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable

from pipeline.model.attack import Reference
from pipeline.core.escape import Md, codespan, safe_url

_CITATION = re.compile(r"\(Citation:\s*([^)]*?)\s*\)")
_CODE_TAG = re.compile(r"<code>(.*?)</code>", re.S | re.I)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_LINK = re.compile(r"(!?)\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*(?:\([^()\s<>]*\))?[^()\s<>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_PROSE_TEXT = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "{": "\\{",
        "}": "\\}",
        "<": "&lt;",
        ">": "&gt;",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TECHNIQUE_URL = re.compile(r"^https?://attack\.mitre\.org/techniques/(T\d{4})(?:[/.](\d{3}))?/?$")
_TOKEN = "\x00{}\x00"
_TOKEN_RE = re.compile(r"\x00(\d+)\x00")


@dataclass
class Citations:
    """Numbers the citations of one page in order of first use."""

    known: dict[str, Reference]
    order: list[str] = field(default_factory=list)
    _numbers: dict[str, int] = field(default_factory=dict)

    def number(self, name: str) -> int:
        n = self._numbers.get(name)
        if n is None:
            self.order.append(name)
            n = self._numbers[name] = len(self.order)
        return n

    def entries(self) -> list[tuple[int, Reference]]:
        return [(i + 1, self.known.get(name) or Reference(name=name)) for i, name in enumerate(self.order)]


TechniqueLink = Callable[[str], str | None]


def _no_link(_attack_id: str) -> str | None:
    return None


def prose(value: object, citations: Citations | None = None, technique_link: TechniqueLink = _no_link, *, in_cell: bool = False) -> Md:
    """ATT&CK Markdown made safe (see the module docstring); `in_cell` puts it on one
    table-cell line (paragraphs joined by line breaks, pipes escaped)."""
    s = _CONTROL.sub(" ", "" if value is None else str(value)).replace("\r\n", "\n")
    kept: list[str] = []

    def keep(md: str) -> str:
        kept.append(md)
        return _TOKEN.format(len(kept) - 1)

    # Our own constructs become tokens first, so the escaping below cannot touch them.
    s = _CODE_TAG.sub(lambda m: keep(codespan(html.unescape(m.group(1)))), s)
    s = _CODE_SPAN.sub(lambda m: keep(m.group(0) if "\n" not in m.group(0) else codespan(m.group(2))), s)
    if citations is not None:
        s = _CITATION.sub(lambda m: keep(f"\\[{citations.number(m.group(1))}\\]"), s)
    else:
        s = _CITATION.sub("", s)
    s = _LINK.sub(lambda m: keep(_link(m, technique_link)), s)
    s = s.translate(_PROSE_TEXT)
    while "\x00" in s:  # a kept link may hold a kept code span
        s = _TOKEN_RE.sub(lambda m: kept[int(m.group(1))], s)
    s = s.strip()
    if in_cell:
        s = re.sub(r"\n\s*\n", "<br>", s).replace("\n", " ").replace("|", "\\|")
    return Md(s)


def _link(m: re.Match, technique_link: TechniqueLink) -> str:
    label = m.group(2).translate(_PROSE_TEXT).strip() or "link"
    url = m.group(3)
    found = _TECHNIQUE_URL.match(url)
    if found:
        attack_id = found.group(1) + (f".{found.group(2)}" if found.group(2) else "")
        local = technique_link(attack_id)
        if local:
            return f"[{label}]({local})"
    safe = safe_url(url)
    return f"[{label}]({safe})" if safe else label
