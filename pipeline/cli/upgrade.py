"""`upgrade LAYER… --to VERSION`: carry users' own Navigator layers to another release."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import CliError, errors_as_exit, mirror_option, report_notices, sources_file_option
from pipeline.core.config import load_config

_PARTS = (
    ("carried", "carried over"),
    ("renamed", "renamed"),
    ("retagged", "re-tagged"),
    ("revoked", "revoked → replacement"),
    ("merged", "merged"),
    ("deprecated", "deprecated"),
    ("unknown", "unknown"),
)


@click.command("upgrade")
@click.argument("layers", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="LAYER…")
@click.option("--to", "target", metavar="VERSION",
              help="Target ATT&CK release, e.g. 18.1 (default: the newest listed release the mirror or the cache holds).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("upgraded"), show_default=True,
              help="Folder for the upgraded layers and their reports (NAME.json, NAME.upgrade.md, NAME.upgrade.json).")
@click.option("--domain", type=click.Choice(["enterprise", "mobile", "ics"]),
              help="Accept only layers of this domain (a layer of another is refused).")
@sources_file_option
@mirror_option
def command(layers: tuple[Path, ...], target: str | None, out: Path, domain: str | None, sources_file, mirror) -> None:
    """Upgrade Navigator layers (format 4.x, any ATT&CK release; files, folders of
    *.json, or files holding a JSON list of layers) to the target release, writing
    layer format 4.5 and a report per layer.

    Per entry: carried over, renamed, re-tagged to the tactic that took it over,
    revoked → its replacement (entries landing on one technique merged: the highest
    score), deprecated (kept disabled), unknown (left out, kept in the report). A bad
    layer is one error line and nothing is written. Exit code 1 when an entry needs a
    decision (listed in the reports)."""
    # lazy: pipeline.fetch would add 20 ms to every command's start-up (`--help` too)
    from pipeline.fetch import resolve_mirror_dir
    # lazy: pipeline.upgrade.run would add 0.48 s (networkx) to every command's start-up (`--help` too)
    from pipeline.upgrade.run import BadLayers, upgrade_layers, write

    with errors_as_exit():
        config = load_config(sources_file)
        mirror_dir = resolve_mirror_dir(mirror)
        notices: list[str] = []
        if target is None:
            # lazy: pipeline.fetch would add 20 ms to every command's start-up (`--help` too)
            from pipeline.fetch.newest import default_release

            default = default_release(config, mirror_dir)
            target = default.version
            notices += [default.notice] if default.notice else []
        try:
            results = upgrade_layers(config, mirror_dir, list(layers), target, domain=domain)
        except BadLayers as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem.one_line()}", err=True)
            raise CliError(f"{len(exc.problems)} layer(s) cannot be upgraded; nothing was written") from None
        written = write(results, out)
    report_notices(notices)  # after the work: an error stays the one line it is
    pending = 0
    for r, path in zip(results, written):
        counts = r.report["counts"]
        parts = [f"{counts[k]} {word}" for k, word in _PARTS if counts[k]]
        line = f"{r.input.label} → {path}: ATT&CK {r.report['source_release']['version']} → {target}, {', '.join(parts) or 'no entries'}"
        if r.needs_decision:
            line += f"; {r.needs_decision} to decide"
        click.echo(line)
        pending += r.needs_decision
    if pending:
        undecided = sum(1 for r in results if r.needs_decision)
        raise CliError(f"{pending} item(s) in {undecided} layer(s) need a decision: see the .upgrade.md reports in {out}")
