"""`attack-pipeline site`: a site replaces the previous one whole or not at all, two
sites of one build are byte-identical, a missing build is one line telling the user to
build, and the site is offline (no address outside it but links)."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.site import search
from pipeline.site.artifacts import rewrite_links
from pipeline.site.config import REFERENCE_EXTENSIONS
from pipeline.site.make import make_site

SITE_URL = "https://soc.example.org/attack/"


def _tree(folder: Path) -> dict[str, str]:
    folder = Path(os.path.realpath(folder))
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_sites_of_one_build_are_identical(hostile_build, tmp_path):
    a = make_site(hostile_build, tmp_path / "a", SITE_URL)
    b = make_site(hostile_build, tmp_path / "b", SITE_URL)
    ta, tb = _tree(a.site), _tree(b.site)
    assert ta == tb
    assert "sitemap.xml.gz" in ta and "search/search_index.json" in ta
    sitemap = gzip.decompress((a.folder / "sitemap.xml.gz").read_bytes()).decode()
    assert f"<loc>{SITE_URL}techniques/T1046/</loc>" in sitemap
    assert a.search_index_bytes == (a.folder / "search" / "search_index.json").stat().st_size > 0


@pytest.fixture
def built_long_ago(hostile_build):
    """The hostile build dated 400 days back (it has no release report, so its date is its
    manifest's): a site that took today's date anywhere would show it."""
    manifest = hostile_build / "manifest.json"
    st = manifest.stat()
    os.utime(manifest, (st.st_atime, st.st_mtime - 400 * 86400))
    yield hostile_build
    os.utime(manifest, (st.st_atime, st.st_mtime))


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_the_sites_date_is_the_builds_without_touching_the_environment(built_long_ago, tmp_path, monkeypatch, workers):
    """The build's date reaches mkdocs through its config (site/hooks.py), not through a
    SOURCE_DATE_EPOCH written into this process: the sitemap's `lastmod` and its gzip
    header carry that date, and the environment is the same during and after — in
    mkdocs' own build, in one process and with the pages in two workers (where the
    `pre_page` hook that dates each page runs in a worker)."""
    from datetime import datetime, timezone

    from pipeline.site import make
    from pipeline.site.source import build_epoch

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # mkdocs-material sets this once, when its templates module is first imported: not ours.
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "true")
    before = dict(os.environ)
    seen = []
    real_run = make.run_mkdocs

    def run(*args, **kwargs):
        made = real_run(*args, **kwargs)
        seen.append(dict(os.environ))
        return made

    monkeypatch.setattr(make, "run_mkdocs", run)
    result = make_site(built_long_ago, tmp_path / "s", SITE_URL, workers=workers)
    assert seen == [before] and dict(os.environ) == before
    day = datetime.fromtimestamp(build_epoch(built_long_ago), timezone.utc)
    raw = (result.folder / "sitemap.xml.gz").read_bytes()
    lastmods = set(re.findall(r"<lastmod>([^<]*)</lastmod>", gzip.decompress(raw).decode()))
    assert lastmods == {day.strftime("%Y-%m-%d")}
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    assert int.from_bytes(raw[4:8], "little") == int(midnight.timestamp())  # gzip MTIME
def test_the_site_is_mkdocs_own_serial_site(hostile_build, tmp_path):
    """In this process or in two forked workers, with one Markdown instance per process,
    cached lexers and the extensions the pages use, the site is byte for byte mkdocs'
    own serial build with the extensions it was first made with: pages, search index
    (entries in page order), sitemap."""
    reference = make_site(hostile_build, tmp_path / "reference", SITE_URL, markdown_extensions=REFERENCE_EXTENSIONS, workers=0)
    expected = _tree(reference.site)
    for workers in (1, 2):
        made = make_site(hostile_build, tmp_path / f"workers-{workers}", SITE_URL, workers=workers)
        assert _tree(made.site) == expected, workers
        assert made.pages == reference.pages


def test_the_site_indexes_its_pages_without_their_excluded_content(hostile_build, tmp_path, monkeypatch):
    """The lean search index is the one in use (the same index as mkdocs' own build,
    above): it reads less HTML than the pages hold."""
    sizes: list[tuple[int, int]] = []
    lean = search.without_excluded_content

    def measured(html: str) -> str:
        out = lean(html)
        sizes.append((len(html), len(out)))
        return out

    monkeypatch.setattr(search, "without_excluded_content", measured)
    make_site(hostile_build, tmp_path / "site", SITE_URL, workers=1)
    assert sizes and sum(b for _, b in sizes) < sum(a for a, _ in sizes)


def test_a_broken_link_fails_with_two_workers(hostile_build, tmp_path):
    """A warning made in a worker (a link to nothing) reaches the parent and fails the
    build in strict mode, naming the link."""
    import shutil

    import pytest

    from pipeline.core.errors import PipelineError

    broken = tmp_path / "broken"
    shutil.copytree(os.path.realpath(hostile_build), broken)
    page = broken / "docs" / "techniques" / "T1046.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[gone](../techniques/T9999.md)\n", encoding="utf-8")
    with pytest.raises(PipelineError, match="T9999.md"):
        make_site(broken, tmp_path / "site", workers=2)
    assert not (tmp_path / "site").exists()


def test_failed_site_build_keeps_the_previous_site(hostile_build, tmp_path):
    import shutil

    good = make_site(hostile_build, tmp_path / "site")
    before = _tree(good.site)
    broken = tmp_path / "broken"
    shutil.copytree(os.path.realpath(hostile_build), broken)
    page = broken / "docs" / "techniques" / "T1046.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[gone](../../layers/enterprise/no-such-layer.json)\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["site", "--out", str(broken), "--site-dir", str(tmp_path / "site")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no-such-layer.json" in lines[0], result.output
    assert _tree(tmp_path / "site") == before
    assert not [p for p in (tmp_path / ".site.builds").iterdir() if p.name.startswith(".new-")]


def test_missing_build_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["site", "--out", str(tmp_path / "nothing"), "--site-dir", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'nothing'}: no finished build with docs here; run `attack-pipeline build --out {tmp_path / 'nothing'}` first"]
    assert not (tmp_path / "site").exists()


def test_site_is_offline_keeps_controls_out_of_nav_and_searches_them_by_title(hostile_site):
    import orjson

    site = Path(os.path.realpath(hostile_site))
    external = re.compile(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(?:https?:)?//""", re.I)
    for html in site.rglob("*.html"):
        assert not external.search(html.read_text(encoding="utf-8")), html
    css = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.css"))
    assert "fonts.googleapis" not in css and "fonts.gstatic" not in css
    # navigation.prune: a page's navigation holds its own branch and the top level.
    nav_of = {p: (site / p / "index.html").read_text(encoding="utf-8").split('<div class="md-content"')[0] for p in ("", "tactics/TA0007", "techniques/T1046")}
    assert "frameworks/azure/" in nav_of[""] and "T1046" not in nav_of[""]
    assert "../../techniques/T1046/" in nav_of["tactics/TA0007"]
    assert not [p for p, nav in nav_of.items() if "controls/" in nav or "detections/sigma/" in nav], "control and detection pages are not in the navigation"
    docs = orjson.loads((site / "search" / "search_index.json").read_bytes())["docs"]
    locations = {d["location"].split("#")[0] for d in docs}
    assert "techniques/T1046/" in locations
    assert "detections/sigma/" in locations, "a source's list page is searched"
    assert not [loc for loc in locations if loc.startswith("detections/") and loc.count("/") > 2]
    # Control and capability pages are searched by their title (id and name) alone,
    # technique pages boosted above them.
    controls = [d for d in docs if d["location"].startswith("controls/") and d["location"].count("/") > 2]
    assert {d["location"] for d in controls} >= {"controls/azure/azure_firewall/", "controls/azure/azure_sentinel/"}
    assert [d["text"] for d in controls if d["text"]] == []
    assert {d.get("boost") for d in docs if d["location"].startswith("techniques/")} == {2}
    assert {d.get("boost") for d in controls} == {None}


