"""The command line as a new user meets it: --quiet and --verbose, the warnings line,
settings that stick (init, config, precedence), sources and their short names, show by
id or name with "did you mean", answers from the build, progress, the README's table."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import stix_factory as f
from testpaths import ROOT
from pipeline.cli import cli

MAPPINGS = """
[[source]]
id = "mapex/nist_800_53-rev4/attack-9.0/enterprise"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/rev4.json"
mirror = "mappings/rev4.json"
framework = "nist_800_53"
framework_version = "rev4"
domain = "enterprise"
attack_version = "9.0"
enabled = false

[[source]]
id = "mapex/nist_800_53-rev5/attack-16.1/enterprise"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/rev5.json"
mirror = "mappings/rev5.json"
framework = "nist_800_53"
framework_version = "rev5"
domain = "enterprise"
attack_version = "16.1"

[[source]]
id = "mapex/azure-04.26.2025/attack-16.1/enterprise"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/azure.json"
mirror = "mappings/azure.json"
framework = "azure"
framework_version = "04/26/2025"
domain = "enterprise"
attack_version = "16.1"
"""


@pytest.fixture
def run(tmp_path, monkeypatch):
    """The CLI in an empty working directory, with an empty user config directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    config_dir = tmp_path / "user-config"

    def invoke(*args, env=None):
        base = {"ATTACK_PIPELINE_CONFIG_DIR": str(config_dir), "ATTACK_PIPELINE_MIRROR": None, "ATTACK_PIPELINE_SITE_URL": None,
                "ATTACK_PIPELINE_NAVIGATOR_URL": None}
        return CliRunner().invoke(cli, list(args), env=base | (env or {}), catch_exceptions=False)

    invoke.work = work
    invoke.config_dir = config_dir
    return invoke


@pytest.fixture
def tiny(tmp_path):
    mirror = tmp_path / "mirror"
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", f.small_bundle(), gz=True)
    sources = f.sources_file(tmp_path / "sources.toml", [("enterprise", "99.0")])
    return ["--mirror", str(mirror), "--sources", str(sources), "--domain", "enterprise"], mirror, sources


def with_mappings(sources: Path) -> Path:
    sources.write_text(sources.read_text() + MAPPINGS)
    return sources


# --- quiet, verbose, the warnings line ---------------------------------------------------


def test_quiet_prints_only_the_answer(run, tiny):
    opts, _, _ = tiny
    loud = run("stats", *opts)
    quiet = run("stats", *opts, "--quiet")
    assert quiet.exit_code == 0
    assert quiet.stdout == loud.stdout and quiet.stdout.startswith("ATT&CK 99.0: enterprise 99.0\n")
    assert quiet.stderr == ""
    # On the group too, and the two exclude each other.
    assert run("-q", "stats", *opts).stdout == loud.stdout
    both = run("stats", *opts, "--quiet", "--verbose")
    assert both.exit_code == 2 and "--quiet and --verbose exclude each other" in both.stderr


def test_every_command_takes_quiet_and_verbose(run):
    for name, command in cli.commands.items():
        opts = {o for p in command.params for o in getattr(p, "opts", ())}
        assert {"-q", "--quiet", "-v", "--verbose"} <= opts, name


def test_warnings_are_one_line_by_default_and_listed_with_verbose(run, tiny):
    opts, mirror, _ = tiny
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-widget", "id": "x-vendor-widget--1"})
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    r = run("show", "T1046", *opts)
    assert r.exit_code == 0
    assert r.stderr == "1 warning about the inputs (--verbose lists them; all of them: reports/issues.json of a build)\n"
    r = run("show", "T1046", *opts, "--verbose")
    lines = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert len(lines) == 1 and "unknown type 'x-vendor-widget'" in lines[0]



def test_answers_from_a_build_word_its_warnings_as_a_load_does(run, tiny, tmp_path):
    opts, mirror, _ = tiny
    doc = f.small_bundle()
    doc["objects"].append({"type": "x-vendor-widget", "id": "x-vendor-widget--1"})
    f.write(mirror / "attack" / "enterprise-attack-99.0.json.gz", doc, gz=True)
    out = tmp_path / "outputs"
    assert run("build", *opts, "--out", str(out), "--quiet").exit_code == 0
    for command in (("show", "T1046"), ("stats",)):
        r = run(*command, *opts, "--out", str(out))
        assert (r.exit_code, r.stderr) == (0, f"1 warning about the inputs (--verbose lists them; all of them: {out}/reports/issues.json)\n")
        loaded = run(*command, *opts, "--out", str(out), "--from-sources", "--verbose")
        built = run(*command, *opts, "--out", str(out), "--verbose")
        warned = [line for line in built.stderr.splitlines() if line.startswith("warning: ")]
        assert warned == [line for line in loaded.stderr.splitlines() if line.startswith("warning: ")]
        assert len(warned) == 1 and "unknown type 'x-vendor-widget'" in warned[0]
        assert run(*command, *opts, "--out", str(out), "--quiet").stderr == ""
        strict = run(*command, *opts, "--out", str(out), "--strict")
        assert strict.exit_code == 1 and strict.stderr.endswith(
            f"error: 1 warning(s) in the build ({out}/reports/issues.json) and --strict is set\n"
        )

