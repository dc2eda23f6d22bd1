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

    spliced: list[str] = []
    from_sibling = navpartial.NavPartial._from_sibling

    def counted_splice(self, sibling, page, values):
        html = from_sibling(self, sibling, page, values)
        if html is not None:
            spliced.append(page.url)
        return html

    monkeypatch.setattr(navpartial, "folder_key", counted)
    monkeypatch.setattr(navpartial.NavPartial, "_from_sibling", counted_splice)
    kept = make_site(hostile_build, tmp_path / "kept", site_url, workers=1, fresh=True)
    folders = {k for k in drawn if k is not None}
    assert folders and len(folders) < sum(k is not None for k in drawn)  # kept, and used again
    assert any(url.startswith("techniques/") for url in spliced), spliced  # pages of the navigation too
    monkeypatch.setattr(navpartial, "folder_key", lambda *args: None)
    monkeypatch.setattr(navpartial, "sibling_key", lambda *args: None)
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


def test_two_items_are_swapped_only_where_each_is_found_once():
    spliced = navpartial._spliced
    assert spliced("<A*><b><c>", "<A*>", "<a>", "<c>", "<C*>") == "<a><b><C*>"
    assert spliced("<c><b><A*>", "<A*>", "<a>", "<c>", "<C*>") == "<C*><b><a>"
    assert spliced("<A*><c><c>", "<A*>", "<a>", "<c>", "<C*>") is None  # the other item twice
    assert spliced("<A*><A*><c>", "<A*>", "<a>", "<c>", "<C*>") is None  # its own item twice
    assert spliced("<A*><b>", "<A*>", "<a>", "<c>", "<C*>") is None  # the other item missing
    assert spliced("<A*c>", "<A*c>", "<a>", "c>", "<C*>") is None  # one inside the other


def test_only_a_page_of_the_navigation_under_a_section_has_siblings():
    section = SimpleNamespace()
    page = SimpleNamespace(url="techniques/T1046/", parent=section, children=None)
    top = SimpleNamespace(url="index/", parent=None, children=None)
    nested = SimpleNamespace(url="tactics/", parent=section, children=[page])
    pages = frozenset(id(p) for p in (page, top, nested))
    assert navpartial.sibling_key(page, pages) == (id(section), "techniques")
    assert navpartial.sibling_key(top, pages) is None
    assert navpartial.sibling_key(nested, pages) is None
    assert navpartial.sibling_key(page, frozenset()) is None  # out of the navigation
    assert navpartial.sibling_key(None, pages) is None
