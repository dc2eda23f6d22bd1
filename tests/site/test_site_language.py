"""The theme's interface texts asked once per key (pipeline/site/language.py): the same
text as the theme's own `lang.t`, in every language, for every key its templates use."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import material
import pytest
from mkdocs.theme import Theme

from pipeline.site.language import translations
from pipeline.site.theme import OVERRIDES, theme_template

TEMPLATES = Path(material.__file__).parent / "templates"
KEYS = sorted(
    {m.group(1) for p in TEMPLATES.rglob("*.html") for m in re.finditer(r"""lang\.t\(\s*["']([^"']+)["']""", p.read_text(encoding="utf-8"))}
)


def _env(language: str):
    config = SimpleNamespace(theme=SimpleNamespace(language=language, direction=None))
    return Theme(name="material", custom_dir=str(OVERRIDES), language=language).get_env(), config


@pytest.mark.parametrize("language", ["en", "de", "ar", "zh", "pt-BR"])
def test_every_text_is_the_themes_own(language):
    assert len(KEYS) > 40  # the templates were read
    env, config = _env(language)
    theme = theme_template(env, "partials/language.html").make_module({"config": config})
    t = translations(env, config)
    for key in [*KEYS, "no.such.key"]:
        assert t(key) == str(theme.t(key)), key
        assert t(key) == t(key)  # asked again: the kept text
    assert t("no.such.key") == "no.such.key"


def test_the_override_uses_the_site_function_where_there_is_one():
    env, config = _env("fr")
    asked: list[str] = []
    texts = translations(env, config)
    # Without the function (the search plugin loads the partial in an environment of its own):
    plain = env.get_template("partials/language.html").make_module({"config": config})
    assert str(plain.t("search.placeholder")) == texts("search.placeholder") == "Rechercher"
    env.globals["attack_pipeline_t"] = lambda key: asked.append(key) or texts(key)
    module = env.get_template("partials/language.html").make_module({"config": config})
    assert module.t("search.placeholder") == "Rechercher" and asked == ["search.placeholder"]
