"""The site's page cache (pipeline/site/pagecache.py): a page is converted and written
again only when something it reads changed, and a site made from the cache is byte for
byte the site made without it."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.site import convert, packs, pagecache, parallel
from pipeline.site.artifacts import rewrite_links
from pipeline.site.make import make_site
from pipeline.site.navigator import navigator_links

SITE_URL = "https://soc.example.org/attack/"


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


class _Made:
    """Counts the pages converted and written in this process (one worker)."""

    def __init__(self, monkeypatch) -> None:
        self.converted: list[str] = []
        self.written: list[str] = []
        render, build_page = convert.Converter.render, parallel.write_page

        def counted_render(conv, page, files):
            self.converted.append(page.file.src_uri)
            return render(conv, page, files)

        def counted_build(page, *args, **kwargs):
            self.written.append(page.file.src_uri)
            return build_page(page, *args, **kwargs)

        monkeypatch.setattr(convert.Converter, "render", counted_render)
        monkeypatch.setattr(parallel, "write_page", counted_build)

    def reset(self) -> None:
        self.converted.clear()
        self.written.clear()


def _copy(build: Path, to: Path) -> Path:
    shutil.copytree(os.path.realpath(build), to)
    return to


def _entries(site: Path) -> set[str]:
    return pagecache.PageCache.open(pagecache.folder_for(site)).keys()


def _folders_out_of_nav(pages: list[str]) -> dict[str, list[str]]:
    """The pages out of the navigation (`config.NOT_IN_NAV`: controls, detections of a
    source) by folder, in the order given."""
    folders: dict[str, list[str]] = {}
    for page in pages:
        if page.count("/") == 2 and page.startswith(("controls/", "detections/")):
            folders.setdefault(page.rsplit("/", 1)[0], []).append(page)
    return folders


def test_a_site_made_again_makes_no_page_and_is_the_same(hostile_build, tmp_path, monkeypatch):
    made = _Made(monkeypatch)
    first = make_site(hostile_build, tmp_path / "site", SITE_URL, workers=1)
    expected = _tree(first.site)
    assert len(made.converted) == first.pages and len(made.written) == first.pages
    kept = _entries(tmp_path / "site")
    folders = _folders_out_of_nav(made.written)
    assert len(folders) >= 3
    assert len(kept) == 2 * first.pages + len(folders)  # each page's two steps, each folder's navigation

    made.reset()
    again = make_site(hostile_build, tmp_path / "site", SITE_URL, workers=1)
    assert made.converted == [] and made.written == []
    assert _tree(again.site) == expected
    assert _entries(tmp_path / "site") == kept

    # forked workers read the same cache
    assert _tree(make_site(hostile_build, tmp_path / "site", SITE_URL, workers=2).site) == expected


def test_fresh_makes_every_page_again(hostile_build, tmp_path, monkeypatch):
    make_site(hostile_build, tmp_path / "site", SITE_URL, workers=1)
    made = _Made(monkeypatch)
    again = make_site(hostile_build, tmp_path / "site", SITE_URL, workers=1, fresh=True)
    assert len(made.converted) == again.pages and len(made.written) == again.pages


def test_an_edited_page_alone_is_made_again(hostile_build, tmp_path, monkeypatch):
    """A page's body changed: that page is converted and written again, every other
    page comes from the cache, and the site is the one made without a cache; the cache
    then holds only what the new site used."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    before = _entries(site)
    edited = _copy(hostile_build, tmp_path / "edited")
    page = edited / "docs" / "techniques" / "T1046.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nA paragraph the analysts added.\n", encoding="utf-8")

    made = _Made(monkeypatch)
    result = make_site(edited, site, SITE_URL, workers=1)
    assert made.converted == ["techniques/T1046.md"] and made.written == ["techniques/T1046.md"]
    fresh = make_site(edited, tmp_path / "without-cache", SITE_URL, workers=1)
    assert _tree(result.site) == _tree(fresh.site)
    after = _entries(site)
    assert len(after) == len(before) and len(after - before) == 2


