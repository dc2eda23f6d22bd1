"""`sources`: every input the sources file lists, with the short names commands accept."""

from __future__ import annotations

import click

from pipeline.cli.common import emit_json, errors_as_exit, sources_file_option
from pipeline.core.config import KINDS
from pipeline.core.config import load_config


def short_name(config, source) -> str:
    """The shortest alias that `config.source` resolves to this source, or '' (the id only)."""
    parts = [p for p in source.id.split("/") if p]
    candidates = sorted({*parts, source.framework or ""} - {""}, key=lambda n: (len(n), n))
    for name in candidates:
        if name == source.id:
            continue
        matches = config.aliased(name, source.kind)
        enabled = [s for s in matches if s.enabled]
        if matches == [source] or (len(matches) > 1 and enabled == [source]):
            return name
    return ""


@click.command("sources")
@sources_file_option
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only sources of this kind; repeatable.")
@click.option("--enabled", "enabled_only", is_flag=True, help="Only the enabled sources (what a build reads).")
@click.option("--json", "as_json", is_flag=True, help="Print one record per source as JSON.")
def command(sources_file: str | None, kinds: tuple[str, ...], enabled_only: bool, as_json: bool) -> None:
    """List the sources of data/sources.toml: id, kind, framework, ATT&CK release,
    whether a build reads it, and the short name that `reconcile`, `fetch` and
    `detections` accept for it (e.g. nist_800_53 for the enabled NIST table; among
    sources of one kind, a short name picks the only enabled match)."""
    with errors_as_exit():
        config = load_config(sources_file)
    chosen = [s for s in config.sources if (not kinds or s.kind in kinds) and (s.enabled or not enabled_only)]
    rows = [
        {
            "id": s.id,
            "kind": s.kind,
            "enabled": s.enabled,
            "short": short_name(config, s),
            "framework": " ".join(p for p in (s.framework, s.framework_version) if p),
            "domain": s.domain or "",
            "attack_version": s.attack_version or "",
        }
        for s in chosen
    ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no sources match")
        return
    headers = {"id": "id", "kind": "kind", "enabled": "on", "short": "short name", "framework": "framework", "attack_version": "ATT&CK"}
    cells = [{k: ("yes" if r[k] is True else "—" if r[k] is False else r[k] or "—") for k in headers} for r in rows]
    widths = {k: max(len(headers[k]), *(len(c[k]) for c in cells)) for k in headers}
    click.echo("  ".join(headers[k].ljust(widths[k]) for k in headers).rstrip())
    for c in cells:
        click.echo("  ".join(c[k].ljust(widths[k]) for k in headers).rstrip())
    click.echo(f"{len(rows)} sources ({sum(r['enabled'] for r in rows)} enabled) in {config.file}")
