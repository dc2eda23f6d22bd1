"""What every command shares: source options, progress on stderr, warnings and errors.

Library code raises `PipelineError`; only here does it become one `error:` line and
exit code 1. Usage mistakes stay click's (exit code 2).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Callable, Iterator

import click
import orjson

from pipeline.core.errors import Issue, PipelineError
from pipeline.cli.progress import progress_bar
from pipeline.core import settings
from pipeline.core.config import load_config

VERBOSITY = "attack_pipeline.verbosity"
# Warnings about what the user asked for (a domain or a source left out), always shown;
# the rest are about the published data, summarised in one line.
SETUP_CODES = frozenset({"domain-skipped", "source-unreadable", "source-skipped", "detection-source-missing"})


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
def _mirror_setting(_ctx, _param, value):
    """No --mirror: the settings' mirror (environment, project file, user config), so every
    command that takes --mirror honours `attack-pipeline init`."""
    if value not in (None, ""):
        return value

    try:
        return settings.resolve({}).get("mirror")
    except PipelineError as exc:
        raise CliError(exc.one_line()) from None


mirror_option = click.option(
    "--mirror",
    type=click.Path(file_okay=False),
    callback=_mirror_setting,
    help="Offline mirror directory holding the sources (else ATTACK_PIPELINE_MIRROR, the project file, the user config).",
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
        # lazy: pipeline.fetch would add 20 ms to every command's start-up (`--help` too)
        from pipeline.fetch import resolve_mirror_dir
        # lazy: pipeline.workspace would add 50 ms to every command's start-up (`--help` too)
        from pipeline.workspace import Workspace

        with errors_as_exit():
            config = load_config(sources_file)
            stack = contextlib.ExitStack()
            chosen = stack.enter_context(settings_applied({"mirror": mirror}, config))
            site_url = chosen.get("site_url")
            if site_url is not None and site_url != config.site_url:
                config = replace(config, site_url=site_url)
            ws = Workspace.open(config, resolve_mirror_dir(chosen.get("mirror")), attack_version, tuple(domains))
            ws.strict = strict
            with stack:
                result = func(*args, ws=ws, **kwargs)
                report_notices(ws.notices)  # after the work: an error stays the one line it is
                report_issues(ws.issues, strict, where=ws.issues_kept_in)
            return result

    return wrapper


@contextlib.contextmanager
def errors_as_exit() -> Iterator[None]:
    try:
        yield
    except PipelineError as exc:
        raise CliError(exc.one_line()) from None
    except OSError as exc:  # a full disk, a folder that went away: the file and the reason, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        raise CliError(f"{where}{exc.strerror or exc}") from None
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)


def report_notices(notices: list[str]) -> None:
    """`note:` lines on stderr: facts the user should know that are not bad input (a newer
    release listed but not fetched yet), so `--strict` does not count them."""
    if verbosity() < 0:  # --quiet: only the answer and errors
        return
    for line in notices:
        click.echo(f"note: {line}", err=True)


def report_issues(issues: list[Issue], strict: bool, *, where: str = "") -> None:
    """Warnings about the inputs: one summary line by default (published tables have
    faults nobody running `show` can fix), every one of them with --verbose, none with
    --quiet. `where` names a build whose reports hold them (answers from a build)."""
    setup = [i for i in issues if i.code in SETUP_CODES]
    data = [i for i in issues if i.code not in SETUP_CODES]
    if verbosity() >= 0:
        for issue in setup:
            click.echo(f"warning: {issue.one_line()}", err=True)
    summary_line(len(data), where)
    if verbosity() > 0:
        for issue in data:
            click.echo(f"warning: {issue.one_line()}", err=True)
    if strict and issues:
        raise CliError(f"{len(issues)} warning(s) and --strict is set")


def report_build_issues(ws, warnings: int, out: Path) -> None:
    """The warnings of the build a command answers from, as `report_issues` words those of
    a load: one summary line; with --verbose every one of them, read back from the
    build's reports/issues.json; with --strict an error when there are any."""
    summary_line(warnings, str(out))
    if verbosity() > 0 and warnings:
        try:
            kept = orjson.loads((out / "reports" / "issues.json").read_bytes())
            issues = [Issue(**{k: d.get(k) for k in ("code", "problem", "file", "record")}) for d in kept]
        except (OSError, orjson.JSONDecodeError, TypeError, AttributeError):
            issues = []
            click.echo(f"warning: {warnings} warning(s) in the build, but {out}/reports/issues.json cannot be read", err=True)
        for issue in issues:
            click.echo(f"warning: {issue.one_line()}", err=True)
    if ws.strict and warnings:
        raise CliError(f"{warnings} warning(s) in the build ({out}/reports/issues.json) and --strict is set")


