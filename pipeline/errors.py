"""Errors and warnings that carry where the problem is.

Every problem with a user's input must be reportable as one line naming the file,
the record inside it and what is wrong, so library code raises or collects these
and only the CLI decides how to print them and which exit code to use.
"""

from __future__ import annotations

from dataclasses import dataclass


def _where(file: str | None, record: str | None) -> str:
    parts = [p for p in (file, record) if p]
    return ": ".join(parts)


class PipelineError(Exception):
    """Bad input or a failed check: exit code 1 at the CLI boundary."""

    def __init__(self, problem: str, *, file: str | None = None, record: str | None = None) -> None:
        self.problem = problem
        self.file = file
        self.record = record
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

    def one_line(self) -> str:
        where = _where(self.file, self.record)
        return f"{where}: {self.problem}" if where else self.problem

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "file": self.file, "record": self.record, "problem": self.problem}
