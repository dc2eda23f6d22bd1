"""Source text escaped for the pages stays one paragraph of text under the Markdown
extensions the site enables (pipeline/site/config.py): the site reads more syntax than
the page tests' renderers — admonitions (`!!!`), collapsed details (`???`), content tabs
(`===`) — and none of it may open from a rule's or a table's text."""

from __future__ import annotations

import re

import markdown
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core import escape
from pipeline.site.config import MARKDOWN_EXTENSIONS

BLOCK_OPENERS = [
    '!!! danger "Pwn"', '!!! note', '??? note "hidden"', '???+ tip "open"', '=== "Tab"', "===", "!!!", "???",
    '=== "</title><script>window.PWNED=1</script>"', "--8<-- \"/etc/passwd\"", "/// details | x", "~~~", ": def",
    "*[HTML]: Hyper", "[^1]: note", "    indented code", "> quote", "# heading", "1. item", "- item", "+ item", "***",
]
PIECES = list("!?=:~-+*>#|`[]{}()<>&_\\\"' \n") + ["\n\n", "!!! ", "??? ", "=== ", '"t"', "<script>", "    ", "1. "]
MARKUP = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
_ELEMENT = re.compile(r"<(/?)([a-z0-9]+)")


def site_html(md: str) -> str:
    names = [e if isinstance(e, str) else next(iter(e)) for e in MARKDOWN_EXTENSIONS]
    configs = {next(iter(e)): next(iter(e.values())) for e in MARKDOWN_EXTENSIONS if isinstance(e, dict)}
    return markdown.markdown(md, extensions=names, extension_configs=configs)


def _elements(html: str) -> set[str]:
    return {m.group(2) for m in _ELEMENT.finditer(html)}


def test_block_openers_stay_text():
    for opener in BLOCK_OPENERS:
        for md in (escape.text(opener), escape.para(f"intro\n\n{opener}\n\n    body\n\nend")):
            html = site_html(md)
            assert _elements(html) <= {"p"}, (opener, md, html)


@settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKUP)
def test_any_text_is_paragraphs_under_the_site_extensions(s):
    assert _elements(site_html(escape.para(s))) <= {"p"}
    assert _elements(site_html(escape.text(s))) <= {"p"}
    cell = site_html(f"| a | b |\n|-|-|\n| {escape.cell(s)} | z |\n")
    assert _elements(cell) <= {"table", "thead", "tbody", "tr", "th", "td", "br"}