def test_a_new_title_in_the_navigation_writes_the_pages_that_print_it(hostile_build, tmp_path, monkeypatch):
    """A tactic page (titled in the navigation by its heading) renamed is converted
    again alone; every page of the navigation prints its branch and is written again.
    A page out of the navigation prints only the top of it (the sections, pruned), which
    did not change: only the first page of each of their folders is written again, which
    draws the folder's navigation, and the others are the ones kept."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    edited = _copy(hostile_build, tmp_path / "edited")
    page = sorted((edited / "docs" / "tactics").glob("*.md"))[0]
    text = page.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line.startswith("# "))
    page.write_text(text.replace(first, first + " (renamed)", 1), encoding="utf-8")

    every = _Made(monkeypatch)
    make_site(edited, tmp_path / "every", SITE_URL, workers=1)
    folders = _folders_out_of_nav(every.written)
    in_nav = [p for p in every.written if not any(p in pages for pages in folders.values())]
    firsts = [pages[0] for pages in folders.values()]
    made = _Made(monkeypatch)
    result = make_site(edited, site, SITE_URL, workers=1)
    assert made.converted == [f"tactics/{page.name}"]
    assert sorted(made.written) == sorted(in_nav + firsts) and len(made.written) < result.pages
    assert (result.converted, result.written) == (1, len(made.written))
    made.reset()
    assert _tree(result.site) == _tree(make_site(edited, tmp_path / "without-cache", SITE_URL, workers=1).site)


def test_a_renamed_section_writes_every_page_again(hostile_build, tmp_path, monkeypatch):
    """A section of the navigation's top renamed (a matrix, named by the index): every
    page prints it, those out of the navigation too, so every page is written again, and
    the site is the one made without a cache."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    edited = _copy(hostile_build, tmp_path / "edited")
    index = edited / "docs" / "index.md"
    text = index.read_text(encoding="utf-8")
    head, tactics = text.split("## Tactics\n", 1)
    assert tactics.count("### Test Matrix\n") == 1
    index.write_text(head + "## Tactics\n" + tactics.replace("### Test Matrix\n", "### Test Matrix renamed\n"), encoding="utf-8")

    made = _Made(monkeypatch)
    result = make_site(edited, site, SITE_URL, workers=1)
    assert made.converted == ["index.md"] and len(made.written) == result.pages
    made.reset()
    assert _tree(result.site) == _tree(make_site(edited, tmp_path / "without-cache", SITE_URL, workers=1).site)


def test_a_page_holding_the_name_mark_is_printed_as_it_is(hostile_build, tmp_path, monkeypatch):
    """Pages are written with a mark for the site's name; a page whose own text holds
    the mark (its first character, a private-use one) makes the build print the name as
    it is and keep no written page: the page shows its text, not the site's name."""
    from pipeline.site.pagecache import NAME_MARK

    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    edited = _copy(hostile_build, tmp_path / "edited")
    page = edited / "docs" / "controls" / "ZZ-1.md"
    page.write_text(f"# ZZ-1 A control\n\nIt says {NAME_MARK} here.\n", encoding="utf-8")
    before = _entries(site)

    result = make_site(edited, site, SITE_URL, workers=1)
    assert _tree(result.site) == _tree(make_site(edited, tmp_path / "without-cache", SITE_URL, workers=1).site)
    html = (result.site / "controls" / "ZZ-1" / "index.html").read_text(encoding="utf-8")
    assert "It says \ue000attack-pipeline site name&amp;\ue001 here." in html
    name = orjson.loads((edited / "manifest.json").read_bytes())["attack_version"]
    assert html.count(f"ATT&amp;CK {name} coverage") == 2 and NAME_MARK not in html.replace("It says " + NAME_MARK, "")
    # No written page kept for it, only its conversion (and the others' kept ones, used).
    assert len(_entries(site) - before) == 1


