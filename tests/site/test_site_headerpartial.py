"""The header drawn once per folder and given each page's title
(pipeline/site/headerpartial.py): the same site as drawing it for every page."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from pipeline.site import headerpartial
from pipeline.site.make import make_site


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("workers", [1, 2])
def test_the_site_is_the_one_with_every_header_drawn(hostile_build, tmp_path, monkeypatch, workers):
    """Hostile titles (markup, the site's name, quotes) included."""
    drawn: list[int] = []
    theme_template = headerpartial.theme_template

    def counting(env, name):
        template = theme_template(env, name)
        return SimpleNamespace(render=lambda values: drawn.append(1) or template.render(values))

    monkeypatch.setattr(headerpartial, "theme_template", counting)
    kept = make_site(hostile_build, tmp_path / "kept", "", workers=1, fresh=True)
    pages = kept.pages
    assert 0 < len(drawn) < pages, (len(drawn), pages)  # some headers from a kept drawing
    monkeypatch.setattr(headerpartial, "_key", lambda values: None)
    every = make_site(hostile_build, tmp_path / "every", "", workers=workers, fresh=True)
    assert _tree(kept.site) == _tree(every.site)


def _partial(tmp_path: Path, header: str) -> tuple[headerpartial.HeaderPartial, jinja2.Template, list[str]]:
    """A HeaderPartial of a theme whose header is `header`, the page template calling
    it, and the names of the pages whose header the theme drew."""
    (tmp_path / "partials").mkdir(exist_ok=True)
    (tmp_path / "partials" / "header.html").write_text(header, encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(tmp_path)]))
    partial = headerpartial.HeaderPartial(env)
    drawn: list[str] = []
    template = partial._template
    partial._template = SimpleNamespace(render=lambda values: drawn.append(values["page"].title) or template.render(values))
    env.globals["attack_pipeline_header"] = partial.draw
    return partial, env.from_string("{{ attack_pipeline_header() }}"), drawn


def _context(url: str | None, title: str, meta: dict | None = None, extra: str = "", site: str = "Site") -> dict:
    page = SimpleNamespace(url=url, title=title, meta=meta or {}, extra=extra)
    return {"page": page, "config": {"site_name": site, "theme": {"features": []}}}


HEADER = '<a href="{{ page.url }}">{{ config.site_name }}</a><span>{% if page.meta and page.meta.title %}{{ page.meta.title }}{% else %}{{ page.title }}{% endif %}</span>{{ page.extra }}'


def _expected(context: dict) -> str:
    return jinja2.Environment().from_string(HEADER.replace("page.url", "page.url.rsplit('/', 2)[0]")).render(context)


def test_a_folder_header_is_drawn_twice_then_given_each_title(tmp_path):
    partial, page, drawn = _partial(tmp_path, HEADER.replace("page.url", "page.url.rsplit('/', 2)[0]"))
    pages = [_context("t/a/", "A"), _context("t/b/", "B <b>&"), _context("t/c/", "C"), _context("t/d/", "D", {"title": "Meta D"})]
    assert [page.render(c) for c in pages] == [_expected(c) for c in pages]
    assert drawn == ["A", "B <b>&"]  # the other two from the kept drawing


def test_a_header_that_differs_beyond_the_title_is_drawn_for_every_page(tmp_path):
    partial, page, drawn = _partial(tmp_path, HEADER.replace("page.url", "page.url.rsplit('/', 2)[0]"))
    pages = [_context("t/a/", "A", extra="x"), _context("t/b/", "B", extra="y"), _context("t/c/", "C", extra="y")]
    assert [page.render(c) for c in pages] == [_expected(c) for c in pages]
    assert drawn == ["A", "B", "C"]


def test_a_title_found_twice_or_empty_or_a_page_without_address_is_drawn_whole(tmp_path):
    partial, page, drawn = _partial(tmp_path, HEADER.replace("page.url", "page.url.rsplit('/', 2)[0] if page.url else ''"))
    pages = [_context("t/a/", "Site"), _context("t/b/", "Site"), _context("t/c/", ""), _context("t/d/", ""), _context(None, "N"),
             _context(None, "M"), _context("t/e/", "E"), _context("t/f/", "F"), _context("t/g/", "G")]
    rendered = [page.render(c) for c in pages]
    assert rendered[6:] == [_expected(c) for c in pages[6:]]
    assert drawn == ["Site", "Site", "", "", "N", "M", "E", "F"]  # G from the drawing E and F confirmed


def test_pages_of_another_folder_or_site_name_get_their_own_drawing(tmp_path):
    partial, page, drawn = _partial(tmp_path, HEADER.replace("page.url", "page.url.rsplit('/', 2)[0]"))
    pages = [_context("t/a/", "A"), _context("t/b/", "B"), _context("u/c/", "C"), _context("u/d/", "D"),
             _context("t/e/", "E", site="Other"), _context("t/f/", "F", site="Other"), _context("t/g/", "G"), _context("u/h/", "H")]
    assert [page.render(c) for c in pages] == [_expected(c) for c in pages]
    assert drawn == ["A", "B", "C", "D", "E", "F"]
