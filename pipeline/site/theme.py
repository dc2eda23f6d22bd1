"""The theme's own templates, read past the site's overrides.

Why: the site overrides a few of material's partials (overrides/partials/) with one
line that calls a function of its own (site/navpartial.py, site/language.py), and
each such function draws or reads the theme's original partial: found here in the
theme's folders of the environment's loader, without the overrides folder, and
compiled in the same environment (same filters, same globals) as the theme's own.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2.utils import LRUCache

OVERRIDES = Path(__file__).with_name("overrides")


def theme_template(env: jinja2.Environment, name: str) -> jinja2.Template:
    """The theme's template `name` as the theme ships it, compiled in `env`."""
    theme = [p for p in env.loader.searchpath if Path(p).resolve() != OVERRIDES.resolve()]
    source, _, _ = jinja2.FileSystemLoader(theme).get_source(env, name)
    return env.from_string(source)


def unbounded_cache(env: jinja2.Environment) -> None:
    """`env` keeping every template it has compiled in a plain dict (the templates it
    holds already kept).

    Why: Jinja's default cache is a least-recently-used one, whose every lookup moves the
    template to the end of a queue with `deque.remove`; a page includes or imports about
    twenty templates, so ~200,000 lookups per site build (0.4 s of its CPU). A site
    build compiles the theme's ~60 templates once; none is ever let go."""
    if isinstance(env.cache, LRUCache):
        env.cache = dict(env.cache.items())
