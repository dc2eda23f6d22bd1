"""`safe_title`: whatever a page title holds (escaped text from an H1 or the navigation,
raw front matter), what the theme prints is text that cannot end an element or an
attribute, and escaping it twice changes nothing."""

from __future__ import annotations

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.site.hooks import safe_title

PIECES = st.sampled_from(["<", ">", "&", '"', "'", "</title>", "<script>", "&lt;", "&amp;lt;", "&#x27;", " ", "\n", "a", "T1046"])
TITLES = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=12).map("".join)
_ENTITY = re.compile(r"&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);")


@settings(derandomize=True, max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TITLES)
def test_a_title_is_inert_text_and_stable(title):
    out = safe_title(title)
    assert not set("<>\"'") & set(out)
    assert "&" not in _ENTITY.sub("", out)  # every & starts an entity
    assert safe_title(out) == out
    assert safe_title(html.escape(html.unescape(out))) == out


def test_the_breakout_title_is_printed_as_the_text_it_is():
    raw = "Pwn </title><img src=x onerror=alert(document.domain)><script>window.PWNED=1</script><title>"
    h1 = html.escape(raw, quote=False)  # as mkdocs reads the H1 of the page
    assert safe_title(h1) == html.escape(raw, quote=True)
    assert html.unescape(safe_title(h1)) == raw
    assert safe_title("T1046 &quot;x&quot; \n  y") == "T1046 &quot;x&quot; y"
