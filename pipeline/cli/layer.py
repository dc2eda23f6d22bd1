"""`layer`: one Navigator layer from a query, for users who want their own view."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from pipeline.cli.common import CliError, detail, errors_as_exit, progress, report_build_issues, source_options

CATEGORIES = ("protect", "detect", "respond", "mitigate", "exploit", "impact", "related")


@click.command("layer")
@source_options
@click.option("--framework", "frameworks", multiple=True, metavar="F",
              help="Framework id or layer folder (nist_800_53, azure, kev…) or 'all'; repeatable.")
@click.option("--family", "families", multiple=True, metavar="FAM",
              help="Control family or capability group of the chosen frameworks, by id or name (AC, entra-id); repeatable.")
@click.option("--category", "categories", multiple=True, type=click.Choice(CATEGORIES, case_sensitive=False),
              help="Score category or mapping kind; repeatable.")
@click.option("--min-value", type=click.Choice(("minimal", "partial", "significant"), case_sensitive=False),
              help="Keep scored mappings of at least this value (unscored mappings are left out).")
@click.option("--platform", "platforms", multiple=True, metavar="P",
              help="Only techniques on this platform (Windows, Linux, IaaS…); repeatable; sets the layer's platform filter.")
@click.option("--detections", "detection_sources", multiple=True, metavar="S",
              help="Detection source (sigma, elastic, splunk, cards, m365-hunting-queries) or 'all'; repeatable.")
@click.option("--style", type=click.Choice(("count", "value", "category")), default="count", show_default=True,
              help="count: score = number of controls and detections; value: colour by the best score value; "
              "category: colour by category, mixed marked.")
@click.option("--name", default="", help="Layer name (default: made from the query).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Layer file to write.")
@click.option("--build", "build_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs"), show_default=True,
              help="Answer from the graph of the build in this folder when it was made from the same sources, release and code.")
@click.option("--from-sources", is_flag=True, help="Read the sources and build the graph even when a build could answer.")
def command(ws, frameworks, families, categories, min_value, platforms, detection_sources, style, name, out: Path,
            build_dir: Path, from_sources: bool) -> None:
    """Write one ATT&CK Navigator layer (format 4.5) of the controls and detections a
    query selects, e.g. Azure Protect scores of at least Partial on Windows:

    \b
        attack-pipeline layer --framework azure --category protect \\
            --min-value partial --platform Windows --style value --out azure-protect.json

    The layer covers one domain: --domain once (default enterprise). The graph comes
    from the last build (--build) when it matches, else from the sources."""
    # lazy: pipeline.core.atomic would add 6 ms (tempfile, shutil) to every command's start-up (`--help` too)
    from pipeline.core.atomic import check_writable, write_atomic
    # lazy: pipeline.render.navigator.query would add 0.28 s (networkx) to every command's start-up (`--help` too)
    from pipeline.render.navigator.query import LayerQuery, query_layer
    # lazy: pipeline.render.navigator.validate would add 0.27 s (networkx) to every command's start-up (`--help` too)
    from pipeline.render.navigator.validate import problems

    if not frameworks and not detection_sources:
        raise click.UsageError("nothing selected: give --framework (or 'all') and/or --detections (or 'all')")
    with errors_as_exit():
        check_writable(out, folder=False)  # before seconds of loading
    given = click.get_current_context().params.get("domains") or ()
    if len(given) > 1:
        raise click.UsageError("a layer covers one domain: give --domain once")
    domain = ws.domains[0] if len(ws.domains) == 1 else "enterprise"
    if domain not in ws.domains:
        raise CliError(f"no {domain} release {ws.attack_version} in the sources")
    q = LayerQuery(
        domain=domain,
        frameworks=frameworks,
        families=families,
        categories=tuple(c.lower() for c in categories),
        min_value=(min_value or "").lower(),
        platforms=platforms,
        detections=detection_sources,
        style=style,
        name=name,
    )
    with errors_as_exit():
        g = None if from_sources else _graph_of_build(ws, build_dir, domain)
        if g is None:
            if not from_sources:
                detail(f"no build in {build_dir} made from these sources: reading them (attack-pipeline build makes layers fast)")
            ws.domains = (domain,)  # read only the layer's domain
            with progress(ws.graph_steps() + 1) as step:
                g = ws.graph(step)
                step("making the layer")
                layer = query_layer(g, q, ws.config.site_url)
        else:
            layer = query_layer(g, q, ws.config.site_url)
        data = layer.to_dict(g)
        found = problems(data, g)
        if found:
            raise CliError(f"{out}: the layer would not import cleanly: {found[0]}")
        try:
            write_atomic(out, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            raise CliError(f"{out}: cannot write the layer: {exc.strerror or exc}") from None
    scored = sum(1 for m in layer.marks if m.score is not None or m.color)
    if not scored:
        click.echo("warning: the query matched no technique; the layer is empty", err=True)
    click.echo(f"wrote {out}: {scored} techniques of {domain} ATT&CK {ws.attack_version}")


def _graph_of_build(ws, build_dir: Path, domain: str):
    """The last build's whole graph when it was made from these sources (its warnings
    summarised as `show` does), else None."""
    # lazy: pipeline.build would add 72 ms to every command's start-up (`--help` too)
    from pipeline.build import graph_of_build

    found = graph_of_build(ws, build_dir, domain)
    if found is None:
        return None
    g, store = found
    try:
        detail(f"answering from the build in {build_dir}")
        report_build_issues(ws, int(store.meta.get("warnings", 0)), build_dir)
    finally:
        store.close()
    return g