def test_artifact_links_are_rewritten_to_site_files():
    md = "[L](../../layers/enterprise/coverage.json) [T](../techniques/T1.md) [R](../../../reports/x.md) [X](../../other/y)"
    assert rewrite_links(md, "techniques/T1046.md") == "[L](../layers/enterprise/coverage.json) [T](../techniques/T1.md) [R](../../../reports/x.md) [X](../../other/y)"
    assert rewrite_links("[R](../../../reports/x.md)", "controls/nist/AC-4.md") == "[R](../../reports/x.md)"
    assert rewrite_links("[S](../stix/a.json)", "index.md") == "[S](stix/a.json)"


def test_site_downloads_are_the_build_files(hostile_build, hostile_site):
    build = Path(os.path.realpath(hostile_build))
    site = Path(os.path.realpath(hostile_site))
    for folder in ("layers", "reports", "stix", "tables"):
        files = [p for p in (build / folder).rglob("*") if p.is_file()]
        assert files, folder
        for p in files:
            assert (site / p.relative_to(build)).read_bytes() == p.read_bytes()


def test_serve_builds_a_missing_site_and_serves_it_on_loopback(hostile_build, tmp_path):
    import subprocess
    import sys
    import urllib.request

    site = tmp_path / "site"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--out", str(hostile_build), "--site-dir", str(site), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.match(r"serving .* at (http://127\.0\.0\.1:\d+/) ", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        with urllib.request.urlopen(m.group(1) + "techniques/T1046/", timeout=10) as r:
            assert r.status == 200 and b"T1046" in r.read()
        with urllib.request.urlopen(m.group(1) + "layers/enterprise/coverage.json", timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (site / "index.html").is_file()


def test_nav_reads_tactics_frameworks_and_sources(hostile_build):
    from pipeline.site.nav import read_nav

    nav = read_nav(Path(os.path.realpath(hostile_build)) / "docs")
    (matrix, tactics), = nav.matrices
    (tactic, techniques), = tactics
    assert tactic.page == "tactics/TA0007.md" and tactic.title == "TA0007 Discovery"
    assert [t.page for t in techniques] == ["techniques/T1046.md", "techniques/T1018.md"]  # the tactic page's order
    assert techniques[1].title.startswith("T1018 Remote System Discovery <script>")  # plain text, escaped by to_mkdocs
    assert "&lt;script&gt;" in str(nav.to_mkdocs()) and "<script>" not in str(nav.to_mkdocs())
    assert [e.page for e in nav.frameworks] == ["frameworks/azure.md"]
    assert {e.page for e in nav.detections} == {"detections/cards.md", "detections/sigma.md"}


def test_site_refuses_to_replace_a_foreign_directory(hostile_build, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["site", "--out", str(hostile_build), "--site-dir", str(precious)])
    assert result.exit_code == 1 and "refusing to replace it" in result.output
    assert (precious / "notes.txt").read_text() == "keep me" and len(list(precious.iterdir())) == 1