def test_another_address_makes_only_the_pages_that_link_the_navigator(hostile_build, tmp_path, monkeypatch):
    """`site --site-url` on the same build: the pages that link the Navigator (their
    Markdown names the address) are converted and written again, no other (the others'
    canonical links get the new address from the cache); the site is the one made for
    that address without a cache."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    made = _Made(monkeypatch)
    other = "https://intranet.example.net/coverage/"
    result = make_site(hostile_build, site, other, workers=1)
    assert sorted(made.written) == sorted(made.converted)
    docs = Path(os.path.realpath(hostile_build)) / "docs"

    def markdown(src: str, url: str) -> str:
        return navigator_links(rewrite_links((docs / src).read_text(encoding="utf-8"), src), src, url, "")

    linking = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    linking = {src for src in linking if markdown(src, SITE_URL) != markdown(src, other)}
    assert linking and sorted(made.converted) == sorted(linking) and len(linking) < result.pages
    made.reset()
    expected = _tree(make_site(hostile_build, tmp_path / "without-cache", other, workers=1).site)
    assert _tree(result.site) == expected


def test_a_site_without_an_address_writes_every_page_again(hostile_build, tmp_path, monkeypatch):
    """Without an address a page has no canonical link: a site made with one and then
    without (and back) writes every page again, and each equals the site made without
    a cache."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    made = _Made(monkeypatch)
    bare = make_site(hostile_build, site, "", workers=1)
    assert len(made.written) == bare.pages
    assert _tree(bare.site) == _tree(make_site(hostile_build, tmp_path / "bare", "", workers=1).site)
    made.reset()
    back = make_site(hostile_build, site, SITE_URL, workers=1)
    assert len(made.written) == back.pages
    assert _tree(back.site) == _tree(make_site(hostile_build, tmp_path / "addressed", SITE_URL, workers=1).site)


@pytest.mark.parametrize("canonical", ["https://soc.example.org/attack/techniques/T1046/", 'https://x.test/"><script>/'])
def test_a_written_page_is_kept_without_its_address(tmp_path, canonical):
    """The canonical link's address is cut out of a kept page and the one asked for is
    put back; a page whose HTML does not hold its canonical link exactly once is not
    kept, nor is one asked for with an address when kept without (or the reverse)."""
    reuse = pagecache.Reuse(pagecache.PageCache(tmp_path / "cache"), "c", "w")
    tag = f'<link rel="canonical" href="{canonical}">'.encode()
    html = b"<html><head>" + tag + b"</head><body>" + canonical.encode() + b"</body></html>"
    reuse.keep_written("a" * 64, [{"location": "x/"}], html, canonical)
    stored = reuse.cache.get("a" * 64)
    assert stored.count(canonical.encode()) == 1  # the body's copy, not the link's
    elsewhere = "https://intranet.example.net/techniques/T1046/"
    assert reuse.written("a" * 64, canonical) == ([{"location": "x/"}], html)
    assert reuse.written("a" * 64, elsewhere) == ([{"location": "x/"}], html.replace(tag, tag.replace(canonical.encode(), elsewhere.encode())))
    assert reuse.written("a" * 64, None) is None
    reuse.keep_written("b" * 64, [], html + tag, canonical)  # twice: not kept
    reuse.keep_written("c" * 64, [], html, "https://other.test/")  # not its link: not kept
    assert reuse.cache.get("b" * 64) is None and reuse.cache.get("c" * 64) is None
    reuse.keep_written("d" * 64, [], html, None)  # no address: kept as it is
    assert reuse.written("d" * 64, None) == ([], html) and reuse.written("d" * 64, canonical) is None
    reuse.keep_written("e" * 64, [], None, canonical)  # no file: kept, whatever the address
    assert reuse.written("e" * 64, elsewhere) == ([], None)


def _next_release(build: Path, to: Path) -> tuple[Path, set[str]]:
    """A copy of `build` as the next ATT&CK release would make it: another release
    number (the site's name) and date (every page's date in the sitemap), the pages that
    print the release number changed, and a new technique in the navigation (its page,
    a row on its tactic's page). Returns the copy and the pages whose Markdown changed."""
    release = _copy(build, to)
    manifest = release / "manifest.json"
    doc = orjson.loads(manifest.read_bytes())
    old, new = doc["attack_version"], "99.0"
    manifest.write_bytes(orjson.dumps({**doc, "attack_version": new}))
    for report in (release / "reports").glob("attack-*.json"):
        data = orjson.loads(report.read_bytes())
        report.write_bytes(orjson.dumps({**data, "released": "2030-04-28T12:00:00.000Z"}))
    docs = release / "docs"
    changed = set()
    for page in docs.rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        if f"ATT&CK {old}" in text:
            page.write_text(text.replace(f"ATT&CK {old}", f"ATT&CK {new}"), encoding="utf-8")
            changed.add(page.relative_to(docs).as_posix())
    tactic = sorted((docs / "tactics").glob("*.md"))[0]
    text = tactic.read_text(encoding="utf-8")
    header = "|-|-|-|-|-|\n"
    assert "## Techniques" in text and header in text
    row = "| [T1690](../techniques/T1690.md) | Impair Defenses | neither (gap) | 0 | 0 |\n"
    tactic.write_text(text.replace(header, header + row, 1), encoding="utf-8")
    (docs / "techniques" / "T1690.md").write_text("# T1690 Impair Defenses\n\nNew in this release.\n", encoding="utf-8")
    changed |= {f"tactics/{tactic.name}", "techniques/T1690.md"}
    return release, changed


