"""Relative links made with less work for the plain ones (pipeline/site/links.py): the
same link, the same anchors registered, the same files looked up, the same warnings
as mkdocs' own, for any link from any page."""

from __future__ import annotations

import logging

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure import pages as mkdocs_pages
from mkdocs.structure.files import File, Files, InclusionLevel

from pipeline.site import links
from pipeline.site.links import LeanRelativePathTreeprocessor
from pipeline.site.pagecache import looking_up

_SOURCES = [
    "index.md", "techniques/T1046.md", "techniques/T1046.001.md", "tactics/TA0007.md", "detections/sigma/a-b.md",
    "detections/sigma/index.md", "detections/elastic/x_y.md", "controls/nist/AC-4.md", "controls/README.md",
    "drafts/hidden.md", "assets/pic.png", "layers/all.json",
]
_PIECES = [
    "..", ".", "/", "//", "../", "./", "techniques", "T1046.md", "T1046.001.md", "T1046", "tactics/", "TA0007.md",
    "detections", "sigma", "a-b.md", "index.md", "README.md", "x_y.md", "controls", "nist", "AC-4.md", "drafts",
    "hidden.md", "assets", "pic.png", "layers", "all.json", "missing.md", "#", "#top", "#a-b", "#", "?q=1", "%20",
    "%2E", ":", "mailto:", "http://x.test/", "https://", "http://", "[::1]", "[", "\uff0f", "é", "\\", "a b", ".html",
    "T1046.html", "\x02amp\x03",
]


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[bool, MkDocsConfig]:
    """mkdocs' configuration with and without directory addresses."""
    docs = tmp_path_factory.mktemp("docs")
    made = {}
    for use_directory_urls in (True, False):
        config = MkDocsConfig()
        config.load_dict({"site_name": "x", "docs_dir": str(docs), "site_dir": str(docs.parent / "site"), "use_directory_urls": use_directory_urls})
        errors, _ = config.validate()
        assert not errors
        made[use_directory_urls] = config
    return made


def _files(config) -> Files:
    files = [File(src, "/docs", "/site", config.use_directory_urls) for src in _SOURCES]
    for f in files:
        if f.src_uri.startswith("drafts/"):
            f.inclusion = InclusionLevel.EXCLUDED
    return Files(files)


class _Logged(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, record.getMessage()))


def _made_one(processor, url: str) -> str:
    try:
        return processor.path_to_url(url)
    except ValueError as exc:  # mkdocs' split refuses the address
        return f"refused: {exc}"


def _made(processor, files, urls: list[str]) -> tuple:
    logger = logging.getLogger("mkdocs")
    handler, level = _Logged(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with looking_up(files) as seen:
            made = [_made_one(processor, url) for url in urls]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    anchors = {f.src_uri: dict(a) for f, a in processor.links_to_anchors.items()}
    return made, anchors, dict(seen), handler.records


@settings(max_examples=1500)
@given(
    st.sampled_from(_SOURCES[:10]),
    st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map("".join), min_size=1, max_size=5),
    st.booleans(),
)
@example("techniques/T1046.md", ["../tactics/TA0007.md#x", "T1046.001.md", "../drafts/hidden.md#y", "../missing.md"], True)
@example("detections/sigma/a-b.md", ["../../techniques/T1046.md#top", "index.md#a-b", "../elastic/x_y.md"], False)
@example("index.md", ["https://github.com/x/y/blob/1/a.yml", "http://[::1", "https://x.test\uff0fy@z/", "https://é.test/"], True)
def test_a_link_is_made_as_mkdocs_makes_it(configs, source, urls, use_directory_urls):
    config = configs[use_directory_urls]
    files = _files(config)
    page = files.get_file_from_path(source)
    targets: dict = {}
    lean = LeanRelativePathTreeprocessor(page, files, config, targets)
    stock = mkdocs_pages._RelativePathTreeprocessor(page, files, config)
    made = _made(lean, files, urls)
    assert made == _made(stock, files, urls)
    # and again, with the files' paths this process worked out
    again = LeanRelativePathTreeprocessor(page, files, config, targets)
    assert _made(again, files, urls) == _made(mkdocs_pages._RelativePathTreeprocessor(page, files, config), files, urls)


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("../techniques/T1046.md", True), ("T1046.md#a-b", True), ("a/b/", True), ("/techniques/T1046.md", False),
        ("a//b.md", False), ("a.md#", False), ("a.md#x/y", False), ("a%20b.md", False), ("mailto:x", False),
        ("a.md?x=1", False), ("a b.md", False),
    ],
)
def test_only_plain_links_take_the_short_way(url, plain):
    assert (links._PLAIN.fullmatch(url) is not None) == plain


def test_a_folder_and_link_are_worked_out_once_per_process(configs):
    config = configs[True]
    files = _files(config)
    targets: dict = {}
    for source in ("detections/sigma/a-b.md", "detections/sigma/index.md"):
        lean = LeanRelativePathTreeprocessor(files.get_file_from_path(source), files, config, targets)
        assert lean.path_to_url("../../techniques/T1046.md#x") == "../../../techniques/T1046/#x" or source.endswith("index.md")
    assert targets == {("detections/sigma", "../../techniques/T1046.md"): "techniques/T1046.md"}
