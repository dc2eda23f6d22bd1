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

OVERRIDES = Path(__file__).with_name("overrides")


def theme_template(env: jinja2.Environment, name: str) -> jinja2.Template:
    """The theme's template `name` as the theme ships it, compiled in `env`."""
    theme = [p for p in env.loader.searchpath if Path(p).resolve() != OVERRIDES.resolve()]
    source, _, _ = jinja2.FileSystemLoader(theme).get_source(env, name)
    return env.from_string(source)
