"""The site's navigation, read from the build's own index and tactic pages.

The site is made from a finished build's `docs/` alone (no graph, no sources), and the
index and tactic pages already say everything the navigation needs, in tables the
docs renderer writes: the index lists each matrix's tactics (`### <matrix>` under
`## Tactics`), the frameworks and the detection sources; a tactic page lists its
techniques and sub-techniques (`## Techniques`). Only those links are read, and only
links to pages that exist are kept.

Technique pages appear under each of their tactics (browsing by tactic is the point);
group pages are listed under Groups; control and detection pages stay out of the navigation (ten thousand entries would be
rendered into every page) and are reached by links.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)\s]+)\)")
_ESCAPE = re.compile(r"\\(.)")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Entry:
    title: str  # plain text
    page: str  # path under docs/


@dataclass
class Nav:
    matrices: list[tuple[str, list[tuple[Entry, list[Entry]]]]] = field(default_factory=list)
    frameworks: list[Entry] = field(default_factory=list)
    detections: list[Entry] = field(default_factory=list)
    groups: list[Entry] = field(default_factory=list)
    profiles: list[Entry] = field(default_factory=list)  # organisation profiles of the build

    def pages(self) -> set[str]:
        out = {e.page for e in self.frameworks + self.detections + self.groups + self.profiles}
        for _, tactics in self.matrices:
            for tactic, techniques in tactics:
                out.add(tactic.page)
                out.update(t.page for t in techniques)
        return out

    def to_mkdocs(self) -> list:
        """The `nav` of mkdocs.yml. mkdocs puts titles into the HTML as they are (its
        templates do not escape), so every title is escaped here."""

        def item(e: Entry) -> dict:
            return {html.escape(e.title): e.page}

        nav: list = [{"Home": "index.md"}]
        for matrix, tactics in self.matrices:
            # The tactic's own page without a title: mkdocs then titles it by its heading
            # ("TA0007 Discovery"), in the navigation, the browser tab and search results.
            nav.append({html.escape(matrix): [{html.escape(t.title): [t.page, *map(item, techs)]} for t, techs in tactics]})
        if self.frameworks:
            nav.append({"Frameworks": [item(e) for e in self.frameworks]})
        if self.groups:
            nav.append({"Groups": [item(e) for e in self.groups]})
        if self.detections:
            nav.append({"Detections": [item(e) for e in self.detections]})
        if self.profiles:
            nav.append({"Profiles": [item(e) for e in self.profiles]})
        return nav


def plain(md: str) -> str:
    """Markdown cell text as plain text: links to their labels, escapes and tags removed."""
    md = _LINK.sub(lambda m: m.group(1), md)
    md = _TAG.sub("", _ESCAPE.sub(r"\1", md))
    return " ".join(html.unescape(md).split())


def _section(md: str, heading: str) -> list[str]:
    lines, inside = [], False
    for line in md.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip() == heading
        elif inside:
            lines.append(line)
    return lines


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _rows(lines: list[str], page: str, docs: Path, *, name_column: bool) -> list[Entry]:
    """A table's rows whose first cell links a page: (title, page under docs/)."""
    out = []
    for line in lines:
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        m = _LINK.search(cells[0])
        if not m or "://" in m.group(2):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m.group(2)))
        if target.startswith("../") or not (docs / target).is_file():
            continue
        title = plain(cells[0])
        if name_column and len(cells) > 1:
            title = f"{title} {plain(cells[1]).removeprefix('↳').strip()}"
        out.append(Entry(title=title, page=target))
    return out


def read_nav(docs: Path) -> Nav:
    index = (docs / "index.md").read_text(encoding="utf-8")
    nav = Nav()
    matrix, groups = "", []
    for line in _section(index, "Tactics"):
        if line.startswith("### "):
            matrix = plain(line[4:])
            groups = []
            nav.matrices.append((matrix, groups))
        elif matrix:
            for tactic in _rows([line], "index.md", docs, name_column=False):
                text = (docs / tactic.page).read_text(encoding="utf-8")
                groups.append((tactic, _rows(_section(text, "Techniques"), tactic.page, docs, name_column=True)))
    nav.frameworks = _rows(_section(index, "Frameworks"), "index.md", docs, name_column=False)
    nav.groups = _rows(_section(index, "Groups"), "index.md", docs, name_column=True)
    nav.detections = _distinct(_rows(_section(index, "Detection sources"), "index.md", docs, name_column=False))
    nav.profiles = _profiles(docs)
    return nav


def _profiles(docs: Path) -> list[Entry]:
    """`docs/profiles/<id>.md` (pipeline/render/profiles), titled by their first heading."""
    out = []
    for page in sorted((docs / "profiles").glob("*.md")):
        first = page.read_text(encoding="utf-8").split("\n", 1)[0]
        title = plain(first[2:]) if first.startswith("# ") else page.stem
        out.append(Entry(title=title or page.stem, page=f"profiles/{page.name}"))
    return out


def _distinct(entries: list[Entry]) -> list[Entry]:
    """Two sources of one format share a label ("Hunting queries (KQL)"): add their ids."""
    seen: dict[str, int] = {}
    for e in entries:
        seen[e.title] = seen.get(e.title, 0) + 1
    return [Entry(f"{e.title} ({posixpath.basename(e.page).removesuffix('.md')})", e.page) if seen[e.title] > 1 else e for e in entries]