def test_top_level_help_gives_whole_first_sentences(run):
    r = run("--help")
    listing = r.stdout.split("Commands:")[1]
    summary = " ".join(listing.split())
    assert "Compare two ATT&CK releases (e.g. 16.1 18.1) object by object, keyed by STIX id: added," in summary
    assert "..." not in listing


# --- settings: init, config, precedence -------------------------------------------------


def test_init_writes_the_user_config_into_the_xdg_directory(run, tmp_path):
    mirror = tmp_path / "m"
    mirror.mkdir()
    xdg = tmp_path / "xdg"
    env = {"ATTACK_PIPELINE_CONFIG_DIR": "", "XDG_CONFIG_HOME": str(xdg)}
    r = run("init", "--mirror", str(mirror), "--site-url", "https://soc.example.org/attack/", env=env)
    target = xdg / "attack-pipeline" / "config.toml"
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        f"wrote {target}\n"
        f"  mirror = {mirror.resolve()}\n"
        "  site_url = https://soc.example.org/attack/\n"
        "next: attack-pipeline build   (attack-pipeline config shows every setting and where it comes from)\n"
    )
    assert target.read_text() == (
        "# attack-pipeline settings (attack-pipeline config shows where each value comes from)\n"
        "# offline mirror directory holding the sources\n"
        f'mirror = "{mirror.resolve()}"\n'
        "# address the docs site is published at\n"
        'site_url = "https://soc.example.org/attack/"\n'
    )
    # A second init merges; a bad URL or a missing mirror is one line.
    assert run("init", "--navigator-url", "https://nav.example.org/", env=env).exit_code == 0
    assert 'mirror = "' in target.read_text() and 'navigator_url = "https://nav.example.org/"' in target.read_text()
    r = run("init", "--site-url", "ftp://x", env=env)
    assert (r.exit_code, r.stderr) == (1, "error: --site-url: site_url: site_url must start with http:// or https://\n")
    r = run("init", "--mirror", str(tmp_path / "nope"), env=env)
    assert (r.exit_code, r.stderr) == (1, f"error: --mirror {tmp_path / 'nope'}: no such directory\n")


def test_config_precedence_flag_env_project_user(run, tmp_path, tiny):
    _, _, sources = tiny
    dirs = {name: tmp_path / name for name in ("flag", "env", "project", "user")}
    for d in dirs.values():
        d.mkdir()
    run.config_dir.mkdir()
    (run.config_dir / "config.toml").write_text(f'mirror = "{dirs["user"]}"\nsite_url = "https://user.example.org/"\n')

    def mirror_line(*args, env=None):
        r = run("config", "--sources", str(sources), *args, env=env)
        assert r.exit_code == 0, r.output
        return r.stdout.splitlines()[0]

    assert mirror_line() == f"mirror         {dirs['user']}  ({run.config_dir / 'config.toml'})"
    (run.work / "attack-pipeline.toml").write_text(f'mirror = "{dirs["project"]}"\n')
    assert mirror_line() == f"mirror         {dirs['project']}  ({run.work / 'attack-pipeline.toml'})"
    env = {"ATTACK_PIPELINE_MIRROR": str(dirs["env"])}
    assert mirror_line(env=env) == f"mirror         {dirs['env']}  (environment ATTACK_PIPELINE_MIRROR)"
    assert mirror_line("--mirror", str(dirs["flag"]), env=env) == f"mirror         {dirs['flag']}  (flag --mirror)"
    r = run("config", "--sources", str(sources), "--json")
    data = json.loads(r.stdout)["settings"]
    assert data["site_url"] == {"value": "https://user.example.org/", "origin": str(run.config_dir / "config.toml")}
    assert data["navigator_url"] == {"value": "https://mitre-attack.github.io/attack-navigator/", "origin": "default"}


