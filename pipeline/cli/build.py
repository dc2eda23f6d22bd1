"""`build`: every artifact, replaced whole — or nothing at all when nothing changed."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.core.settings import DEFAULT_NAVIGATOR
from pipeline.cli.common import CliError, errors_as_exit, info, progress, source_options, summary_line, verbosity
from pipeline.cli.profile import read_profiles


@click.command("build")
@source_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Output directory (a link to the newest build); replaced only when the build succeeds.",
)
@click.option(
    "--include-attack",
    is_flag=True,
    help="Embed the ATT&CK objects each STIX bundle references (upgraded to STIX 2.1), so every bundle stands alone.",
)
@click.option("--force", is_flag=True, help="Rebuild even when no input, setting or code has changed.")
@click.option(
    "--keep-going",
    is_flag=True,
    help="Publish even when an enabled source cannot be read (its content is left out; the summary names it).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Organisation profile (TOML); repeatable. Default: profiles/*.toml beside the sources file. Results: DIR/profiles/<id>/.",
)
def command(ws, out: Path, include_attack: bool, force: bool, keep_going: bool, profiles: tuple[str, ...]) -> None:
    """Ingest every enabled source for the target release, build the graph and
    render the artifacts. The new build is written beside the old one and swapped
    in at the end; with unchanged inputs the build does nothing but hash them."""
    # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
    from pipeline.build import build, planned_steps

    options: dict = {"stix_include_attack": include_attack}
    chosen = click.get_current_context().find_root().meta.get("attack_pipeline.settings")
    if chosen is not None and chosen.get("navigator_url") not in (None, DEFAULT_NAVIGATOR):
        options["navigator_url"] = chosen["navigator_url"]  # only then: default builds keep their fingerprint
    with errors_as_exit():
        found = read_profiles(profiles, ws.config.file, ws.config.limits)
    with errors_as_exit(), progress(lambda: planned_steps(ws) + (1 if found else 0)) as step:
        result = build(ws, out, step, force=force, keep_going=keep_going, options=options, profiles=found)
    total = len(result.artifacts)
    if result.damaged:
        click.echo(
            f"warning: {len(result.damaged)} file(s) of the previous build no longer matched its manifest "
            f"(e.g. {result.damaged[0]}); rebuilt",
            err=True,
        )
    if result.up_to_date:
        info(f"outputs are up to date: {total} files in {out} ({result.folder.name}); nothing to do")
        _missing(result.missing)
        summary_line(result.warnings, str(out))  # the build's; this run read no input
        if ws.strict and result.warnings:
            raise CliError(f"{result.warnings} warning(s) in the build (reports/issues.json) and --strict is set")
        _next(out)
        return
    info(f"built ATT&CK {ws.attack_version} ({', '.join(ws.domains)}): {total} files in {out} ({result.folder.name})")
    info("  artifacts: " + ", ".join(f"{k} {v}" for k, v in result.counts().items()))
    if result.reused:
        info(f"  rendered:  {total - len(result.reused)} files; {len(result.reused)} taken unchanged from the previous build")
    if verbosity() > 0:
        info("  seconds:   " + ", ".join(f"{k} {v:.2f}" for k, v in result.stages.items()))
        info("  cpu:       " + ", ".join(f"{k} {a:.2f}" + (f"+{b:.2f}" if b >= 0.005 else "") for k, (a, b) in result.cpu.items()))
        if result.processes > 1:
            info(f"  renderers: ({result.processes} processes) " + ", ".join(f"{k} {v:.2f}" for k, v in result.renderers.items()))
    else:
        info(f"  seconds:   {sum(result.stages.values()):.1f}")
    _missing(result.missing)
    ws.issues_kept_in = str(out)
    _next(out)


def _missing(missing: list[dict]) -> None:
    for m in missing:
        info(f"  missing:   source {m['source']!r} could not be read; its content is not in this build: {m['problem']}")


def _next(out: Path) -> None:
    """Where the outputs are and what to run next (a first build is a first hour)."""
    info(f"outputs:     {os.path.abspath(out)}  (what is where: {out}/README.md)")
    site = "" if out == Path("outputs") else f" --out {out}"
    info(f"next:        attack-pipeline site{site} && attack-pipeline serve    browse the docs site")
    info(f"             attack-pipeline show T1046{site}                    one technique, instantly")
    chosen = click.get_current_context().find_root().meta.get("attack_pipeline.settings")
    navigator = chosen["navigator_url"] if chosen is not None else DEFAULT_NAVIGATOR
    info(f"             {out}/layers/: Navigator layers (Open Existing Layer → Upload from local at {navigator})")
