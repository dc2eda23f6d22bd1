"""`attack-pipeline`: one command per verb, each in its own module."""

from __future__ import annotations

import click

from pipeline import __version__
from pipeline.cli import build, detections, diff, excel, fetch, layer, reconcile, show, site, stats, upgrade


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="attack-pipeline")
def cli() -> None:
    """Build a technique–control–detection graph from MITRE ATT&CK, control mapping
    tables and detection content, and render Navigator layers, STIX bundles, pages
    and tables from it.

    Sources are listed in data/sources.toml and read from an offline mirror
    (--mirror DIR or ATTACK_PIPELINE_MIRROR). Exit codes: 0 success, 1 bad input or
    failed check, 2 usage error.
    """


for module in (fetch, stats, show, build, reconcile, detections, diff, layer, excel, site, upgrade):
    cli.add_command(module.command)
cli.add_command(site.serve_command)


def main() -> None:
    cli(prog_name="attack-pipeline")
