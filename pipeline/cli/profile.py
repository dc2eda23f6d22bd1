"""`profile`: organisation profiles — a commented starter, and DeTT&CT files in and out."""

from __future__ import annotations

from pathlib import Path
import os
import tomllib

import click

from pipeline.cli.common import CliError, errors_as_exit, report_issues
from pipeline.core.limits import from_environment

STARTER = '''# An organisation profile for attack-pipeline (docs/profiles.md).
# `attack-pipeline build --profile THIS_FILE` writes its results to outputs/profiles/<id>/;
# `attack-pipeline check THIS_FILE --baseline PREVIOUS_BUILD` is the CI gate.
# Paths are relative to this file's folder.

[profile]
name = "{name}"
# id = "{slug}"                   # file and page names (default: from the name)
# description = ""
domain = "enterprise"             # enterprise, mobile or ics
platforms = ["Windows", "Linux"]  # ATT&CK platforms of the estate (empty: all)
top_n = 20                        # length of the "fix first" list that `check` gates on

# How much each part weighs in a technique's priority (numbers >= 0).
[weights]
threat = 3.0          # share of the profile's adversaries (weighted) that use the technique
prevalence = 1.0      # CTID Top ATT&CK Techniques: how often it is seen
choke_point = 1.0     # CTID: how many techniques lead through it
actionability = 1.0   # controls and rules that exist for it but are not deployed
resolved_group = 1.0  # weight of each group found through threat.sectors / threat.countries

# Deployed controls and capabilities, per framework id of the build (nist_800_53,
# azure, aws, gcp, m365, cri_profile, csa_ccm, ...): implemented / partial / planned.
[controls.nist_800_53]
version = "rev5"
implemented = ["AC-2", "SI-4"]
partial = ["AC-4"]
planned = ["SC-7"]

# Detection rules running in production: by corpus (sigma, elastic, splunk, ...) and
# ids or path globs, or `all = true`; or a Kibana export of enabled rules; or a folder
# of the team's own Sigma rules.
[[detections]]
source = "sigma"
paths = ["rules/windows/process_creation/*"]
# ids = ["5f6a601c-2ecb-498b-9c33-660362323afa"]

# [[detections]]
# elastic_export = "siem/enabled-rules.ndjson"

# [[detections]]
# sigma_folder = "our-sigma-rules"

# Data collected: ATT&CK data components (ids or names), and/or DeTT&CT files.
[data]
components = ["Process Creation", "Command Execution", "Network Connection Creation"]
# log_sources = ["WinEventLog:Security", "auditd:SYSCALL"]   # log source names of ATT&CK's analytics
# dettect_data_sources = "dettect/data-sources.yaml"
# dettect_techniques = "dettect/techniques-administration.yaml"

# Who attacks the organisation: ATT&CK groups, campaigns and software (ids or names), and
# target sectors and victim countries resolved through the MISP galaxy to ATT&CK groups.
[threat]
groups = ["G0006"]
# campaigns = ["C0024"]
# software = ["S0002"]
sectors = []
countries = []
# dettect_groups = "dettect/groups.yaml"

# [threat.weights]
# G0006 = 2.0
'''


@click.group("profile")
def command() -> None:
    """Organisation profiles: what is deployed, collected and feared (docs/profiles.md)."""


