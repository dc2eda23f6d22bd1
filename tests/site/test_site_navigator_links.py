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


def test_rebase_layer_moves_the_build_address_to_the_site_address():
    import orjson

    from pipeline.site.artifacts import rebase_layer

    layer = {
        "techniques": [
            {"techniqueID": "T1046", "links": [
                {"label": "T1046 in the docs", "url": "https://old.example/a/techniques/T1046/"},
                {"label": "AC-4 in the docs", "url": "https://old.example/a/controls/nist_800_53/AC-4/"},
            ], "comment": "see https://old.example/a/techniques/T1046/"},
            {"techniqueID": "T1003.001", "links": [{"label": "T1003.001 in the docs", "url": "https://old.example/a/techniques/T1003.001/"}]},
        ]
    }
    data = orjson.dumps(layer, option=orjson.OPT_INDENT_2) + b"\n"
    moved = orjson.loads(rebase_layer(data, "https://new.example/soc/"))
    assert [link["url"] for t in moved["techniques"] for link in t["links"]] == [
        "https://new.example/soc/techniques/T1046/", "https://new.example/soc/controls/nist_800_53/AC-4/",
        "https://new.example/soc/techniques/T1003.001/",
    ]
    assert moved["techniques"][0]["comment"] == "see https://old.example/a/techniques/T1046/"  # text, not a link
    # The same bytes when nothing is to move: no site address, the same address, no links.
    assert rebase_layer(data, "") is data
    assert rebase_layer(data, "https://old.example/a") is data
    bare = orjson.dumps({"techniques": [{"techniqueID": "T1046"}]}, option=orjson.OPT_INDENT_2)
    assert rebase_layer(bare, "https://new.example/") is bare
    # A layer of a framework that maps no technique links the framework's page alone.
    empty = orjson.dumps({"links": [{"label": "NIST in the docs", "url": "https://old.example/a/frameworks/nist_800_53/"}], "techniques": []}, option=orjson.OPT_INDENT_2)
    assert orjson.loads(rebase_layer(empty, "https://new.example/"))["links"][0]["url"] == "https://new.example/frameworks/nist_800_53/"


def test_site_serves_its_layers_linking_its_own_address(hostile_build, tmp_path):
    """`site --site-url` of a build made for another address: the layers the site
    serves link the site's pages; the build's own layers are left as they were."""
    import orjson

    site = tmp_path / "site"
    result = CliRunner().invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(site), "--site-url", "https://intranet.example/soc/"])
    assert result.exit_code == 0, result.output
    real = Path(os.path.realpath(site))
    rel = "layers/enterprise/coverage.json"
    built = orjson.loads((hostile_build / rel).read_bytes())
    served = orjson.loads((real / rel).read_bytes())
    built_urls = [link["url"] for t in built["techniques"] for link in t.get("links", ())]
    served_urls = [link["url"] for t in served["techniques"] for link in t.get("links", ())]
    assert built_urls and all(u.startswith("https://soc.example.org/attack/") for u in built_urls)
    assert served_urls == [u.replace("https://soc.example.org/attack/", "https://intranet.example/soc/") for u in built_urls]
    for url in served_urls:  # every link is a page of the site
        assert (real / url.removeprefix("https://intranet.example/soc/") / "index.html").is_file(), url
    assert not (real / rel).samefile(hostile_build / rel)
    # A download without links to move is the build's file, hard-linked.
    bundle = next(p for p in sorted((hostile_build / "stix").rglob("*.json")))
    assert (real / bundle.relative_to(hostile_build)).samefile(bundle)


def test_navigator_link_opens_the_layer_the_site_serves(hostile_build, tmp_path, serve, browser):
    """End to end, no rebuild: the site is made for the address it is served at and for
    the team's Navigator; in Chromium, T1046's Navigator link names that Navigator and a
    `#layerURL=` the site serves, and that layer links pages of the same site."""
    from urllib.parse import parse_qs, urlsplit

    site = tmp_path / "served"
    url = serve(site)  # the address first (a free port), the site made for it next
    result = CliRunner().invoke(
        cli, ["site", "--out", str(hostile_build), "--site-dir", str(site), "--site-url", url, "--navigator-url", "https://nav.intranet.example/"]
    )
    assert result.exit_code == 0, result.output
    page = browser.new_page()
    try:
        page.goto(url + "techniques/T1046/", wait_until="networkidle")
        links = page.eval_on_selector_all("article a", "els => els.filter(e => e.textContent.includes('in ATT&CK Navigator')).map(e => e.href)")
        assert links and all(link.startswith("https://nav.intranet.example/#layerURL=") for link in links)
        for link in links:
            layer_url = parse_qs(urlsplit(link).fragment)["layerURL"][0]
            assert layer_url.startswith(url + "layers/"), layer_url
            response = page.request.get(layer_url)
            assert response.ok and response.headers["content-type"] == "application/json"
            layer = response.json()
            assert layer["domain"] == "enterprise-attack" and layer["techniques"]
            pages = [entry["url"] for t in layer["techniques"] for entry in t.get("links", ())]
            assert pages and all(p.startswith(url) for p in pages), pages[:3]
            assert page.request.get(pages[0]).ok
    finally:
        page.close()
