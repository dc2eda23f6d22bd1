"""The Jinja2 environment of the pages: strict about names, strict about escaping.

Autoescaping is off, on purpose: Jinja2's autoescape is HTML escaping, which is wrong
for Markdown (it would print `&amp;` inside code blocks, where Markdown shows entities
literally, and would not stop `[x](javascript:…)` or a closing fence). Escaping is
instead done by the functions of `escape.py`, each right for one place in a page
(plain text, table cell, fenced query, URL), and enforced here: `finalize` lets a
template print only `Md` values (the output of those functions) and numbers, and
raises on anything else. A template that prints a source string without choosing its
escaping fails on the first page it renders, in the tests, not in a reader's browser.
`StrictUndefined` makes a misspelt name fail the same way.
"""

from __future__ import annotations

import functools

from pipeline.core import escape


class UnescapedValue(TypeError):
    """A template printed a value that no escaping function produced."""


def joined(items, separator: str = ", ") -> escape.Md:
    """Join values that are all `Md` already (Jinja's `join` would return a plain str)."""
    items = list(items)
    for item in items:
        if not isinstance(item, escape.Md):
            raise UnescapedValue(f"joined an unescaped {type(item).__name__}: {str(item)[:80]!r}")
    return escape.Md(separator.join(items))


def _finalize(value: object) -> object:
    if isinstance(value, escape.Md):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnescapedValue(f"template printed an unescaped {type(value).__name__}: {str(value)[:80]!r}")
    return value


@functools.cache
def environment():
    # lazy: jinja2 costs ~40 ms to import; only the pages renderer needs it
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline", "templates"),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates are package data: no stat() per page
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        text=escape.text,
        para=escape.para,
        cell=escape.cell,
        fence=escape.fence,
        codespan=escape.codespan,
        url=escape.url_text,
        joined=joined,
    )
    return env


def template(name: str):
    return environment().get_template(name)