def test_a_new_release_converts_only_the_pages_it_changed(hostile_build, tmp_path, monkeypatch):
    """Release day: a new release number and date and a new technique in the navigation
    change every page's template (the site's name, the navigation) but not the Markdown
    of most pages; only the changed pages are converted again. The pages of the
    navigation are written again (their branch changed), and of the others only those
    converted again and the first of each folder (which draws the folder's navigation):
    the site's name is put into a kept page. The site (sitemap dates included) is the one
    made without a cache."""
    site = tmp_path / "site"
    every = _Made(monkeypatch)
    make_site(hostile_build, site, SITE_URL, workers=1)
    folders = _folders_out_of_nav(every.written)
    release, changed = _next_release(hostile_build, tmp_path / "release")
    made = _Made(monkeypatch)
    result = make_site(release, site, SITE_URL, workers=1)
    assert sorted(made.converted) == sorted(changed) and len(changed) < result.pages
    out_of_nav = {p for pages in folders.values() for p in pages}
    kept = sorted(out_of_nav - set(made.written))
    assert kept and not set(kept) & changed
    assert len(made.written) == result.pages - len(kept)
    assert [pages[0] in made.written for pages in folders.values()] == [True] * len(folders)
    made.reset()
    expected = _tree(make_site(release, tmp_path / "without-cache", SITE_URL, workers=1).site)
    assert _tree(result.site) == expected
    sitemap = gzip.decompress((result.site / "sitemap.xml.gz").read_bytes()).decode()
    assert "<lastmod>2030-04-28</lastmod>" in sitemap


