"""A site built from hostile input: in headless Chromium no smuggled script runs (no
`window.__pwned`, no dialog), no link has a `javascript:` address, no element carries
an event handler, and every file of the site lands inside the site folder."""

from __future__ import annotations

import os
from pathlib import Path

import site_hostile


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).parent.as_posix() + "/" for p in site.rglob("index.html"))


def test_no_file_outside_the_site_folder(hostile_build, hostile_site):
    root = hostile_build.parent
    allowed = {root / "out", root / ".out.builds", root / "out.lock", root / ".out.lock", root / "site", root / ".site.builds", root / "mirror", root / "sources.toml"}
    assert {p for p in root.iterdir()} <= allowed, sorted(map(str, root.iterdir()))
    assert not Path("/tmp/absolute-map.md").exists() and not Path("/tmp/absolute-rule.md").exists()
    real = Path(os.path.realpath(hostile_site))
    for p in real.rglob("*"):
        assert Path(os.path.realpath(p)).is_relative_to(real), p
        assert "\x00" not in p.name
    # The hostile ids got pages, under slug + hash names.
    assert len(list((real / "controls" / "azure").iterdir())) >= len(site_hostile.BAD_IDS)


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
            assert page.evaluate("window.__pwned === undefined"), rel
            hrefs = page.eval_on_selector_all("[href], [src], [action], [formaction]", "els => els.map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || e.getAttribute('formaction') || '')")
            assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:text/html", "vbscript:"))], rel
            handlers = page.evaluate("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))")
            assert handlers == [], (rel, handlers)
            # The hostile text is on the page as text.
            if rel in ("techniques/T1046/", "tactics/TA0007/"):
                assert "<script>" in page.locator("article").inner_text(), rel
            checked += 1
        page.goto(url + "techniques/T1046/", wait_until="networkidle")
        page.screenshot(path=str(artifacts_dir / "site-hostile-T1046.png"))
    finally:
        page.close()
    assert dialogs == []
    assert checked == len(pages)
