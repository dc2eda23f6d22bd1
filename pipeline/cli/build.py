"""`build`: every artifact the existing stages produce, replaced whole."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import errors_as_exit, progress, source_options


@click.command("build")
@source_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Output directory; replaced whole only when the build succeeds.",
)
@click.option(
    "--include-attack",
    is_flag=True,
    help="Embed the ATT&CK objects each STIX bundle references (upgraded to STIX 2.1), so every bundle stands alone.",
)
def command(ws, out: Path, include_attack: bool) -> None:
    """Ingest every enabled source for the target release, build the graph and
    render the artifacts into OUT (written beside it first, then swapped in)."""
    from pipeline.build import build
    from pipeline.render import RENDERERS

    with errors_as_exit(), progress(len(ws.domains) + 1 + len(RENDERERS)) as step:
        written = build(ws, out, step, options={"stix_include_attack": include_attack})
    click.echo(f"built ATT&CK {ws.attack_version} ({', '.join(ws.domains)}): {len(written)} files in {out}")
