"""The theme's environment (pipeline/site/theme.py): its templates kept in a plain dict."""

from __future__ import annotations

import jinja2
from jinja2.utils import LRUCache

from pipeline.site.theme import unbounded_cache


def test_templates_compiled_before_and_after_are_kept_and_drawn_the_same():
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "A{% include 'b.html' %}", "b.html": "B{{ x }}"}))
    before = env.get_template("a.html")
    assert isinstance(env.cache, LRUCache)
    unbounded_cache(env)
    assert type(env.cache) is dict and len(env.cache) == 1
    assert env.get_template("a.html") is before  # kept, not compiled again
    assert before.render(x=1) == "AB1"
    assert len(env.cache) == 2 and env.get_template("b.html") is env.get_template("b.html")
    unbounded_cache(env)  # again: nothing changes
    assert len(env.cache) == 2


def test_an_environment_without_a_cache_keeps_none():
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "A"}), cache_size=0)
    unbounded_cache(env)
    assert env.cache is None and env.get_template("a.html").render() == "A"
