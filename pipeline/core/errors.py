"""Errors and warnings that carry where the problem is.

Every problem with a user's input must be reportable as one line naming the file,
the record inside it and what is wrong, so library code raises or collects these
and only the CLI decides how to print them and which exit code to use.
"""

from __future__ import annotations

from dataclasses import dataclass


_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def flat(text: str | None) -> str | None:
    """Text on one line: library messages (libyaml's, openpyxl's) and ids read from a
    hostile file may hold line breaks, and a report line must stay one line."""
    if text is None or not _LINE_BREAKS.intersection(text):
        return text
    return " ".join(text.split())


def _where(file: str | None, record: str | None) -> str:
    parts = [p for p in (file, record) if p]
    return ": ".join(parts)


class PipelineError(Exception):
    """Bad input or a failed check: exit code 1 at the CLI boundary."""

    def __init__(self, problem: str, *, file: str | None = None, record: str | None = None) -> None:
        self.problem = flat(problem)
        self.file = file
        self.record = flat(record)
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = _where(self.file, self.record)
        return f"{where}: {self.problem}" if where else self.problem


class ConfigError(PipelineError):
    """The sources file or a command-line setting is wrong."""


class SourceNotFound(PipelineError):
    """A source could not be resolved from any location tried."""


class InputError(PipelineError):
    """A file is unreadable or not in the format its source declares."""


@dataclass(frozen=True, slots=True)
class Issue:
    """A non-fatal problem found while reading input; kept for reports and `--strict`."""

    code: str
    problem: str
    file: str | None = None
    record: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "problem", flat(self.problem))
        object.__setattr__(self, "record", flat(self.record))

    def one_line(self) -> str:
        where = _where(self.file, self.record)
        return f"{where}: {self.problem}" if where else self.problem

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "file": self.file, "record": self.record, "problem": self.problem}
