"""`attack-pipeline`: one command per verb, each in its own module."""

from __future__ import annotations

import click

from pipeline import __version__
from pipeline.cli import (
    build,
    config,
    detections,
    diff,
    excel,
    fetch,
    init,
    layer,
    reconcile,
    show,
    site,
    sources,
    stats,
    upgrade,
    verify,
)
from pipeline.cli.common import add_verbosity, verbosity_params


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    params=verbosity_params(),
)
@click.version_option(__version__, prog_name="attack-pipeline")
def cli() -> None:
    """Build a technique–control–detection graph from MITRE ATT&CK, control mapping
    tables and detection content, and render Navigator layers, STIX bundles, pages
    and tables from it.

    \b
    First steps:
      attack-pipeline init --mirror DIR   remember where the offline mirror is
      attack-pipeline build               every artifact into outputs/
      attack-pipeline show T1046          one technique (or a control, group, detection)
      attack-pipeline site && attack-pipeline serve   browse the docs site

    Exit codes: 0 success, 1 bad input or failed check, 2 usage error.
    """


for module in (init, config, sources, fetch, stats, show, build, verify, reconcile, detections, diff, layer, excel, site, upgrade):
    cli.add_command(module.command)
cli.add_command(site.serve_command)


def main() -> None:
    for command in cli.commands.values():
        add_verbosity(command)
    cli(prog_name="attack-pipeline")


# Every command registered above (and any added later through cli.add_command before
# this line runs) takes -q/--quiet and -v/--verbose.
for _command in cli.commands.values():
    add_verbosity(_command)