def test_a_new_release_in_two_workers_is_the_site_made_without_a_cache(hostile_build, tmp_path):
    """Release day with two workers: each draws a folder's navigation for itself, or
    takes it kept from the last site; the site is the one made without a cache, and
    made again from the same release it makes no page."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=2)
    release, changed = _next_release(hostile_build, tmp_path / "release")
    result = make_site(release, site, SITE_URL, workers=2)
    assert result.converted == len(changed) and result.written < result.pages
    expected = _tree(make_site(release, tmp_path / "without-cache", SITE_URL, workers=2).site)
    assert _tree(result.site) == expected
    again = make_site(release, site, SITE_URL, workers=2)
    assert (again.converted, again.written) == (0, 0) and _tree(again.site) == expected


def test_an_unreadable_entry_is_made_again(hostile_build, tmp_path, monkeypatch):
    site = tmp_path / "site"
    first = make_site(hostile_build, site, SITE_URL, workers=1)
    expected = _tree(first.site)
    folder = pagecache.folder_for(site)
    for n, (name, offset, length) in enumerate(sorted(packs.read_index(folder).values())):
        with open(folder / name, "r+b") as pack:  # its frame's start, or its checksum at the end
            pack.seek(offset if n % 2 else offset + length - 4)
            pack.write(b"not zstd" if n % 2 else b"\0\0\0\0")
    made = _Made(monkeypatch)
    again = make_site(hostile_build, site, SITE_URL, workers=1)
    assert len(made.converted) == again.pages and len(made.written) == again.pages
    assert _tree(again.site) == expected


def test_a_failed_site_build_keeps_no_page_that_warned(hostile_build, tmp_path, monkeypatch):
    """A page with a broken link fails the build; its conversion is not kept (the next
    build must see the warning again), while the pages made meanwhile are."""
    from pipeline.core.errors import PipelineError

    broken = _copy(hostile_build, tmp_path / "broken")
    page = broken / "docs" / "techniques" / "T1046.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[gone](../techniques/T9999.md)\n", encoding="utf-8")
    site = tmp_path / "site"
    for _ in range(2):
        made = _Made(monkeypatch)
        with pytest.raises(PipelineError, match="T9999.md"):
            make_site(broken, site, workers=1)
        assert "techniques/T1046.md" in made.converted
        monkeypatch.undo()
    assert made.converted == ["techniques/T1046.md"]


def test_a_cache_that_cannot_be_written_costs_only_speed(hostile_build, tmp_path, monkeypatch):
    """A full disk, or a file where the cache's folder would be: every page is made each
    time, the site is the same, and nothing is said (only speed is lost)."""
    import errno

    expected = _tree(make_site(hostile_build, tmp_path / "reference", SITE_URL, workers=1).site)
    blocked = tmp_path / "blocked"
    pagecache.folder_for(blocked).write_text("not a folder")

    def full(fd, parts):
        """A full disk: the first bytes of a record go in, then no more."""
        os.write(fd, b"".join(parts)[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    for site, patch in ((blocked, False), (tmp_path / "full", True)):
        if patch:
            monkeypatch.setattr(packs, "_append", full)
        made = _Made(monkeypatch)
        for _ in range(2):
            made.reset()
            result = make_site(hostile_build, site, SITE_URL, workers=1)
            assert len(made.converted) == len(made.written) == result.pages
            assert _tree(result.site) == expected
        monkeypatch.undo()
    assert pagecache.folder_for(blocked).read_text() == "not a folder"
    assert _entries(tmp_path / "full") == set()
    assert [p.name for p in pagecache.folder_for(tmp_path / "full").rglob("*")] == [packs.INDEX]


def test_the_cli_makes_every_page_again_when_asked(hostile_build, tmp_path, monkeypatch):
    site = tmp_path / "site"
    runner = CliRunner()
    assert runner.invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(site)]).exit_code == 0
    from pipeline.site import make

    monkeypatch.setattr(make, "default_workers", lambda: 1)
    made = _Made(monkeypatch)
    assert runner.invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(site)]).exit_code == 0
    assert made.converted == []
    r = runner.invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(site), "--fresh"])
    assert r.exit_code == 0, r.output
    assert made.converted and len(made.converted) == len(made.written)


def test_a_page_out_of_the_navigation_added_makes_only_itself(hostile_build, tmp_path, monkeypatch):
    """A control page added (a new row of a mapping table, say): it is converted and
    written, no other page is (no page links it, and pages out of the navigation are in
    no other page's template), and the site is the one made without a cache."""
    site = tmp_path / "site"
    make_site(hostile_build, site, SITE_URL, workers=1)
    edited = _copy(hostile_build, tmp_path / "edited")
    (edited / "docs" / "controls" / "ZZ-1.md").write_text("# ZZ-1 A control added\n\nIt maps nothing yet.\n", encoding="utf-8")

    made = _Made(monkeypatch)
    result = make_site(edited, site, SITE_URL, workers=1)
    assert made.converted == ["controls/ZZ-1.md"] and made.written == ["controls/ZZ-1.md"]
    made.reset()
    assert _tree(result.site) == _tree(make_site(edited, tmp_path / "without-cache", SITE_URL, workers=1).site)


class _File:
    def __init__(self, src_uri: str, url: str, inclusion: str = "INCLUDED") -> None:
        self.src_uri, self.url, self.dest_uri = src_uri, url, url + "index.html"
        self.inclusion = type("Inclusion", (), {"name": inclusion})()


class _Files:
    def __init__(self, *files: _File) -> None:
        self.by_path = {f.src_uri: f for f in files}

    def get_file_from_path(self, uri: str):
        return self.by_path.get(uri)


class _Page:
    is_homepage = False

    def __init__(self, meta: dict | None = None) -> None:
        self.file = _File("x.md", "x/")
        self.markdown = "# x"
        self.meta = meta or {}


def test_a_conversion_holds_while_what_it_looked_up_is_found_again(tmp_path):
    """A kept conversion names the files its links looked up; it is used only while
    each is found again at the same address (and a file that was missing still is)."""
    reuse = pagecache.Reuse(pagecache.PageCache(tmp_path / "cache"), "c", "w")
    files = _Files(_File("a.md", "a/"), _File("b.md", "b/"))
    key = reuse.converted_key(_Page())
    with pagecache.looking_up(files) as looked_up:
        files.get_file_from_path("a.md")
        files.get_file_from_path("gone.md")
    assert looked_up == {"a.md": ["a/", "INCLUDED"], "gone.md": None}
    assert "get_file_from_path" not in vars(files)  # the files are as they were
    ident = reuse.keep_converted(key, {"content": "<p>x</p>"}, looked_up)
    assert reuse.converted(key, files) == ({"content": "<p>x</p>"}, ident)
    assert reuse.converted(key, _Files(_File("a.md", "a/"))) is not None  # b.md was not looked up
    assert reuse.converted(key, _Files(_File("a.md", "elsewhere/"))) is None
    assert reuse.converted(key, _Files(_File("a.md", "a/", "NOT_IN_NAV"))) is None
    assert reuse.converted(key, _Files(_File("a.md", "a/"), _File("gone.md", "gone/"))) is None
    assert reuse.converted(key, _Files()) is None
    assert pagecache.Reuse(reuse.cache, "c", "w", read=False).converted(key, files) is None
    assert reuse.keep_converted(key, {}, looked_up, keep=False) == ident


def test_a_key_names_what_a_page_reads():
    """Equal values, equal digests; front matter JSON cannot hold is never kept."""
    assert pagecache.digest("a", {"x": 1, "y": [2]}) == pagecache.digest("a", {"y": [2], "x": 1})
    assert pagecache.digest("a", 1) != pagecache.digest("a", "1")
    reuse = pagecache.Reuse(pagecache.PageCache(Path("/nonexistent")), "c", "w")
    assert reuse.converted_key(_Page()) == reuse.converted_key(_Page())
    assert reuse.converted_key(_Page({"when": object()})) is None
    assert pagecache.Reuse(reuse.cache, "c2", "w").converted_key(_Page()) != reuse.converted_key(_Page())
    # its place in the navigation: the title given there, the home page
    titled, home = _Page(), _Page()
    titled.title, home.is_homepage = "Named in the navigation", True
    assert len({reuse.converted_key(p) for p in (_Page(), titled, home)}) == 3
    assert reuse.written_key("nav", None) is None and reuse.written_key(None, "k") is None


def test_a_half_written_or_damaged_entry_is_a_miss(tmp_path):
    """Entries are appended to a pack: one a killed build left half written, or one
    damaged since, is not read back (each is one zstd frame with its size and checksum)."""
    cache = pagecache.PageCache(tmp_path / "cache")
    data = b"<html>" + bytes(range(256)) * 64 + b"</html>"
    cache.put("ab" + "0" * 62, data)
    assert cache.get("ab" + "0" * 62) == data
    name, offset, length = cache._index["ab" + "0" * 62]
    path = cache.root / name
    whole = path.read_bytes()
    for cut in (0, 1, offset, offset + length // 2, offset + length - 1):
        path.write_bytes(whole[:cut])
        assert cache.get("ab" + "0" * 62) is None
    damaged = bytearray(whole)
    damaged[offset + length // 2] ^= 0x40
    path.write_bytes(bytes(damaged))
    assert cache.get("ab" + "0" * 62) is None
    path.write_bytes(whole)
    assert cache.get("ab" + "0" * 62) == data
    cache.close()


@settings(max_examples=500)
@given(st.text(alphabet="a./\\", max_size=10))
def test_a_plain_uri_is_its_own_posix_path(uri):
    """Where `plain_uri` says so, the uri is what mkdocs would look it up by; the lookup
    the page cache records finds what mkdocs' own finds, for any uri."""
    from pathlib import PurePath

    from mkdocs.structure.files import File, Files

    if pagecache.plain_uri(uri):
        assert PurePath(uri).as_posix() == uri
    files = Files([File(name, "/docs", "/site", True) for name in ("a", "a/a", "a/.a", "a\\a", "..", "a/../a", "...")])
    expected = files.get_file_from_path(uri)
    with pagecache.looking_up(files) as seen:
        assert files.get_file_from_path(uri) is expected
    assert list(seen) == [uri]
