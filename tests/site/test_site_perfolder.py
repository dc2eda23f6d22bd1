"""The header drawn once per folder and given each page's title
(pipeline/site/perfolder.py): the same site as drawing it for every page."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from pipeline.site import perfolder
from pipeline.site.make import make_site


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("workers", [1, 2])
def test_the_site_is_the_one_with_every_header_drawn(hostile_build, tmp_path, monkeypatch, workers):
    """Hostile titles (markup, the site's name, quotes) included."""
    drawn: list[int] = []
    theme_template = perfolder.theme_template

    def counting(env, name):
        template = theme_template(env, name)
        return SimpleNamespace(render=lambda values: drawn.append(1) or template.render(values))

    monkeypatch.setattr(perfolder, "theme_template", counting)
    kept = make_site(hostile_build, tmp_path / "kept", "", workers=1, fresh=True)
    pages = kept.pages
    assert 0 < len(drawn) < pages, (len(drawn), pages)  # some headers from a kept drawing
    monkeypatch.setattr(perfolder, "_key", lambda page, config: None)
    every = make_site(hostile_build, tmp_path / "every", "", workers=workers, fresh=True)
    assert _tree(kept.site) == _tree(every.site)


def _partial(tmp_path: Path, header: str) -> tuple[perfolder.HeaderPartial, jinja2.Template, list[str]]:
    """A HeaderPartial of a theme whose header is `header`, the page template calling
    it, and the names of the pages whose header the theme drew."""
    (tmp_path / "partials").mkdir(exist_ok=True)
    (tmp_path / "partials" / "header.html").write_text(header, encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(tmp_path)]))
    partial = perfolder.HeaderPartial(env)
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


_BASE = (
    "<head>{% block styles %}<link href=\"{{ folder(page) }}/main.css\">{{ counted('styles') }}{% endblock %}</head>"
    "<body>{{ page.title }}{% block config %}{\"base\": \"{{ folder(page) }}\", \"x\": \"{{ page.extra }}\"}{{ counted('config') }}{% endblock %}"
    "{% block scripts %}<script src=\"{{ folder(page) }}/b.js\"></script>{{ counted('scripts') }}{% endblock %}</body>"
)


def test_the_blocks_of_a_folder_are_drawn_twice_then_kept(tmp_path):
    """material's blocks in the site's main.html: each kept per folder once two pages
    printed it the same; a block that differs beyond is drawn for every page; a block
    not named is always drawn."""
    from pipeline.site.theme import OVERRIDES

    (tmp_path / "base.html").write_text(_BASE, encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(OVERRIDES), str(tmp_path)]))
    blocks = perfolder.FolderBlocks()
    drawn: list[str] = []
    env.globals.update(
        attack_pipeline_kept=blocks.kept, attack_pipeline_keep=blocks.keep,
        counted=lambda name: drawn.append(name) or "", folder=lambda page: page.url.rsplit("/", 2)[0] if page.url else "",
    )
    main, plain = env.get_template("main.html"), jinja2.Environment(loader=jinja2.FileSystemLoader([str(tmp_path)])).get_template("base.html")
    plain.globals.update(counted=lambda name: "", folder=env.globals["folder"])
    pages = [_context("t/a/", "A", extra="1"), _context("t/b/", "B", extra="2"), _context("t/c/", "C", extra="3"),
             _context("u/d/", "D"), _context(None, "N"), _context(None, "M")]
    assert [main.render(c) for c in pages] == [plain.render(c) for c in pages]
    assert drawn.count("styles") == 2 + 1 + 2  # t: twice then kept; u: once; no address: each
    assert drawn.count("config") == 3 + 1 + 2  # t: differs beyond the folder, each drawn
    assert drawn.count("scripts") == 6  # not a block kept per folder
    other = env.from_string('{% set k = attack_pipeline_kept("footer") %}{% if k %}{{ k }}{% else %}{{ attack_pipeline_keep("footer", counted("footer") ~ "x") }}{% endif %}')
    assert [other.render(_context(f"t/{n}/", n)) for n in "xyz"] == ["x"] * 3
    assert drawn.count("footer") == 3  # a block not known to print the same per folder: never kept


def test_pages_share_a_drawing_only_at_one_depth_of_one_folder_below_every_linked_file():
    config = {"site_name": "S", "theme": {"features": []}, "extra_css": ["assets/stylesheets/x.css"],
              "extra_javascript": [SimpleNamespace(path="js/y.js")]}
    key = lambda url: perfolder._key(SimpleNamespace(url=url), config)  # noqa: E731
    assert key("detections/sigma/a/") == key("detections/sigma/b/") == ("detections/sigma", 3, "S")
    assert key("") != key("about/") == key("contact/")  # the home page: links one level up less
    assert key("about.html") == key("") != key("x/about.html")
    assert key("assets/") is None and key("js/") is None and key(None) is None  # above a linked file
    assert key("jsx/") is not None
    assert perfolder._key(SimpleNamespace(url="a/"), {**config, "theme": {"features": ["navigation.tabs.sticky"]}}) is None
