"""A page's front matter taken off as mkdocs does (pipeline/site/frontmatter.py), for
any text: YAML front matter, MultiMarkdown metadata, none, any line breaks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mkdocs.utils import meta

from pipeline.site.frontmatter import page_data

_PIECES = [
    "---\n", "...\n", "title: A\n", "Title: B\n", "search: x\n", "   key: v\n", "    more\n", "\tmore\n", "key:\n",
    "# T1046 Network Service Discovery\n", "text", " ", "\n", "\n\n", "\r\n", "\r", "\t", ":", "-", "a-b_c: d\n", "\u00a0\n",
]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(_PIECES), max_size=14).map("".join))
def test_front_matter_is_taken_off_as_mkdocs_takes_it_off(doc):
    assert page_data(doc) == meta.get_data(doc)


@pytest.mark.parametrize(
    "doc",
    ["# T1046\n\ntext\n", "title: A\nsearch: x\n    more\n\n# T\n", "", "\n\n# T", "key: v", "---\ntitle: A\n---\n# T\n"],
)
def test_the_pages_of_the_site_and_their_metadata(doc):
    markdown, data = page_data(doc)
    assert (markdown, data) == meta.get_data(doc)
    if doc.startswith("# "):
        assert markdown is doc  # nothing copied
