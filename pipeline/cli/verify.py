"""`verify`: does a build folder still hold the bytes its manifest lists?"""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli.common import CliError


@click.command("verify")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Output directory of a build (the link to the live build, or a build folder).",
)
def command(out: Path) -> None:
    """Check every file of the build at OUT against its manifest: missing files, files
    whose sha256 differs (every byte is read) and files the build did not write. Exit
    code 0 when the build is intact, 1 with the list of differences."""
    # lazy: pipeline.build.manifest would add 56 ms to every command's start-up (`--help` too)
    from pipeline.build import integrity, manifest

    root = Path(os.path.realpath(out))
    doc = manifest.read(root) if root.is_dir() else None
    if doc is None:
        raise CliError(f"{out}: no build here (no readable {manifest.NAME}); run `attack-pipeline build --out {out}` first")
    found = integrity.differences(root, doc)
    listed = len(doc.get("artifacts", []))
    if not found:
        click.echo(f"{out}: {listed} files match the manifest ({root.name})")
        return
    for d in found:
        click.echo(d.line())
    counts = {k: sum(1 for d in found if d.kind == k) for k in ("missing", "changed", "extra")}
    parts = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    raise CliError(f"{out}: {len(found)} difference(s) from the manifest of {root.name} ({parts})")
