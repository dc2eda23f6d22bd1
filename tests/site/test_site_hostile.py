"""A site built from hostile input: in headless Chromium no smuggled script runs (no
`window.__pwned` or `window.PWNED`, no dialog), on any page, in its title, navigation
or search results; no link has a `javascript:` address, no element carries an event
handler, no smuggled element exists; and every file of the site lands inside the site
folder."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import orjson
import site_hostile

FLAGS = "window.__pwned === undefined && window.PWNED === undefined"
# Elements only a smuggled payload makes: an image of `x`, an SVG with a handler, an
# inline script that names a flag, a second <title> (one that broke out of the first).
READY = "(() => { const m = document.querySelector('.md-search-result__meta'); return m && !/Initializing/i.test(m.textContent); })()"
INJECTED = """[
  ...[...document.querySelectorAll('img')].filter(e => e.getAttribute('src') === 'x').map(e => 'img ' + e.outerHTML),
  ...[...document.querySelectorAll('script')].filter(e => /pwned/i.test(e.textContent)).map(e => 'script ' + e.textContent),
  ...(document.querySelectorAll('title:not(svg title)').length === 1 && document.title !== undefined ? [] : ['title count ' + document.querySelectorAll('title:not(svg title)').length]),
  ...(document.querySelector('head > title') ? [] : ['no title in head']),
  ...[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
  ...[...document.querySelectorAll('[autofocus]')].map(e => 'autofocus ' + e.tagName),
]"""


def _pages(site: Path) -> list[str]:
    """Every page of the site, the 404 page among them."""
    pages = sorted(p.relative_to(site).parent.as_posix() + "/" for p in site.rglob("index.html"))
    return pages + ["404.html"] if (site / "404.html").is_file() else pages


class _Scan(HTMLParser):
    """What the HTML parser finds that only a payload would make (the browser's own parse
    is checked in Chromium; this one covers every HTML file without a browser)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.titles = 0  # the document's <title>s (an SVG picture's own titles are its tooltips)
        self._script = False
        self._svg = 0

    def handle_starttag(self, tag, attrs):
        self._svg += tag == "svg"
        self.titles += tag == "title" and not self._svg
        self._script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") or name == "autofocus":
                self.found.append(f"<{tag} {name}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(("javascript:", "vbscript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.found.append("<img src=x>")

    def handle_endtag(self, tag):
        self._script = False
        self._svg -= tag == "svg" and self._svg > 0

    def handle_data(self, data):
        if self._script and "pwned" in data.lower():
            self.found.append(f"<script>{data[:80]}")


def test_hostile_title_reaches_the_site_as_text(hostile_build):
    """The fixture does what it claims: the breakout title is the H1 of a rule page."""
    pages = [p for p in (Path(os.path.realpath(hostile_build)) / "docs").rglob("*.md") if "Pwn &lt;/title&gt;" in p.read_text(encoding="utf-8")]
    assert pages


def test_no_payload_in_any_html_file(hostile_site):
    site = Path(os.path.realpath(hostile_site))
    files = sorted(site.rglob("*.html"))
    assert len(files) >= 20
    for path in files:
        scan = _Scan()
        scan.feed(path.read_text(encoding="utf-8"))
        scan.close()
        assert scan.found == [] and scan.titles == 1, (path.relative_to(site), scan.found, scan.titles)


def test_search_index_holds_text_only(hostile_site):
    """Material shows search results as HTML: the index may hold its own few tags
    around text, and never a tag or an unescaped `<` from a page's text."""
    site = Path(os.path.realpath(hostile_site))
    docs = orjson.loads((site / "search" / "search_index.json").read_bytes())["docs"]
    allowed = re.compile(r"</?(?:p|code|pre|li|ol|ul|sub|sup)>")
    assert any("PWNED" in d["title"] + d["text"] for d in docs), "the hostile text is searchable"
    for d in docs:
        for key in ("title", "text"):
            assert "<" not in allowed.sub("", d[key]), (d["location"], key, d[key][:200])


def test_no_file_outside_the_site_folder(hostile_build, hostile_site):
    root = hostile_build.parent
    allowed = {
        root / "out", root / ".out.builds", root / "out.lock", root / ".out.lock", root / "site", root / ".site.builds",
        root / ".site.lock", root / ".site.cache", root / "mirror", root / "sources.toml",
    }
    assert {p for p in root.iterdir()} <= allowed, sorted(map(str, root.iterdir()))
    # The page cache beside the site holds its index and packs named by build and process
    # alone: no hostile id in a path.
    entries = [p.relative_to(root / ".site.cache").as_posix() for p in (root / ".site.cache").rglob("*")]
    assert "index.json" in entries and len(entries) > 1
    assert all(re.fullmatch(r"index\.json|[0-9a-f]{12}-(\d+|compacted)\.pack", p) for p in entries), entries
    assert not Path("/tmp/absolute-map.md").exists() and not Path("/tmp/absolute-rule.md").exists()
    real = Path(os.path.realpath(hostile_site))
    for p in real.rglob("*"):
        assert Path(os.path.realpath(p)).is_relative_to(real), p
        assert "\x00" not in p.name
    # The hostile ids got pages, under slug + hash names.
    assert len(list((real / "controls" / "azure").iterdir())) >= len(site_hostile.BAD_IDS)
    # No character of a hostile id survives into a path that could end an attribute or a tag.
    assert not [p for p in real.rglob("*") if re.search(r"[<>\"'`&\\:|?*\s]", p.relative_to(real).as_posix())]


def test_no_script_runs_in_the_browser(hostile_site, browser, serve, artifacts_dir):
    url = serve(hostile_site)
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pages = _pages(Path(os.path.realpath(hostile_site)))
    assert len(pages) >= 15 and "techniques/T1046/" in pages
    checked = 0
    try:
        for rel in pages:
            page.goto(url + rel.removeprefix("./"), wait_until="networkidle")
            page.mouse.move(1, 1)
            page.mouse.move(600, 300)  # over the content: an injected onmouseover would fire
            assert page.evaluate(FLAGS), rel
            assert page.evaluate(INJECTED) == [], rel
            hrefs = page.eval_on_selector_all("[href], [src], [action], [formaction]", "els => els.map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || e.getAttribute('formaction') || '')")
            assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:text/html", "vbscript:"))], rel
            handlers = page.evaluate("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))")
            assert handlers == [], (rel, handlers)
            # The hostile text is on the page as text.
            if rel in ("techniques/T1046/", "tactics/TA0007/"):
                assert "<script>" in page.locator("article").inner_text(), rel
            if rel.startswith("techniques/T1018/"):
                assert "</title><img src=x" in page.title(), (rel, page.title())
            checked += 1
        page.goto(url + "detections/sigma/", wait_until="networkidle")
        page.locator("a", has_text="Pwn </title>").first.click()
        page.wait_for_load_state("networkidle")
        assert page.title().startswith(site_hostile.TITLE_BREAK + " - "), page.title()
        assert page.locator("h1").first.inner_text() == site_hostile.TITLE_BREAK
        assert page.evaluate(FLAGS) and page.evaluate(INJECTED) == []
        page.goto(url + "techniques/T1046/", wait_until="networkidle")
        page.screenshot(path=str(artifacts_dir / "site-hostile-T1046.png"))
    finally:
        page.close()
    assert dialogs == []
    assert checked == len(pages)


def test_search_results_stay_inert(hostile_site, browser, serve):
    url = serve(hostile_site)
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(url, wait_until="networkidle")
        # A query typed while the search worker still builds its index is dropped.
        page.wait_for_function(READY, timeout=120_000)
        box = page.locator("input.md-search__input")
        meta = page.locator(".md-search-result__meta")
        for query in ("Pwn", "onmouseover", "onerror", "Scan", "Hostile"):
            box.fill("")
            meta.filter(has_text="Type to start searching").wait_for(timeout=30_000)
            box.focus()
            box.press_sequentially(query, delay=20)  # material searches on key events
            meta.filter(has_text=re.compile(r"^\d+ matching documents?$")).wait_for(timeout=30_000)
            assert page.locator(".md-search-result__item").count() >= 1, query
            page.mouse.move(300, 200)
            page.mouse.move(400, 300)
            assert page.evaluate(FLAGS), query
            assert page.evaluate(INJECTED) == [], query
    finally:
        page.close()
    assert dialogs == []


def test_pictures_show_hostile_names_as_text(hostile_site, browser, serve, artifacts_dir):
    """The heatmaps of the home and group pages, the coverage charts and the group's
    title: a technique or group name that breaks out of an element or attribute is
    their text and tooltip, and nothing of it is an element or runs."""
    url = serve(hostile_site)
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    cell = "(sel) => { const e = document.querySelector(sel); return e && {text: e.textContent, title: e.getAttribute('title')}; }"
    try:
        for rel in ("", f"groups/{site_hostile.GROUP_ID}/"):
            page.goto(url + rel, wait_until="networkidle")
            figures = page.locator("figure.atk-heatmap")
            assert figures.count() >= 1, rel
            shown = page.evaluate(cell, "figure.atk-heatmap .atk-cell[data-technique='T1018']")
            assert shown["text"] == site_hostile.T1018_NAME, rel
            assert shown["title"].startswith(f"T1018 {site_hostile.T1018_NAME}"), rel
            # Inside the pictures: links and cells only, no element a payload makes.
            smuggled = page.eval_on_selector_all(
                "figure.atk-heatmap *, svg.atk-chart *",
                "els => els.filter(e => ['SCRIPT', 'IMG', 'IFRAME', 'TEXTAREA', 'STYLE'].includes(e.tagName) || e.tagName.toLowerCase() === 'title' && !e.closest('svg') || [...e.attributes].some(a => a.name.startsWith('on') || a.name === 'autofocus')).map(e => e.outerHTML.slice(0, 80))",
            )
            assert smuggled == [], (rel, smuggled)
            page.mouse.move(1, 1)
            box = figures.first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 200))
            assert page.evaluate(FLAGS), rel
            assert page.evaluate(INJECTED) == [], rel
        # The group page: its title and heading are the name, as text.
        assert page.locator("h1").first.inner_text() == f"{site_hostile.GROUP_ID} {site_hostile.GROUP_NAME}"
        assert page.title().startswith(f"{site_hostile.GROUP_ID} {site_hostile.GROUP_NAME}")
        page.screenshot(path=str(artifacts_dir / "site-hostile-group.png"))
    finally:
        page.close()
    assert dialogs == []
