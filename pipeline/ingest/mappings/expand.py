"""Expand the regular expressions of the NIST 800-53 mapping tables (ATT&CK 8.2–10.1).

Those tables write `T1003(\\.006|\\.005)?` for a technique and some of its
sub-techniques, and `(AC-(2|4|5|6)|IA-(2|4|5))` for several controls. A pattern
stands for every id of its universe (the live techniques of the table's ATT&CK release,
the controls of the catalogue) that it matches *whole*, so `T1001` never matches
`T1001.001`.

The tables use a small part of regular-expression syntax: literal characters, `\\.`,
`.`, groups, `|` and `?`. Such a pattern stands for a finite set of strings, so it is
expanded to that set and intersected with the universe instead of being run by the
regex engine: a pattern from a hostile table cannot then backtrack for hours
(`(T|T|T|T)(1|1|1|1)…` did, with Python's `re`), and any other syntax (`*`, `+`, `[`,
`{`) is refused as one bad row. Every partial expansion is kept to the substrings of
the universe's ids (nothing else can be part of a whole match), and the work of one
expansion is capped at `MAX_EXPANSION` strings built.
"""

from __future__ import annotations

from typing import Iterable

# Strings built while expanding one pattern; the real ones build a few dozen.
MAX_EXPANSION = 1_000_000

# Characters that make a cell a pattern rather than a literal id.
PATTERN_CHARS = frozenset("()|?*+[]{}\\^$")


def is_pattern(cell: str) -> bool:
    return not PATTERN_CHARS.isdisjoint(cell)


class Universe:
    """The ids a pattern may stand for, with a cache of answers per pattern."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids: tuple[str, ...] = tuple(sorted(set(ids)))
        self._set = frozenset(self.ids)
        self._substrings: frozenset[str] | None = None
        self._alphabet: frozenset[str] = frozenset()
        self._cache: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def expand(self, pattern: str) -> tuple[str, ...]:
        """Ids matched whole by `pattern`, sorted; raises ValueError when it is not a pattern
        of the tables' syntax or stands for more than `MAX_EXPANSION` strings."""
        pattern = pattern.strip()
        found = self._cache.get(pattern)
        if found is not None:
            return found
        inner = pattern.removeprefix("^")
        if inner.endswith("$") and not inner.endswith("\\$"):
            inner = inner[:-1]
        if self._substrings is None:
            self._substrings = frozenset(i[a:b] for i in self.ids for a in range(len(i)) for b in range(a, len(i) + 1))
            # Once per universe, not once per pattern (a walk over every substring: most
            # of the time of reading the NIST tables).
            self._alphabet = frozenset(s for s in self._substrings if len(s) == 1)
        found = tuple(sorted(self._set.intersection(_Pattern(inner, self._substrings, self._alphabet).strings())))
        self._cache[pattern] = found
        return found


class _Pattern:
    """Recursive descent over `alternation := sequence ('|' sequence)*`,
    `sequence := (atom '?'*)*`, `atom := literal | '\\' char | '.' | '(' ['?:'] alternation ')'`."""

    def __init__(self, text: str, substrings: frozenset[str], alphabet: frozenset[str] | None = None) -> None:
        self.text = text
        self.at = 0
        self.substrings = substrings
        self.alphabet = alphabet if alphabet is not None else frozenset(s for s in substrings if len(s) == 1)
        self.depth = 0
        self.budget = MAX_EXPANSION

    def _spend(self, size: int) -> None:
        self.budget -= size
        if self.budget < 0:
            raise ValueError(f"builds more than {MAX_EXPANSION:,} strings: too complex to expand")

    def strings(self) -> set[str]:
        found = self._alternation()
        if self.at < len(self.text):
            raise ValueError(f"unbalanced ')' at position {self.at}")
        found.discard("")
        return found

    def _alternation(self) -> set[str]:
        found = self._sequence()
        while self.at < len(self.text) and self.text[self.at] == "|":
            self.at += 1
            found |= self._sequence()
        return found

    def _sequence(self) -> set[str]:
        found = {""}
        while self.at < len(self.text) and self.text[self.at] not in "|)":
            atom = self._atom()
            while self.at < len(self.text) and self.text[self.at] == "?":
                self.at += 1
                atom = atom | {""}
            self._spend(len(found) * len(atom))
            subs = self.substrings
            found = {a + b for a in found for b in atom if a + b in subs}
        return found

    def _atom(self) -> set[str]:
        c = self.text[self.at]
        self.at += 1
        if c == "\\":
            if self.at >= len(self.text):
                raise ValueError("pattern ends with a backslash")
            escaped = self.text[self.at]
            self.at += 1
            if escaped.isalnum():
                raise ValueError(f"escape \\{escaped} is not used by mapping tables")
            return {escaped}
        if c == ".":
            return set(self.alphabet)
        if c == "(":
            self.depth += 1
            if self.depth > 100:
                raise ValueError("groups nested more than 100 deep")
            if self.text.startswith("?:", self.at):
                self.at += 2
            found = self._alternation()
            if self.at >= len(self.text) or self.text[self.at] != ")":
                raise ValueError(f"missing ')' at position {self.at}")
            self.at += 1
            self.depth -= 1
            return found
        if c in "*+[]{}^$?":
            raise ValueError(f"{c!r} at position {self.at - 1} is regular-expression syntax mapping tables do not use")
        return {c}

