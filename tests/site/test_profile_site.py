"""A build with a profile whose name and ids are hostile, made into the docs site
(mkdocs, strict): the profile page is in the navigation, nothing in it is active."""

from __future__ import annotations

import re

import site_hostile
from pipeline.ingest.profiles.toml_profile import parse_profile


def test_profile_page_on_the_site(tmp_path):
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.site.make import make_site
    from pipeline.workspace import Workspace

    sources = site_hostile.write_mirror(tmp_path, "")
    ws = Workspace.open(load_config(sources), tmp_path / "mirror")
    raw = {
        "profile": {"name": f"Bank {site_hostile.HTML} | [x](javascript:alert(1))", "id": "bank", "top_n": 2},
        "controls": {"azure": {"implemented": ["azure_firewall", "no-such<script>"]}},
        "threat": {"groups": ["<img src=x onerror=alert(1)>"]},
        "data": {"components": ["Process Creation"]},
    }
    profile, _ = parse_profile(raw, str(tmp_path / "bank.toml"), tmp_path)
    out = tmp_path / "out"
    build(ws, out, profiles=(profile,))
    page = (out / "docs" / "profiles" / "bank.md").read_text()
    assert "<script>" not in page and "<img" not in page
    assert not re.search(r"(?<!\\)\]\(javascript:", page)  # a link only where the brackets are not escaped
    make_site(out, tmp_path / "site")
    html = (tmp_path / "site" / "profiles" / "bank" / "index.html").read_text()
    body = html.split("</title>", 1)[1]  # a <title> is text only (its raw name is the same as the cards')
    assert "<script>window.__pwned" not in body and "<img src=x" not in body
    assert 'href="results.json"' in body and (tmp_path / "site" / "profiles" / "bank" / "results.json").is_file()
    index = (tmp_path / "site" / "index.html").read_text()
    assert "profiles/bank/" in index  # in the navigation
    card = (out / "docs" / "techniques" / "T1046.md").read_text()
    assert "**In your profile** [Bank" in card


def test_build_command_with_a_profile(tmp_path):
    """`build --profile`: the profile's files are in the build; the same profile again is a
    no-op; an edited profile (or a file it imports) is a new build."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    sources = site_hostile.write_mirror(tmp_path, "")
    prof = tmp_path / "bank.toml"
    prof.write_text('[profile]\nname = "Bank"\n[threat]\ngroups = []\n[data]\ncomponents = ["Process Creation"]\n', encoding="utf-8")
    out = tmp_path / "out"
    args = ["build", "--mirror", str(tmp_path / "mirror"), "--sources", str(sources), "--out", str(out), "--profile", str(prof)]
    first = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "profiles 6" in first.output.splitlines()[1]  # the page is counted under docs
    files = sorted(p.relative_to(out).as_posix() for p in (out / "profiles").rglob("*") if p.is_file())
    assert files == ["profiles/bank/layers/coverage.json", "profiles/bank/layers/priorities.json", "profiles/bank/layers/visibility.json",
                     "profiles/bank/priorities.csv", "profiles/bank/results.json", "profiles/index.json"]
    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert again.output.startswith("outputs are up to date")
    prof.write_text(prof.read_text().replace("Process Creation", "Command Execution"), encoding="utf-8")
    third = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert third.output.startswith("built ATT&CK"), third.output
    assert (out / "docs" / "profiles" / "bank.md").is_file()
