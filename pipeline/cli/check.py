"""`check`: the CI gate on an organisation profile.

Reads the profile's results from a build (`--out`, default `outputs/`) when that build
scored this very profile (same digest: the profile file and everything it imports) and
the target release; otherwise scores it on the graph now. Exit code 1 on a coverage
regression against `--baseline`, an uncovered technique in the top N, or a deployed rule
or mapped control on a revoked or unknown id.
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from pipeline.cli.common import CliError, emit_json, errors_as_exit, report_issues, source_options
from pipeline import __version__
from pipeline.profile import results


def _read_results(path: Path) -> dict | None:
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CliError(f"{path}: not a results file of a build ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("techniques"), dict) or not isinstance(data.get("profile"), dict):
        raise CliError(f"{path}: not a results file of a build")
    return data


def _results_in(build: Path, slug: str) -> Path:
    return build / "profiles" / slug / "results.json" if build.is_dir() else build


@click.command("check")
@source_options
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("outputs"), show_default=True, help="Build whose results are used when it scored this profile.")
@click.option("--baseline", type=click.Path(path_type=Path), help="Previous build (or its profiles/<id>/results.json) to compare coverage with.")
@click.option("--top", "top_n", type=click.IntRange(1, 1000), help="Gate on the top N priorities (default: the profile's top_n).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write the verdict as JUnit XML.")
@click.option("--sarif", type=click.Path(dir_okay=False, path_type=Path), help="Write the verdict as SARIF 2.1.0.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON instead of the summary.")
def command(ws, profile: Path, out: Path, baseline: Path | None, top_n: int | None, junit: Path | None, sarif: Path | None, as_json: bool) -> None:
    """Check PROFILE: exit 1 on a coverage regression against --baseline, an uncovered
    technique among the top priorities, or a deployed rule or control on a stale id."""
    # lazy: pipeline.core.atomic would add 6 ms (tempfile, shutil) to every command's start-up (`--help` too)
    from pipeline.core.atomic import write_atomic
    # lazy: pipeline.ingest.profiles.toml_profile would add 57 ms to every command's start-up (`--help` too)
    from pipeline.ingest.profiles.toml_profile import load_profile
    # lazy: pipeline.profile.check would add 62 ms (ssl) to every command's start-up (`--help` too)
    from pipeline.profile.check import evaluate, junit_xml, sarif as sarif_doc, summary_lines

    with errors_as_exit():
        found, issues = load_profile(profile, limits=ws.config.limits)
    report_issues(issues, False)
    res = _read_results(_results_in(out, found.slug)) if out.exists() else None
    if res is not None and (res["profile"].get("digest") != found.digest or res.get("attack_version") != ws.attack_version):
        res = None
    if res is None:
        # lazy: pipeline.profile.threat would add 0.23 s (networkx) to every command's start-up (`--help` too)
        from pipeline.profile.threat import load_threat

        with errors_as_exit():
            res = results(ws.graph(), found, load_threat(ws))
    base = None
    if baseline is not None:
        base = _read_results(_results_in(baseline, found.slug))
        if base is None:
            raise CliError(f"{_results_in(baseline, found.slug)}: no results of profile {found.slug!r} in the baseline")
    verdict = evaluate(res, base, top_n)
    if junit is not None:
        write_atomic(junit, junit_xml(verdict).encode("utf-8"))
    if sarif is not None:
        text = profile.read_text(encoding="utf-8", errors="replace")
        write_atomic(sarif, orjson.dumps(sarif_doc(verdict, text, profile.as_posix(), __version__), option=orjson.OPT_INDENT_2) + b"\n")
    if as_json:
        emit_json(
            {
                "profile": verdict.profile,
                "ok": verdict.ok,
                "attack_version": verdict.attack_version,
                "top_n": verdict.top_n,
                "checked": verdict.checked,
                "failures": [{"check": f.check, "subject": f.subject, "message": f.message} for f in verdict.failures],
            }
        )
    else:
        for line in summary_lines(verdict):
            click.echo(line)
    if not verdict.ok:
        raise CliError(f"check failed: {len(verdict.failures)} failure(s)")
