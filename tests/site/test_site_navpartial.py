"""The navigation drawn once per folder for the pages out of the navigation
(pipeline/site/navpartial.py): the same site as drawing it for every page."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.site import navpartial
from pipeline.site.make import make_site

SITE_URL = "https://soc.example.org/attack/"


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("site_url", [SITE_URL, ""])
def test_the_site_is_the_one_drawn_page_by_page(hostile_build, tmp_path, monkeypatch, site_url):
    drawn: list[str | None] = []
    key = navpartial.folder_key

    def counted(page, *args):
        found = key(page, *args)
        drawn.append(found)
        return found

    monkeypatch.setattr(navpartial, "folder_key", counted)
    kept = make_site(hostile_build, tmp_path / "kept", site_url, workers=1, fresh=True)
    folders = {k for k in drawn if k is not None}
    assert folders and len(folders) < sum(k is not None for k in drawn)  # kept, and used again
    monkeypatch.setattr(navpartial, "folder_key", lambda *args: None)
    every = make_site(hostile_build, tmp_path / "every", site_url, workers=1, fresh=True)
    assert _tree(kept.site) == _tree(every.site)


def _page(url: str | None) -> SimpleNamespace:
    return SimpleNamespace(url=url)


def test_a_folder_key_only_where_the_links_are_the_same():
    inside = [_page("techniques/T1046/"), _page("controls/nist/"), _page("")]
    nav = SimpleNamespace(pages=inside)
    ids, held = frozenset(id(p) for p in inside), navpartial._folders(nav)
    assert held == {"techniques/T1046/", "techniques/", "controls/nist/", "controls/", ""}
    key = lambda page: navpartial.folder_key(page, ids, held)  # noqa: E731
    assert key(inside[0]) is None and key(None) is None and key(_page(None)) is None
    assert key(_page("controls/")) is None  # a page of the navigation lies under it
    assert key(_page("detections/sigma/a/")) == key(_page("detections/sigma/b/")) == "detections/sigma"
    assert key(_page("controls/nist/ac-4/")) == "controls/nist" != key(_page("controls/aws/x/"))