@command.command("init")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default=Path("profiles/profile.toml"))
@click.option("--name", default="Example organisation", show_default=True, help="The organisation's name.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def init(file: Path, name: str, force: bool) -> None:
    """Write a commented starter profile to FILE (default profiles/profile.toml)."""
    # lazy: pipeline.core.atomic would add 6 ms (tempfile, shutil) to every command's start-up (`--help` too)
    from pipeline.core.atomic import write_atomic
    # lazy: pipeline.ingest.profiles.toml_profile would add 57 ms to every command's start-up (`--help` too)
    from pipeline.ingest.profiles.toml_profile import _slug

    if file.exists() and not force:
        raise CliError(f"{file}: exists; use --force to replace it")
    if '"' in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise CliError("--name: quotes, backslashes and control characters cannot be written into the profile")
    file.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(file, STARTER.format(name=name, slug=_slug(name)).encode("utf-8"))
    click.echo(f"wrote {file}")


@command.command("import-dettect")
@click.option("--techniques", type=click.Path(dir_okay=False, path_type=Path), help="DeTT&CT technique administration file.")
@click.option("--data-sources", type=click.Path(dir_okay=False, path_type=Path), help="DeTT&CT data source administration file.")
@click.option("--groups", type=click.Path(dir_okay=False, path_type=Path), help="DeTT&CT group administration file.")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Profile file to write.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def import_dettect(techniques, data_sources, groups, name: str, out: Path, force: bool) -> None:
    """A profile that reads DeTT&CT administration files (checked before it is written)."""
    # lazy: pipeline.core.atomic would add 6 ms (tempfile, shutil) to every command's start-up (`--help` too)
    from pipeline.core.atomic import write_atomic
    # lazy: pipeline.ingest.profiles.dettect would add 58 ms to every command's start-up (`--help` too)
    from pipeline.ingest.profiles import dettect

    if not (techniques or data_sources or groups):
        raise click.UsageError("give at least one of --techniques, --data-sources, --groups")
    if out.exists() and not force:
        raise CliError(f"{out}: exists; use --force to replace it")
    if '"' in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise CliError("--name: quotes, backslashes and control characters cannot be written into the profile")
    domain = "enterprise"
    with errors_as_exit():
        limits = from_environment()  # no sources file here: the environment's and the defaults
        read = {}
        if techniques:
            read["techniques"] = dettect.read_techniques(techniques, limits=limits)
            domain = read["techniques"].domain
        if data_sources:
            read["data_sources"] = dettect.read_data_sources(data_sources, limits=limits)
            domain = read["data_sources"].domain
        if groups:
            read["groups"] = dettect.read_groups(groups, limits=limits)
    base = out.parent.resolve()

    def rel(p: Path) -> str:
        return Path(os.path.relpath(p.resolve(), base)).as_posix().replace('"', '\\"')

    platforms = list(read["techniques"].platform) if "techniques" in read else []
    lines = [
        "# Imported from DeTT&CT administration files (attack-pipeline profile import-dettect).",
        "[profile]",
        f'name = "{name}"',
        f'domain = "{domain}"',
        "platforms = [" + ", ".join(f'"{p}"' for p in platforms if '"' not in p) + "]",
        "",
        "[data]",
    ]
    if data_sources:
        lines.append(f'dettect_data_sources = "{rel(data_sources)}"')
    if techniques:
        lines.append(f'dettect_techniques = "{rel(techniques)}"')
    if groups:
        lines += ["", "[threat]", f'dettect_groups = "{rel(groups)}"']
    text = "\n".join(lines) + "\n"
    # lazy: pipeline.ingest.profiles.toml_profile would add 57 ms to every command's start-up (`--help` too)
    from pipeline.ingest.profiles.toml_profile import parse_profile

    with errors_as_exit():
        parse_profile(tomllib.loads(text), str(out), out.parent, limits=limits)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, text.encode("utf-8"))
    counts = []
    if "techniques" in read:
        counts.append(f"{len(read['techniques'].techniques)} techniques")
    if "data_sources" in read:
        counts.append(f"{len(read['data_sources'].data_sources)} data sources")
    if "groups" in read:
        counts.append(f"{len(read['groups'].groups)} groups")
    click.echo(f"wrote {out}: {', '.join(counts)}")


@command.command("export-dettect")
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the DeTT&CT files.")
def export_dettect(profile: Path, out: Path) -> None:
    """Write the profile's DeTT&CT administration files into a folder: the files it
    imported (equal in content), or a data-source file made from `data.components`."""
    # lazy: pipeline.ingest.profiles.export would add 33 ms to every command's start-up (`--help` too)
    from pipeline.ingest.profiles.export import export_files
    # lazy: pipeline.ingest.profiles.toml_profile would add 57 ms to every command's start-up (`--help` too)
    from pipeline.ingest.profiles.toml_profile import load_profile

    with errors_as_exit():
        found, issues = load_profile(profile, limits=from_environment())  # no sources file here
        report_issues(issues, False)
        written = export_files(found, out)
    if not written:
        raise CliError(f"{profile}: the profile holds nothing DeTT&CT files describe (no data, no technique scores, no groups)")
    for path in written:
        click.echo(f"wrote {path}")


def read_profiles(files, sources_file: str, limits) -> tuple:
    """Profiles given with --profile, else every `profiles/*.toml` beside the sources
    file; their warnings (unreadable team rules) are printed, their errors raise."""
    paths = [Path(f) for f in files]
    if not paths:
        folder = Path(sources_file).parent / "profiles"
        paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not paths:
        return ()
    # lazy: pipeline.ingest.profiles.toml_profile would add 57 ms to every command's start-up (`--help` too), and to a build with no profile
    from pipeline.ingest.profiles.toml_profile import load_profile

    out = []
    for path in paths:
        found, issues = load_profile(path, limits=limits)
        report_issues(issues, False)
        out.append(found)
    return tuple(out)
