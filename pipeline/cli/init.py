"""`init`: write the user config, so the mirror, cache and URLs stick across runs."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import CliError, errors_as_exit, info
from pipeline.core import settings


@click.command("init")
@click.option("--mirror", type=click.Path(file_okay=False, path_type=Path), help="Offline mirror directory (must exist).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), help="Cache directory.")
@click.option("--site-url", metavar="URL", help="Address the docs site is published at.")
@click.option("--navigator-url", metavar="URL", help="ATT&CK Navigator that opens the layers (an internal copy, say).")
@click.option("--force", is_flag=True, help="Replace an existing user config (default: keep its other values).")
def command(mirror: Path | None, cache: Path | None, site_url: str | None, navigator_url: str | None, force: bool) -> None:
    """Write the user config (config.toml in the platform's config directory:
    $XDG_CONFIG_HOME/attack-pipeline or ~/.config/attack-pipeline on Linux), read by
    every command. Values given here are merged into an existing file. Flags, the
    environment and ./attack-pipeline.toml still win over it: see `attack-pipeline config`."""
    # lazy: pipeline.core.atomic would add 6 ms (tempfile, shutil) to every command's start-up (`--help` too)
    from pipeline.core.atomic import write_atomic

    given = {
        "mirror": str(mirror.expanduser().resolve()) if mirror else None,
        "cache": str(cache.expanduser().resolve()) if cache else None,
        "site_url": site_url,
        "navigator_url": navigator_url,
    }
    if mirror is not None and not mirror.expanduser().is_dir():
        raise CliError(f"--mirror {mirror}: no such directory")
    with errors_as_exit():
        target = settings.user_config_file()
        values = {} if force else settings.read_file(target)
        for name, value in given.items():
            if value is not None:
                values[name] = settings.check(name, value, settings.BY_NAME[name].flag)
        if not values:
            raise CliError("nothing to write: give --mirror, --cache, --site-url or --navigator-url")
        try:
            write_atomic(target, settings.dump(values).encode("utf-8"))
        except OSError as exc:
            raise CliError(f"{target}: cannot write the user config: {exc.strerror or exc}") from None
    info(f"wrote {target}")
    for name in settings.BY_NAME:
        if values.get(name):
            info(f"  {name} = {values[name]}")
    info("next: attack-pipeline build   (attack-pipeline config shows every setting and where it comes from)")
