"""`build`: every artifact, replaced whole — or nothing at all when nothing changed."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import CliError, errors_as_exit, progress, source_options


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
    "--profile",
    "profiles",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Organisation profile (TOML); repeatable. Default: profiles/*.toml beside the sources file. Results: DIR/profiles/<id>/.",
)
def command(ws, out: Path, include_attack: bool, force: bool, profiles: tuple[str, ...]) -> None:
    """Ingest every enabled source for the target release, build the graph and
    render the artifacts. The new build is written beside the old one and swapped
    in at the end; with unchanged inputs the build does nothing but hash them."""
    from pipeline.build import build
    from pipeline.cli.profile import read_profiles
    from pipeline.render import RENDERERS

    with errors_as_exit():
        found = read_profiles(profiles, ws.config.file)
    with errors_as_exit(), progress(len(ws.domains) + 5 + len(RENDERERS)) as step:
        result = build(ws, out, step, force=force, options={"stix_include_attack": include_attack}, profiles=found)
    total = len(result.artifacts)
    if result.up_to_date:
        click.echo(f"outputs are up to date: {total} files in {out} ({result.folder.name}); nothing to do")
        if ws.strict and result.warnings:
            raise CliError(f"{result.warnings} warning(s) in the build (reports/issues.json) and --strict is set")
        return
    click.echo(f"built ATT&CK {ws.attack_version} ({', '.join(ws.domains)}): {total} files in {out} ({result.folder.name})")
    click.echo("  artifacts: " + ", ".join(f"{k} {v}" for k, v in result.counts().items()))
    if result.reused:
        click.echo(f"  rendered:  {total - len(result.reused)} files; {len(result.reused)} taken unchanged from the previous build")
    click.echo("  seconds:   " + ", ".join(f"{k} {v:.2f}" for k, v in result.stages.items()))
    click.echo(f"  warnings:  {result.warnings} (reports/issues.json)")
