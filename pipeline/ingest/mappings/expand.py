"""Expand the regular expressions of the NIST 800-53 mapping tables (ATT&CK 8.2–10.1).

Those tables write `T1003(\\.006|\\.005)?` for a technique and some of its
sub-techniques, and `(AC-(2|4|5|6)|IA-(2|4|5))` for several controls. A pattern
stands for every id of its universe (the live techniques of the table's ATT&CK release,
the controls of the catalogue) that it matches *whole*, so `T1001` never matches
`T1001.001`.

Matching each of ~1,200 rows against ~1,800 ids one `re.fullmatch` at a time costs
seconds; instead a pattern runs once over the universe joined by newlines in
MULTILINE mode, which the regex engine scans in C. A match that spans a newline
(possible with `\\s` or `[^x]`) could hide a match inside one line, so such patterns
fall back to matching id by id.
"""

from __future__ import annotations

import re
from typing import Iterable

# Characters that make a cell a pattern rather than a literal id.
PATTERN_CHARS = frozenset("()|?*+[]{}\\^$")


def is_pattern(cell: str) -> bool:
    return not PATTERN_CHARS.isdisjoint(cell)


class Universe:
    """The ids a pattern may stand for, with a cache of answers per pattern."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids: tuple[str, ...] = tuple(sorted(set(ids)))
        self._text = "\n".join(self.ids)
        self._cache: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def expand(self, pattern: str) -> tuple[str, ...]:
        """Ids matched whole by `pattern`, sorted; raises `re.error` when it does not compile."""
        pattern = pattern.strip()
        found = self._cache.get(pattern)
        if found is not None:
            return found
        inner = pattern.removeprefix("^")
        if inner.endswith("$") and not inner.endswith("\\$"):
            inner = inner[:-1]
        compiled = re.compile(f"^(?:{inner})$", re.MULTILINE)
        matches = [m.group(0) for m in compiled.finditer(self._text) if m.group(0)]
        if any("\n" in m for m in matches):
            single = re.compile(f"(?:{inner})")
            matches = [i for i in self.ids if single.fullmatch(i)]
        found = tuple(sorted(set(matches)))
        self._cache[pattern] = found
        return found
