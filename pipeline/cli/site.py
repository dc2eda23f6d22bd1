"""`site` and `serve`: the build's pages as a static website, and a local preview of it."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli.common import CliError, errors_as_exit, info, progress, settings_applied
from pipeline.core.config import load_config
from pipeline.core.errors import PipelineError

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
    help="ATT&CK Navigator that the \"Open in ATT&CK Navigator\" links open (your own instance on a closed network); default: navigator_url of the settings, else the public Navigator.",
)


def _url(option: str, value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise CliError(f"{option} must start with http:// or https://")
    return value


def _site_url(value: str | None, key: str = "site_url") -> str:
    """--site-url, else the settings (environment, project file, sources file, user config)."""
    if value is not None:
        return _url(f"--{key.replace('_', '-')}", value)

    try:
        config = load_config(None)
    except PipelineError:
        config = None
    with errors_as_exit(), settings_applied({}, config) as chosen:
        return chosen.get(key) or ""


def _make(out: Path, site_dir: Path, site_url: str | None, navigator_url: str | None, fresh: bool = False):
    # lazy: pipeline.build.tree would add 55 ms to every command's start-up (`--help` too)
    from pipeline.build import tree
    # lazy: pipeline.build.paths would add 62 ms to every command's start-up (`--help` too)
    from pipeline.build.paths import check_output, check_site_dir
    # lazy: pipeline.site.make would add 81 ms to every command's start-up (`--help` too)
    from pipeline.site.make import make_site

    url = _site_url(site_url)
    navigator_url = _site_url(navigator_url, "navigator_url")
    with errors_as_exit():
        check_site_dir(out, site_dir)
        tree.check_replaceable(Path(os.path.abspath(site_dir)))
        check_output(site_dir, what="site folder")
    with errors_as_exit(), progress(1) as step:
        step("building the site")
        try:
            shown = lambda phase, done, total: step.within(done, total, phase)  # noqa: E731
            return make_site(out, site_dir, url, shown, navigator_url=navigator_url, fresh=fresh)
        except OSError as exc:  # a full disk: the file named may be a theme file being copied, so name the site
            raise CliError(f"{site_dir}: writing the site failed: {exc.strerror or exc}; the previous site is kept") from None


@click.command("site")
@out_option
@site_dir_option
@site_url_option
@navigator_url_option
@click.option("--fresh", is_flag=True, help="Convert and write every page again, whatever the page cache beside the site holds.")
def command(out: Path, site_dir: Path, site_url: str | None, navigator_url: str | None, fresh: bool) -> None:
    """Build the static docs site (mkdocs-material) from the pages of an existing
    build, with its layers, STIX bundles, tables and reports downloadable. Offline:
    no fonts or scripts from elsewhere. Any mkdocs warning (a broken link) fails it.
    Pages that come out as the last site build made them are taken from its page
    cache (.SITE-DIR.cache beside the site)."""
    r = _make(out, site_dir, site_url, navigator_url, fresh)
    rate = r.pages / r.seconds if r.seconds else 0.0
    info(f"built the site of {r.pages} pages in {site_dir} ({r.folder.name}) in {r.seconds:.1f} s ({rate:.0f} pages/s)")
    if r.converted >= 0:
        info(f"  pages made: {r.converted} converted, {r.written} written; the others from the page cache")
    size = r.search_index_bytes
    shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
    info(f"  search index: {shown} (search/search_index.json)")
    info(f"next: attack-pipeline serve{'' if site_dir == Path('site') else f' --site-dir {site_dir}'}   (preview on http://127.0.0.1:8000/; publish: copy {site_dir}/ to any static web server)")


@click.command("serve")
@out_option
@site_dir_option
@site_url_option
@navigator_url_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
def serve_command(out: Path, site_dir: Path, site_url: str | None, navigator_url: str | None, port: int) -> None:
    """Preview the docs site on http://127.0.0.1:PORT/ (built first if missing)."""
    # lazy: pipeline.site.serve would add 60 ms (ssl) to every command's start-up (`--help` too)
    from pipeline.site.serve import server

    if not (site_dir / "index.html").is_file():
        info(f"no site in {site_dir}: building it from {out}", err=True)
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
