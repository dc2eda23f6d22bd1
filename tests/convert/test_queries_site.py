"""The docs site of a build converting into three languages (the small written mirror):
content tabs per language, Pygments highlighting, the copy button, and the query text in
the HTML equal to the backend's output."""

from __future__ import annotations

import html
import re

import pytest

import pages_fixture as fx

LANGUAGES = ("kusto", "splunk", "esql")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.site.make import make_site
    from pipeline.workspace import Workspace

    root = tmp_path_factory.mktemp("queries-site")
    sources = fx.write_mirror(root)
    text = sources.read_text(encoding="utf-8")
    setting = 'query_languages = ["' + '", "'.join(LANGUAGES) + '"]'
    sources.write_text(text.replace("[settings]", f"[settings]\n{setting}", 1) if "[settings]" in text else f"[settings]\n{setting}\n{text}", encoding="utf-8")
    ws = Workspace.open(load_config(sources), root / "mirror")
    build(ws, root / "out")
    make_site(root / "out", root / "site")
    return root / "site", ws


def code_texts(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<pre[^>]*><span></span><code>(.*?)</code></pre>", page, re.S)]


def test_card_has_one_tab_per_language_with_the_backends_text(site):
    folder, ws = site
    page = (folder / "techniques" / "T1046" / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<label for="__tabbed_1_\d">([^<]*)</label>', page) == ["KQL", "SPL", "ES|QL"]
    assert "tabbed-set tabbed-alternate" in page and "content.code.copy" in page
    g = ws.graph()
    expected = []
    for language in LANGUAGES:
        for rule in (fx.PLAIN_ID, fx.HOSTILE_ID):
            (c,) = [c for c in g.nodes[f"detection:sigma:{rule}"]["conversions"] if c.language == language]
            expected += [q + "\n" for q in c.queries]
    converted = [t for t in code_texts(page) if t in expected]
    assert sorted(converted) == sorted(expected)
    assert '<span class="k">where</span>' in page  # Kusto and ES|QL through Pygments' lexers
    assert "<script>alert" not in page


def test_rule_page_shows_every_conversion_and_the_rule(site):
    folder, ws = site
    page = (folder / "detections" / "sigma" / fx.HOSTILE_ID / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<label for="__tabbed_1_\d">([^<]*)</label>', page) == [
        "Kusto (Microsoft Defender XDR)", "Splunk SPL", "Elasticsearch ES|QL"]
    g = ws.graph()
    convs = [q + "\n" for c in g.nodes[f"detection:sigma:{fx.HOSTILE_ID}"]["conversions"] for q in c.queries]
    rule = g.nodes[f"detection:sigma:{fx.HOSTILE_ID}"]["record"].queries[0].text + "\n"
    assert code_texts(page) == convs + [rule]
