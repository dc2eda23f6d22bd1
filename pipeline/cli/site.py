"""`site` and `serve`: the build's pages as a static website, and a local preview of it."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

import click

from pipeline.cli.common import CliError, errors_as_exit

out_option = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("outputs"),
    show_default=True,
    help="Output directory of an existing build (its docs/ become the site).",
)
site_dir_option = click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site"),
    show_default=True,
    help="Where the site goes; replaced whole only when the site build succeeds.",
)
site_url_option = click.option(
    "--site-url",
    metavar="URL",
    help="Address the site is published at (sitemap, canonical and Navigator links); default: site_url of the sources file.",
)
navigator_url_option = click.option(
    "--navigator-url",
    metavar="URL",
    default="https://mitre-attack.github.io/attack-navigator/",
    show_default=True,
    help="ATT&CK Navigator that the \"Open in ATT&CK Navigator\" links open (your own instance on a closed network).",
)


def _url(option: str, value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise CliError(f"{option} must start with http:// or https://")
    return value


def _site_url(value: str | None) -> str:
    if value is not None:
        return _url("--site-url", value)
    from pipeline.config import load_config
    from pipeline.errors import PipelineError

    try:
        return load_config(None).site_url
    except PipelineError:
        return ""


def _make(out: Path, site_dir: Path, site_url: str | None, navigator_url: str):
    from pipeline.site.make import make_site

    navigator_url = _url("--navigator-url", navigator_url)
    with errors_as_exit(), _progress() as report:
        return make_site(out, site_dir, _site_url(site_url), navigator_url, progress=report)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar of the pages read and written on stderr when it is a terminal (mkdocs is
    otherwise silent for a minute); nothing in logs, CI and pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        tasks: dict[str, int] = {}
        labels = {"read": "pages converted", "write": "pages written"}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            if done % 50 == 0 or done == total:
                bar.update(tasks[phase], completed=done)

        yield report


@click.command("site")
@out_option
@site_dir_option
@site_url_option
@navigator_url_option
def command(out: Path, site_dir: Path, site_url: str | None, navigator_url: str) -> None:
    """Build the static docs site (mkdocs-material) from the pages of an existing
    build, with its layers, STIX bundles, tables and reports downloadable. Offline:
    no fonts or scripts from elsewhere. Any mkdocs warning (a broken link) fails it."""
    r = _make(out, site_dir, site_url, navigator_url)
    rate = r.pages / r.seconds if r.seconds else 0.0
    click.echo(f"built the site of {r.pages} pages in {site_dir} ({r.folder.name}) in {r.seconds:.1f} s ({rate:.0f} pages/s)")
    size = r.search_index_bytes
    shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
    click.echo(f"  search index: {shown} (search/search_index.json)")


@click.command("serve")
@out_option
@site_dir_option
@site_url_option
@navigator_url_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
def serve_command(out: Path, site_dir: Path, site_url: str | None, navigator_url: str, port: int) -> None:
    """Preview the docs site on http://127.0.0.1:PORT/ (built first if missing)."""
    from pipeline.site.serve import server

    if not (site_dir / "index.html").is_file():
        click.echo(f"no site in {site_dir}: building it from {out}", err=True)
        _make(out, site_dir, site_url, navigator_url)
    try:
        httpd = server(site_dir, port)
    except OSError as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    host, bound = httpd.server_address[:2]
    click.echo(f"serving {site_dir} at http://{host}:{bound}/ (Ctrl-C stops)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
