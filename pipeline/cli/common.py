"""What every command shares: source options, progress on stderr, warnings and errors.

Library code raises `PipelineError`; only here does it become one `error:` line and
exit code 1. Usage mistakes stay click's (exit code 2).
"""

from __future__ import annotations

import contextlib
import os
import sys
from functools import wraps
from typing import Callable, Iterator

import click

from pipeline.errors import Issue, PipelineError

MAX_WARNINGS_SHOWN = 20
GROUP_ABOVE = 3


class CliError(click.ClickException):
    """One line on stderr, exit code 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # noqa: D102 - click API
        click.echo(f"error: {self.message}", err=True)


sources_file_option = click.option(
    "--sources",
    "sources_file",
    type=click.Path(dir_okay=False),
    envvar="ATTACK_PIPELINE_SOURCES",
    help="Sources file (default: ./data/sources.toml, else the one shipped beside the package).",
)
mirror_option = click.option(
    "--mirror",
    type=click.Path(file_okay=False),
    envvar="ATTACK_PIPELINE_MIRROR",
    help="Offline mirror directory holding the sources (env ATTACK_PIPELINE_MIRROR).",
)
strict_option = click.option("--strict", is_flag=True, help="Treat warnings about bad input as errors (exit code 1).")


def source_options(func: Callable) -> Callable:
    """--sources, --mirror, --attack-version, --domain, --strict for a command that reads sources."""

    @sources_file_option
    @mirror_option
    @click.option(
        "--attack-version",
        metavar="V",
        help="Target ATT&CK release, e.g. 18.1 (default: the newest Enterprise release in the sources that the mirror or the cache holds).",
    )
    @click.option(
        "--domain",
        "domains",
        multiple=True,
        type=click.Choice(["enterprise", "mobile", "ics"]),
        help="Domain to load; repeatable (default: every domain that has the target release).",
    )
    @strict_option
    @wraps(func)
    def wrapper(*args, sources_file, mirror, attack_version, domains, strict, **kwargs):
        from pipeline.config import load_config
        from pipeline.fetch import resolve_mirror_dir
        from pipeline.workspace import Workspace

        with errors_as_exit():
            config = load_config(sources_file)
            ws = Workspace.open(config, resolve_mirror_dir(mirror), attack_version, tuple(domains))
            ws.strict = strict
            report_notices(ws.notices)
            result = func(*args, ws=ws, **kwargs)
            report_issues(ws.issues, strict)
            return result

    return wrapper


@contextlib.contextmanager
def errors_as_exit() -> Iterator[None]:
    try:
        yield
    except PipelineError as exc:
        raise CliError(exc.one_line()) from None
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)


def report_notices(notices: list[str]) -> None:
    """`note:` lines on stderr: facts the user should know that are not bad input (a newer
    release listed but not fetched yet), so `--strict` does not count them."""
    for line in notices:
        click.echo(f"note: {line}", err=True)


def report_issues(issues: list[Issue], strict: bool) -> None:
    """One line per problem, except that a file with many problems of one kind gets one
    summary line (a published table with fifty duplicate rows is one finding, not fifty)."""
    groups: dict[tuple, list[Issue]] = {}
    for issue in issues:
        groups.setdefault((issue.file, issue.code), []).append(issue)
    lines = []
    for (file, code), group in groups.items():
        if len(group) <= GROUP_ABOVE:
            lines.extend(i.one_line() for i in group)
        else:
            first = group[0]
            lines.append(f"{file}: {len(group)} × {code}, e.g. {first.record}: {first.problem}")
    for line in lines[:MAX_WARNINGS_SHOWN]:
        click.echo(f"warning: {line}", err=True)
    if len(lines) > MAX_WARNINGS_SHOWN:
        click.echo(
            f"warning: … and {len(lines) - MAX_WARNINGS_SHOWN} more (all of them: reports/issues.json of a build)", err=True
        )
    if strict and issues:
        raise CliError(f"{len(issues)} warning(s) and --strict is set")


@contextlib.contextmanager
def progress(total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr when it is a terminal; silent otherwise (logs, CI, pipes).

    rich is imported only here so that commands stay fast to start.
    """
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield lambda _msg: None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("starting", total=total)
        first = [True]

        def step(msg: str) -> None:
            if not first[0]:
                bar.advance(task)
            first[0] = False
            bar.update(task, description=msg)

        yield step


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def emit_json(data) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    sys.stdout.flush()
