"""`fetch`: resolve every source (mirror → cache → URL) and check it against the lock."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from pipeline.cli.common import CliError, emit_json, errors_as_exit, mirror_option, progress, report_notices, settings_applied, sources_file_option
from pipeline.core.config import load_config
from pipeline.core.config import version_key
from pipeline.core.errors import ConfigError
from pipeline.core.errors import PipelineError


def _base_url(_ctx, _param, value: str | None) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://")
    return value.rstrip("/") if value else value


@click.command("fetch")
@click.argument("source_ids", nargs=-1, metavar="[SOURCE_ID]...")
@sources_file_option
@mirror_option
@click.option(
    "--cache",
    "cache_option",
    type=click.Path(file_okay=False),
    help="Download cache (else ATTACK_PIPELINE_CACHE, the project file, the user config; default: cache/ beside the sources file).",
)
@click.option("--all", "include_disabled", is_flag=True, help="Also the sources with enabled = false.")
@click.option(
    "--attack-version",
    "attack_versions",
    metavar="V",
    multiple=True,
    help="The ATT&CK release V of every domain that lists it (e.g. 19.1); repeatable.",
)
@click.option("--update", is_flag=True, help="Re-resolve from the origin (downloads bypass the cache) and re-pin the lock.")
@click.option("--locked", is_flag=True, help="Never write the lock; a source it does not pin is an error (for CI).")
@click.option("--offline", is_flag=True, help="Use the mirror and the cache only; never the network.")
@click.option(
    "--base-url",
    metavar="URL",
    callback=_base_url,
    help="Download from URL/<mirror path> (a served mirror) instead of the canonical URLs "
    "(default: base_url in [settings] of the sources file).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.001),
    default=None,
    help="Seconds without data before an attempt fails (default: http_timeout in [settings], or ATTACK_PIPELINE_HTTP_TIMEOUT, else 60).",
)
@click.option("--retries", type=click.IntRange(0, 20), default=3, show_default=True, help="Retries of a failed download (exponential backoff).")
@click.option("--json", "as_json", is_flag=True, help="Print one record per source as JSON.")
def command(
    source_ids: tuple[str, ...],
    sources_file: str | None,
    mirror: str | None,
    cache_option: str | None,
    include_disabled: bool,
    attack_versions: tuple[str, ...],
    update: bool,
    locked: bool,
    offline: bool,
    base_url: str | None,
    timeout: float | None,
    retries: int,
    as_json: bool,
) -> None:
    """Resolve sources from the offline mirror, the cache or their URL, and report
    where each came from.

    Every copy is hashed (sha256; a tree hash for a folder) and compared with
    data/sources.lock; a source resolved for the first time from an origin is
    pinned there. Default: every enabled source and every ATT&CK release; name
    SOURCE_IDs or --attack-version V to fetch only those. Offline, a listed release
    newer than any at hand is named in a note, not an error.
    """
    if update and locked:
        raise click.UsageError("--update and --locked exclude each other")
    # lazy: pipeline.fetch would add 20 ms to every command's start-up (`--help` too)
    from pipeline.fetch import Resolver, resolve_mirror_dir
    # lazy: pipeline.fetch.cache would add 20 ms to every command's start-up (`--help` too)
    from pipeline.fetch.cache import cache_dir
    # lazy: pipeline.fetch.http would add 58 ms (ssl) to every command's start-up (`--help` too)
    from pipeline.fetch.http import Downloader

    warnings: list[str] = []
    with errors_as_exit():
        config = load_config(sources_file)
        chosen = _select(config, source_ids, include_disabled, attack_versions)
        with settings_applied({"mirror": mirror, "cache": cache_option}, config) as chosen_settings:
            mirror_dir = resolve_mirror_dir(chosen_settings.get("mirror"))
            cache = cache_dir(chosen_settings.get("cache"), config.file)
        resolver = Resolver.for_config(
            config,
            mirror_dir,
            cache=cache,
            allow_network=not offline,
            base_url=base_url if base_url is not None else config.base_url,
            downloader=Downloader(timeout=timeout if timeout is not None else config.limits.http_timeout, retries=retries),
            update=update,
            may_pin=not locked,
            warn=warnings.append,
        )
        resolver.lock  # a damaged lock is one error before any work, not one per source
        notes: list[str] = []
        if not source_ids and not attack_versions and not resolver.allow_network:
            chosen, notes = _waiting_releases(config, resolver, chosen)
        report_notices(notes)
        results, errors = [], []
        try:
            with resolver, progress(len(chosen)) as step:
                for source in chosen:
                    step(f"fetching {source.id}")
                    try:
                        results.append(resolver.fetch(source))
                    except PipelineError as exc:
                        errors.append((source.id, exc.one_line()))
        finally:
            written = False if locked else resolver.save_lock()
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    lock_file = str(resolver.lock_file)
    if as_json:
        emit_json(
            {
                "sources": [r.as_json() for r in results],
                "errors": [{"id": sid, "error": msg} for sid, msg in errors],
                "lock": {"file": lock_file, "written": written},
            }
        )
    else:
        click.echo(_table(results))
        click.echo(_summary(results, lock_file, written))
    for _sid, msg in errors:
        click.echo(f"error: {msg}", err=True)
    if errors:
        raise CliError(f"{len(errors)} of {len(chosen)} sources could not be fetched")


def _select(config, source_ids: tuple[str, ...], include_disabled: bool, attack_versions: tuple[str, ...] = ()) -> list:
    if source_ids or attack_versions:
        chosen = [config.source(sid) for sid in dict.fromkeys(source_ids)]
        for version in dict.fromkeys(attack_versions):
            releases = [s for s in config.attack_releases() if s.attack_version == version]
            if not releases:
                listed = sorted({s.attack_version or "" for s in config.attack_releases()}, key=version_key)
                raise ConfigError(f"no ATT&CK release {version} in the sources (listed: {', '.join(listed)})", file=config.file)
            chosen += [s for s in releases if s not in chosen]
        return chosen
    return [s for s in config.sources if include_disabled or s.enabled or s.kind == "attack"]


def _waiting_releases(config, resolver, chosen: list) -> tuple[list, list[str]]:
    """Offline: ATT&CK releases newer than every one at hand cannot be fetched yet, and
    that is not a failure (the default target is the newest one at hand); one note each."""
    # lazy: pipeline.fetch would add 20 ms to every command's start-up (`--help` too)
    from pipeline.fetch.newest import default_release

    newest = {d: default_release(config, resolver.mirror, d).version for d in {s.domain for s in chosen if s.kind == "attack"}}
    kept, waiting = [], {}
    for s in chosen:
        if (
            s.kind == "attack"
            and version_key(s.attack_version or "0.0") > version_key(newest[s.domain])
            and resolver.available(s) is None
        ):
            waiting.setdefault(s.attack_version, []).append(s.domain)
            continue
        kept.append(s)
    notes = [
        f"ATT&CK {v} ({', '.join(ds)}) is listed but not available offline; skipped "
        f"(run `attack-pipeline fetch --attack-version {v}` with the network to get it)"
        for v, ds in sorted(waiting.items(), key=lambda kv: version_key(kv[0]))
    ]
    return kept, notes


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _table(results: list) -> str:
    if not results:
        return "no sources fetched"
    width = max(len("source"), *(len(r.source.id) for r in results))
    head = f"{'source':<{width}}  {'from':<8}  {'lock':<8}  {'size':>9}  {'official':<8}  digest"
    lines = [head]
    for r in results:
        d = r.digest
        digest = f"tree {d.sha256[:16]} ({d.files} files)" if d.is_tree else d.sha256[:16]
        lines.append(
            f"{r.source.id:<{width}}  {r.origin:<8}  {r.lock:<8}  {_size(d.size):>9}  {r.official or '-':<8}  {digest}"
        )
    return "\n".join(lines)


def _summary(results: list, lock_file: str, written: bool) -> str:
    origins = Counter(r.origin for r in results)
    states = Counter(r.lock for r in results)
    where = ", ".join(f"{n} {o}" for o, n in sorted(origins.items()))
    lock = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    action = "written" if written else "unchanged"
    return f"\n{len(results)} sources ({where or 'none'}); lock: {lock or 'nothing checked'}; {Path(lock_file)} {action}"
