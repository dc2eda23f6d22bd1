"""`stats`: counts per node and edge kind."""

from __future__ import annotations

import click

from pathlib import Path

from pipeline.cli.common import answer_options, detail, emit_json, progress, report_build_issues, source_options


@click.command("stats")
@source_options
@click.option(
    "--attack-only",
    is_flag=True,
    help="Load ATT&CK only: no mapping tables and no detection corpora (fast, for ATT&CK questions).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@answer_options
def command(ws, attack_only: bool, as_json: bool, out: Path, from_sources: bool) -> None:
    """Count what the graph holds: live and deprecated nodes per kind, edges per
    relation, and where revoked ids lead. Answers come from the last build (--out)
    when it matches, else from the sources."""
    ws.attack_only = attack_only
    data = None if attack_only or from_sources else _from_build(ws, out)
    if data is None and attack_only:
        # Counted from the records: no networkx import, no graph (pipeline.graph.counts).
        # lazy: pipeline.graph.counts imports the ATT&CK records (~30-50 ms of class creation) that every other command's start-up would pay
        from pipeline.graph.counts import attack_stats

        with progress(len(ws.domains) + 1) as step:
            releases = ws.releases(step)
            step("counting")
            data = attack_stats(releases)
    if data is None:
        # lazy: pipeline.graph.query would add 0.24 s (networkx) to every command's start-up (`--help` too)
        from pipeline.graph import query

        with progress(len(ws.domains) + 1) as step:
            g = ws.graph(step)
        data = query.stats(g)
    data["attack_version"] = ws.attack_version
    if as_json:
        emit_json(data)
        return
    releases = ", ".join(f"{d} {v}" for d, v in data["releases"].items())
    lines = [f"ATT&CK {ws.attack_version}: {releases}", "", "nodes (live, deprecated):"]
    for kind in sorted(set(data["nodes"]) | set(data["deprecated"])):
        lines.append(f"  {kind:<20} {data['nodes'].get(kind, 0):>7} {data['deprecated'].get(kind, 0):>7}")
    lines += ["", "edges:"]
    lines += [f"  {rel:<20} {n:>7}" for rel, n in data["edges"].items()]
    lines += ["", "revoked ids lead to:"]
    lines += [f"  {status:<20} {n:>7}" for status, n in data["revoked"].items()]
    lines += ["", f"total: {data['total_nodes']} nodes, {data['total_edges']} edges"]
    click.echo("\n".join(lines))


def _from_build(ws, out: Path) -> dict | None:
    # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
    from pipeline.build import answers_of_build

    store = answers_of_build(ws, out)
    if store is None:
        return None
    try:
        detail(f"answering from the build in {out}")
        report_build_issues(ws, int(store.meta.get("warnings", 0)), out)
        return dict(store.meta["stats"])
    finally:
        store.close()