def summary_line(count: int, where: str = "") -> None:
    if not count or verbosity() != 0:
        return
    noun = "warning" if count == 1 else "warnings"
    kept = f"{where}/reports/issues.json" if where else "reports/issues.json of a build"
    click.echo(f"{count} {noun} about the inputs (--verbose lists them; all of them: {kept})", err=True)


def verbosity() -> int:
    """-1 with --quiet, 1 with --verbose, else 0 (outside a command: 0)."""
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().meta.get(VERBOSITY, 0) if ctx is not None else 0


def info(message: str, *, err: bool = False) -> None:
    """A line that --quiet leaves out (what was done, where it went, what to do next)."""
    if verbosity() >= 0:
        click.echo(message, err=err)


def detail(message: str) -> None:
    """A line only --verbose shows (on stderr)."""
    if verbosity() > 0:
        click.echo(message, err=True)


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value:
        return
    meta = ctx.find_root().meta
    wanted = -1 if param.name == "quiet" else 1
    if meta.get(VERBOSITY, wanted) != wanted:
        raise click.UsageError("--quiet and --verbose exclude each other", ctx=ctx)
    meta[VERBOSITY] = wanted


def verbosity_params() -> list[click.Option]:
    """-q/--quiet and -v/--verbose, for the group and every command."""
    return [
        click.Option(
            ["-q", "--quiet"], is_flag=True, expose_value=False, is_eager=True, callback=_set_verbosity,
            help="Print only the answer and errors: no progress, no warnings, no notes.",
        ),
        click.Option(
            ["-v", "--verbose"], is_flag=True, expose_value=False, is_eager=True, callback=_set_verbosity,
            help="List every warning about the inputs, and where each answer came from.",
        ),
    ]


def add_verbosity(command: click.Command) -> None:
    """-q/--quiet and -v/--verbose on a command, and a short help that is its first
    whole sentence (click's default cuts it at a width, mid-sentence)."""
    names = {opt for p in command.params for opt in getattr(p, "opts", ())}
    if "--quiet" not in names:
        command.params.extend(verbosity_params())
    if command.short_help is None and command.help:
        command.short_help = first_sentence(command.help)


def first_sentence(text: str) -> str:
    """Up to the first full stop outside brackets that ends a sentence (not `e.g.`)."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    depth = 0
    for i, ch in enumerate(paragraph):
        depth += ch in "(["
        depth -= ch in ")]"
        end = i + 1 == len(paragraph) or paragraph[i + 1] == " "
        if ch == "." and depth <= 0 and end and not paragraph[: i + 1].endswith(("e.g.", "i.e.")):
            return paragraph[: i + 1]
    return paragraph


@contextlib.contextmanager
def settings_applied(flags: dict, config=None) -> Iterator:
    """The resolved settings (flag > environment > project file > user config) for one
    command. The cache is handed to the stages as ATTACK_PIPELINE_CACHE, which they
    read, and put back as it was afterwards."""
    chosen = settings.resolve(flags, sources_site_url=(config.site_url, config.file) if config is not None else None)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().meta["attack_pipeline.settings"] = chosen
    cache = chosen.get("cache")
    key = settings.BY_NAME["cache"].env
    before = os.environ.get(key)
    if cache is not None and before != cache:
        os.environ[key] = cache
    try:
        yield chosen
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


@contextlib.contextmanager
def progress(total: int | Callable[[], int] | None = None, *, console=None) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr when it is a terminal (never with --quiet, in CI or a
    pipe); see pipeline.cli.progress."""
    with progress_bar(total, console=console, enabled=verbosity() >= 0) as steps:
        yield steps


def emit_json(data) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    sys.stdout.flush()


def answer_options(command: Callable) -> Callable:
    """`--out` and `--from-sources` of the commands that answer from the last build
    (`show`, `stats`): the same two options, worded once."""
    command = click.option("--from-sources", is_flag=True, help="Read the sources and build the graph even when a build could answer.")(command)
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("outputs"),
        show_default=True,
        help="Answer from the build in this folder when it was made from the same sources, release and code.",
    )(command)
