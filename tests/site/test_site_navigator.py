""""Open in ATT&CK Navigator": beside every layer a page links when `site_url` is set
(the public Navigator loads the layer from its published address), and nowhere when
it is not (a relative path means nothing to the Navigator)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import site_hostile

from pipeline.render.pages.downloads import navigator_url

NAVIGATOR = "https://mitre-attack.github.io/attack-navigator/#layerURL="
LAYER_LINK = re.compile(r"\]\(((?:\.\./)+)(layers/[^)]+\.json)\)")


def _pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out / "docs").as_posix(): p.read_text(encoding="utf-8") for p in sorted((out / "docs").rglob("*.md"))}


def test_navigator_url_encodes_the_published_layer_address():
    url = navigator_url("https://soc.example.org/attack/", "layers/enterprise/coverage.json")
    assert url == NAVIGATOR + "https%3A%2F%2Fsoc.example.org%2Fattack%2Flayers%2Fenterprise%2Fcoverage.json"
    assert navigator_url("https://soc.example.org/attack", "layers/x y.json").endswith("attack%2Flayers%2Fx%20y.json")


def test_every_layer_link_has_its_navigator_link_with_site_url(hostile_build):
    pages = _pages(hostile_build)
    linked = 0
    for rel, md in pages.items():
        layers = [m.group(2) for m in LAYER_LINK.finditer(md)]
        opened = [unquote(u) for u in re.findall(re.escape(NAVIGATOR) + r"([^)\s]+)\)", md)]
        assert opened == [f"https://soc.example.org/attack/{layer}" for layer in layers], rel
        linked += bool(layers)
    # Technique, framework and control pages all link layers.
    assert {"techniques/T1046.md", "frameworks/azure.md"} <= {r for r, md in pages.items() if NAVIGATOR in md}
    assert any(r.startswith("controls/") and NAVIGATOR in md for r, md in pages.items())
    assert linked >= 3


def test_no_navigator_link_without_site_url(tmp_path):
    out = site_hostile.build(tmp_path, site_url="")
    pages = _pages(out)
    assert any(LAYER_LINK.search(md) for md in pages.values()), "layers are still linked"
    assert not [r for r, md in pages.items() if "attack-navigator" in md]
