"""`config`: every setting, its value and the level that gave it."""

from __future__ import annotations

import click

from pipeline.cli.common import emit_json, errors_as_exit, sources_file_option
from pipeline.core import settings
from pipeline.core.config import load_config
from pipeline.core.errors import PipelineError


@click.command("config")
@sources_file_option
@click.option("--mirror", help="As for other commands: shows what this flag would do.")
@click.option("--cache", help="As for other commands.")
@click.option("--site-url", metavar="URL", help="As for other commands.")
@click.option("--navigator-url", metavar="URL", help="As for other commands.")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
def command(sources_file, mirror, cache, site_url, navigator_url, as_json: bool) -> None:
    """Show the settings every command uses and where each comes from. The first
    level that gives a value wins: flag > environment (ATTACK_PIPELINE_*) > project
    file (./attack-pipeline.toml) > user config (written by `attack-pipeline init`).
    site_url is also read from [settings] of the sources file, after the project file."""
    flags = {"mirror": mirror, "cache": cache, "site_url": site_url, "navigator_url": navigator_url}
    with errors_as_exit():
        try:
            config = load_config(sources_file)
            sources = (config.site_url, config.file)
        except PipelineError:
            config, sources = None, None
        chosen = settings.resolve(flags, sources_site_url=sources)
    if as_json:
        emit_json(
            {
                "settings": {k: {"value": v.value, "origin": v.origin} for k, v in chosen.values.items()},
                "user_config": str(chosen.user_file),
                "project_file": str(chosen.project_file),
                "sources_file": config.file if config else None,
            }
        )
        return
    width = max(len(k) for k in chosen.values)
    for name, v in chosen.values.items():
        click.echo(f"{name:<{width}}  {v.value or '—'}  ({v.origin})")
    click.echo("")
    click.echo("precedence: flag > environment > project file > user config")
    click.echo(f"user config:  {chosen.user_file}{'' if chosen.user_file.is_file() else ' (none; attack-pipeline init writes it)'}")
    click.echo(f"project file: {chosen.project_file}{'' if chosen.project_file.is_file() else ' (none)'}")
    if config is not None:
        click.echo(f"sources file: {config.file}")
