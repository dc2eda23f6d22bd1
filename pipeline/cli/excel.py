"""`excel`: an ATT&CK release as Excel workbooks (what attackToExcel writes, in seconds)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import CliError, progress, source_options
from pipeline.core.errors import Issue


@click.command("excel")
@source_options
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into; each domain gets a folder <domain>-attack-v<version>/.",
)
@click.option(
    "--per-type/--no-per-type",
    default=True,
    show_default=True,
    help="Also write one workbook per object type beside the release workbook.",
)
def command(ws, out_dir: Path, per_type: bool) -> None:
    """Write each domain of the ATT&CK release as Excel workbooks: techniques, tactics,
    software, groups, campaigns, mitigations, assets, data sources or components,
    detection strategies and analytics, the matrix, relationships and citations.

    The same sheets and columns as mitreattack-python's attackToExcel, one release
    workbook per domain plus one per object type; identical inputs give identical
    files, and source text is never written as a formula.
    """
    # lazy: pipeline.excel.workbook would add 17 ms to every command's start-up (`--help` too)
    from pipeline.excel.workbook import write_release

    written = []
    with progress(len(ws.domains) * 14) as step:
        for release in ws.releases(step):
            try:
                reports = write_release(release, out_dir, per_type=per_type, progress=step)
            except OSError as exc:
                raise CliError(f"{exc.filename or out_dir}: cannot write: {exc.strerror or exc}") from None
            for report in reports:
                if report.truncated_cells:
                    ws.issues.append(
                        Issue(
                            code="cell-truncated",
                            problem=f"{report.truncated_cells} cell(s) longer than Excel's 32,767 characters were cut",
                            file=str(report.path),
                        )
                    )
            written.append((release, reports))
    for release, reports in written:
        main = reports[0]
        click.echo(f"{release.domain} {release.version}: {len(reports)} workbook(s), {main.rows} rows in {main.path}")