def test_the_user_config_mirror_is_used_by_commands(run, tiny):
    opts, mirror, sources = tiny
    run.config_dir.mkdir()
    (run.config_dir / "config.toml").write_text(f'mirror = "{mirror}"\n')
    r = run("stats", "--sources", str(sources), "--quiet")
    assert r.exit_code == 0 and r.stdout.startswith("ATT&CK 99.0: enterprise 99.0\n")


def test_a_bad_user_config_is_one_line(run, tiny):
    _, _, sources = tiny
    run.config_dir.mkdir()
    (run.config_dir / "config.toml").write_text('mirorr = "/x"\n')
    r = run("stats", "--sources", str(sources))
    assert (r.exit_code, r.stderr) == (
        1, f"error: {run.config_dir / 'config.toml'}: mirorr: unknown setting 'mirorr' (known: mirror, cache, site_url, navigator_url)\n"
    )


# --- sources, short names, close matches ------------------------------------------------


def test_sources_lists_ids_and_short_names(run, tiny):
    _, _, sources = tiny
    with_mappings(sources)
    r = run("sources", "--sources", str(sources))
    assert r.exit_code == 0
    assert r.stdout == (
        "id                                             kind     on   short name        framework         ATT&CK\n"
        "attack/enterprise-99.0                         attack   yes  enterprise-99.0   —                 99.0\n"
        "mapex/nist_800_53-rev4/attack-9.0/enterprise   mapping  —    nist_800_53-rev4  nist_800_53 rev4  9.0\n"
        "mapex/nist_800_53-rev5/attack-16.1/enterprise  mapping  yes  nist_800_53       nist_800_53 rev5  16.1\n"
        "mapex/azure-04.26.2025/attack-16.1/enterprise  mapping  yes  azure             azure 04/26/2025  16.1\n"
        f"4 sources (3 enabled) in {sources}\n"
    )


def test_short_names_resolve_and_unknown_ids_list_close_matches(run, tiny, tmp_path):
    from pipeline.core.config import load_config

    _, _, sources = tiny
    config = load_config(with_mappings(sources))
    assert config.source("nist_800_53", kind="mapping").id == "mapex/nist_800_53-rev5/attack-16.1/enterprise"
    assert config.source("nist_800_53-rev4").id == "mapex/nist_800_53-rev4/attack-9.0/enterprise"
    assert config.source("azure").framework == "azure"
    opts = ["--mirror", str(tmp_path / "mirror"), "--sources", str(sources)]
    r = run("reconcile", "nist_800_35", *opts)
    assert (r.exit_code, r.stderr) == (
        1,
        f"error: {sources}: no source 'nist_800_35'; did you mean mapex/nist_800_53-rev5/attack-16.1/enterprise, "
        "mapex/nist_800_53-rev4/attack-9.0/enterprise?; `attack-pipeline sources` lists them all\n",
    )
    r = run("reconcile", "enterprise", *opts)
    assert r.exit_code == 1 and "no source 'enterprise'" in r.stderr


# --- show: by id or name, did you mean, answers from the build --------------------------


def test_show_by_name_and_by_other_kinds(run, tiny):
    opts, _, _ = tiny
    by_id = run("show", "T1046", *opts)
    by_name = run("show", "network service discovery", *opts)
    assert by_name.exit_code == 0 and by_name.stdout == by_id.stdout
    r = run("show", "M1030", *opts)
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "M1030 Network Segmentation  (mitigation)"
    assert "techniques (1):\n  T1046 Network Service Discovery (mitigates)" in r.stdout


def test_show_did_you_mean(run, tiny):
    opts, _, _ = tiny
    r = run("show", "T1046.001", *opts)
    assert (r.exit_code, r.stderr) == (
        1,
        "error: technique T1046.001 is not in ATT&CK 99.0 (enterprise); did you mean "
        "T1046 Network Service Discovery (technique)?\n",
    )
    r = run("show", "Network Service Discovry", *opts)
    assert (r.exit_code, r.stderr) == (
        1,
        "error: nothing named 'Network Service Discovry' in ATT&CK 99.0 (enterprise); did you mean "
        "T1046 Network Service Discovery (technique)?\n",
    )


