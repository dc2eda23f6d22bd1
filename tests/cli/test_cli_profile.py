"""`attack-pipeline profile`: init, import-dettect, export-dettect (exact output)."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.ingest.profiles.toml_profile import load_profile


def _run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_init_writes_a_starter_that_parses(tmp_path):
    path = tmp_path / "profiles" / "bank.toml"
    r = _run("profile", "init", path, "--name", "Example Bank")
    assert r.exit_code == 0 and r.output == f"wrote {path}\n"
    profile, issues = load_profile(path)
    assert (profile.name, profile.slug, profile.top_n, issues) == ("Example Bank", "example-bank", 20, [])
    assert [t.ref for t in profile.threats] == ["G0006"]
    r = _run("profile", "init", path)
    assert r.exit_code == 1 and r.output == f"error: {path}: exists; use --force to replace it\n"


def test_import_and_export_dettect(samples, tmp_path):
    out = tmp_path / "bank.toml"
    r = _run(
        "profile", "import-dettect",
        "--techniques", samples / "techniques-administration-endpoints.yaml",
        "--data-sources", samples / "data-sources-endpoints.yaml",
        "--groups", samples / "groups.yaml",
        "--name", "Bank", "--out", out,
    )
    assert r.exit_code == 0, r.output
    assert r.output == f"wrote {out}: 342 techniques, 12 data sources, 2 groups\n"
    r = _run("profile", "export-dettect", out, "--out", tmp_path / "dt")
    assert r.exit_code == 0, r.output
    written = sorted(tmp_path.joinpath("dt").iterdir())
    assert r.output == "".join(f"wrote {p}\n" for p in [tmp_path / "dt" / "data-sources-bank.yaml", tmp_path / "dt" / "techniques-administration-bank.yaml", tmp_path / "dt" / "groups-bank.yaml"])
    same = {
        "data-sources-bank.yaml": "data-sources-endpoints.yaml",
        "techniques-administration-bank.yaml": "techniques-administration-endpoints.yaml",
        "groups-bank.yaml": "groups.yaml",
    }
    for p in written:
        assert yaml.safe_load(p.read_text()) == yaml.safe_load((samples / same[p.name]).read_text()), p.name


def test_import_refuses_a_wrong_file(samples, tmp_path):
    r = _run("profile", "import-dettect", "--techniques", samples / "groups.yaml", "--name", "Bank", "--out", tmp_path / "b.toml")
    assert r.exit_code == 1
    assert r.output == f"error: {samples / 'groups.yaml'}: file_type: is 'group-administration'; a DeTT&CT techniques file has 'technique-administration'\n"
    assert not (tmp_path / "b.toml").exists()
