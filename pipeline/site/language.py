"""The theme's translations, each looked up once per site build.

Why: material prints its interface texts through `lang.t(key)`, a macro of
`partials/language.html` that calls the page language's macro, which builds that
language's whole table (about a hundred texts) to read one, then the English one's
when the first has none. Every page calls it about twenty-five times (labels of the
header, search, clipboard and footer, the `__config` block): a tenth of the site's
template time, for the same few texts on every page. The text depends on nothing but
the key and the site's `theme.language`, so the site's `partials/language.html`
(overrides/) binds `t` to the function here, which asks the theme's own macro once per
key and keeps its answer for the rest of the build.
"""

from __future__ import annotations

from typing import Callable

import jinja2

from pipeline.site.theme import theme_template

NAME = "partials/language.html"


def translations(env: jinja2.Environment, config) -> Callable[[str], str]:
    """The template function `attack_pipeline_t(key)`: the theme's `lang.t(key)` for
    `config`'s language, the same text, asked of the theme once per key."""
    theme = theme_template(env, NAME).make_module({"config": config})
    known: dict[str, str] = {}

    def t(key: str) -> str:
        text = known.get(key)
        if text is None:
            text = known[key] = str(theme.t(key))
        return text

    return t