def test_show_and_stats_answer_from_the_build(run, tiny, tmp_path):
    opts, _, _ = tiny
    out = tmp_path / "outputs"
    assert run("build", *opts, "--out", str(out), "--quiet").exit_code == 0
    for args in (("show", "T1046", "--json"), ("show", "T9001"), ("show", "M1030"), ("stats", "--json"), ("show", "T1046.001")):
        fresh = run(*args, *opts, "--out", str(out), "--from-sources")
        built = run(*args, *opts, "--out", str(out), "--verbose")
        assert (built.exit_code, built.stdout) == (fresh.exit_code, fresh.stdout), args
        assert built.stderr.startswith(f"answering from the build in {out}\n"), args
    # Another release or domain is not this build's: the sources answer.
    r = run("show", "T1046", *opts, "--out", str(tmp_path / "elsewhere"), "--verbose")
    assert r.exit_code == 0 and r.stderr.startswith("no build in")


AZURE_SOURCE = """
[[source]]
id = "mapex/azure-04.26.2025/attack-16.1/enterprise"
kind = "mapping"
format = "mapex-json"
url = "https://example.org/azure.json"
mirror = "mappings/azure.json"
framework = "azure"
framework_version = "04/26/2025"
domain = "enterprise"
attack_version = "16.1"
"""


def azure_table(rows: list[tuple[str, str, str, str]]) -> dict:
    """A Mappings Explorer table: (technique, capability, category, value) per row."""
    return {
        "metadata": {
            "mapping_version": "1", "attack_version": "16.1", "technology_domain": "enterprise", "author": "",
            "contact": "", "creation_date": "04/26/2025", "last_update": "04/26/2025", "organization": "",
            "mapping_framework": "azure", "mapping_framework_version": "04/26/2025",
            "mapping_types": {"technique_scores": {"name": "technique_scores", "description": ""}},
            "capability_groups": {"defender": "Microsoft Defender", "firewall": "Azure Firewall"},
        },
        "mapping_objects": [
            {"comments": f"{cap} gives {value} {category} of {tid}.", "attack_object_id": tid, "attack_object_name": "",
             "references": [], "capability_description": cap.title(), "capability_id": cap, "mapping_type": "technique_scores",
             "score_category": category, "score_value": value, "related_score": "", "capability_group": cap, "status": "complete"}
            for tid, cap, category, value in rows
        ],
    }


def test_layer_answers_from_the_build_with_the_same_bytes(run, tiny, tmp_path):
    opts, mirror, sources = tiny
    sources.write_text(sources.read_text() + AZURE_SOURCE)
    f.write(mirror / "mappings" / "azure.json", azure_table([
        ("T1046", "firewall", "protect", "significant"), ("T1046", "defender", "detect", "partial"),
        ("T1003.001", "defender", "detect", "minimal"), ("T1003", "defender", "protect", "partial"),
    ]))
    out = tmp_path / "outputs"
    assert run("build", *opts, "--out", str(out), "--quiet").exit_code == 0
    queries = (
        ("--framework", "azure", "--style", "value"),
        ("--framework", "all", "--category", "detect", "--style", "category"),
        ("--framework", "azure", "--min-value", "partial", "--name", "Partial or better"),
    )
    for n, query in enumerate(queries):
        fresh, built = tmp_path / f"fresh-{n}.json", tmp_path / f"built-{n}.json"
        r = run("layer", *opts, *query, "--build", str(out), "--from-sources", "--out", str(fresh))
        assert r.exit_code == 0, r.output
        r = run("layer", *opts, *query, "--build", str(out), "--verbose", "--out", str(built))
        assert r.exit_code == 0 and r.stderr.startswith(f"answering from the build in {out}\n"), r.stderr
        assert built.read_bytes() == fresh.read_bytes(), query
    assert json.loads(built.read_text())["techniques"], "the query matched nothing: the comparison proves little"
    quiet = run("layer", *opts, "--framework", "azure", "--build", str(out), "--quiet", "--out", str(tmp_path / "q.json"))
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, f"wrote {tmp_path / 'q.json'}: 3 techniques of enterprise ATT&CK 99.0\n", "")
    # No build there, or its graph gone from the cache: the sources answer, same bytes.
    for build_dir in (tmp_path / "elsewhere", out):
        if build_dir == out:
            from pipeline.build.answers import file_for, graph_file_for

            fingerprint = json.loads((out / "manifest.json").read_text())["fingerprint"]
            graph = graph_file_for(file_for(Path(os.environ["ATTACK_PIPELINE_CACHE"]), fingerprint))
            graph.unlink()  # the answers stay: `show` still answers from them
        again = tmp_path / "again.json"
        r = run("layer", *opts, *queries[-1], "--build", str(build_dir), "--verbose", "--out", str(again))
        assert r.exit_code == 0 and r.stderr.startswith(f"no build in {build_dir} made from these sources"), r.stderr
        assert again.read_bytes() == built.read_bytes()


