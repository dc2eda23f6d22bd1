"""Navigator links made when the site is made: for the site's own address and the
team's Navigator, replacing whatever the build wrote, and none without an address."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.site.navigator import PUBLIC_NAVIGATOR, navigator_links, navigator_url

PAGE = """# T1046

- [Enterprise coverage layer (ATT&CK Navigator)](../layers/enterprise/coverage.json)
- [Open the Enterprise coverage layer in ATT&CK Navigator](https://mitre-attack.github.io/attack-navigator/#layerURL=https%3A%2F%2Fold.example%2Flayers%2Fenterprise%2Fcoverage.json)
- [A report](../reports/x.md)
"""


def test_links_follow_the_site_address_and_navigator():
    md = navigator_links(PAGE, "techniques/T1046.md", "https://soc.example.org/attack", "https://navigator.corp.example/")
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert links == [
        "../layers/enterprise/coverage.json",
        navigator_url("https://navigator.corp.example/", "https://soc.example.org/attack/layers/enterprise/coverage.json"),
        "../reports/x.md",
    ]
    assert links[1] == "https://navigator.corp.example/#layerURL=https%3A%2F%2Fsoc.example.org%2Fattack%2Flayers%2Fenterprise%2Fcoverage.json"
    assert "old.example" not in md
    # Public Navigator by default; no link at all without the site's address.
    assert PUBLIC_NAVIGATOR + "#layerURL=" in navigator_links(PAGE, "techniques/T1046.md", "https://a.example/", "")
    bare = navigator_links(PAGE, "techniques/T1046.md", "", "")
    assert "Navigator](" not in bare.replace("(ATT&CK Navigator)](", "") and "../layers/enterprise/coverage.json" in bare
    # A Navigator address that is not http(s) gives no link.
    assert "javascript" not in navigator_links(PAGE, "techniques/T1046.md", "https://a.example/", "javascript:alert(1)//")


def test_site_command_sets_the_navigator_of_every_layer_link(hostile_build, tmp_path):
    """The hostile build was made with another site_url: the site's links follow the
    site's options, not the build's."""
    site = tmp_path / "site"
    result = CliRunner().invoke(
        cli,
        ["site", "--out", str(hostile_build), "--site-dir", str(site), "--site-url", "https://intranet.example/soc/", "--navigator-url", "https://nav.intranet.example/"],
    )
    assert result.exit_code == 0, result.output
    real = Path(os.path.realpath(site))
    html = (real / "techniques" / "T1046" / "index.html").read_text(encoding="utf-8")
    opened = [unquote(u) for u in re.findall(r'href="https://nav\.intranet\.example/#layerURL=([^"]+)"', html)]
    assert opened == ["https://intranet.example/soc/layers/enterprise/coverage.json"]
    assert "mitre-attack.github.io/attack-navigator" not in html and "soc.example.org" not in html.split("<article")[1]
    for layer in opened:
        assert (real / layer.removeprefix("https://intranet.example/soc/")).is_file()
    bad = CliRunner().invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(site), "--navigator-url", "ftp://x/"])
    assert bad.exit_code == 1 and bad.output.strip() == "error: --navigator-url must start with http:// or https://"