def test_build_writes_the_outputs_readme_and_lists_it(run, tiny, tmp_path):
    opts, _, _ = tiny
    out = tmp_path / "outputs"
    r = run("build", *opts, "--out", str(out))
    assert r.exit_code == 0
    readme = (out / "README.md").read_text()
    assert readme.startswith("# ATT&CK 99.0 coverage (enterprise)\n")
    assert "Open Existing Layer → Upload from local" in readme
    manifest = json.loads((out / "manifest.json").read_text())
    entry = [a for a in manifest["artifacts"] if a["path"] == "README.md"]
    assert len(entry) == 1 and entry[0]["size"] == len(readme.encode())
    tail = r.stdout.splitlines()[-4:]
    assert tail[0] == f"outputs:     {out}  (what is where: {out}/README.md)"
    assert tail[1].startswith(f"next:        attack-pipeline site --out {out} && attack-pipeline serve")


def test_settings_reach_the_build_site_url_and_navigator(run, tiny, tmp_path):
    opts, _, _ = tiny
    out = tmp_path / "outputs"
    env = {"ATTACK_PIPELINE_SITE_URL": "https://soc.example.org/attack/", "ATTACK_PIPELINE_NAVIGATOR_URL": "https://nav.example.org/"}
    r = run("build", *opts, "--out", str(out), "--quiet", env=env)
    assert (r.exit_code, r.stdout) == (0, "")
    card = (out / "docs" / "techniques" / "T1046.md").read_text()
    assert "(https://nav.example.org/#layerURL=https%3A%2F%2Fsoc.example.org%2Fattack%2Flayers%2F" in card
    assert "Open Existing Layer → Upload from local**" in (out / "README.md").read_text()
    assert "https://nav.example.org/" in (out / "README.md").read_text()


# --- progress ---------------------------------------------------------------------------


def test_progress_reaches_100_percent_at_the_end_of_a_build(tiny, tmp_path):
    from rich.console import Console

    from pipeline.build import build, planned_steps
    from pipeline.cli.common import progress
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    _, mirror, sources = tiny
    ws = Workspace.open(load_config(sources), mirror)
    planned = planned_steps(ws)
    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)
    with progress(planned, console=console) as step:
        build(ws, tmp_path / "outputs", step)
    assert step.index + 1 == planned == step.total  # the total is the real number of steps
    frames = re.split(r"\r|\x1b\[2K|\x1b\[1A", console.file.getvalue())
    shown = [fr for fr in frames if "%" in fr]
    assert shown and "100%" in shown[-1], shown[-3:]
    percents = [int(p) for fr in shown for p in re.findall(r"(\d+)%", fr)]
    assert percents == sorted(percents)  # never goes backwards


# --- the README's command table ---------------------------------------------------------


def readme_commands() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        m = re.match(r"^\| `attack-pipeline ([a-z-]+)(.*?)` \|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_readme_command_table_matches_the_help_of_every_command(run):
    rows = readme_commands()
    assert set(rows) == set(cli.commands), "README command table and the CLI differ"
    for name, usage in rows.items():
        command = cli.commands[name]
        help_text = run(name, "--help").stdout
        options = {o for p in command.params if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)}
        for flag in re.findall(r"--[a-z][a-z-]*", usage):
            assert flag in options and flag in help_text, f"README: `{name}` has no option {flag}"
        for p in command.params:
            if isinstance(p, click.Argument) and p.required:
                assert (p.metavar or p.name.upper()).split("...")[0].strip("[]") in usage, f"README: `{name}` lacks {p.name}"


def test_pruning_keeps_four_answer_files_and_two_graphs(tmp_path):
    from pipeline.build import answers

    folder = tmp_path / "answers"
    folder.mkdir()
    for n in range(6):  # oldest first
        for path in (folder / f"{n:032d}.sqlite", answers.graph_file_for(folder / f"{n:032d}.sqlite")):
            path.write_bytes(b"x")
            os.utime(path, (1_000_000 + n, 1_000_000 + n))
    keep = folder / f"{0:032d}.sqlite"  # the one just written need not be the newest by time
    answers._prune(folder, keep=keep)
    assert sorted(p.name for p in folder.glob("*.sqlite")) == [f"{n:032d}.sqlite" for n in (0, 3, 4, 5)]
    assert sorted(p.name for p in folder.glob("*.graph.pickle")) == [f"{n:032d}.graph.pickle" for n in (0, 5)]
