"""The limits themselves, as properties: each check agrees exactly with an independent
measure (nesting depth, expanded YAML nodes, decompressed size) and otherwise changes
nothing — a document within the limits parses to exactly what the plain parser gives."""

from __future__ import annotations

import gzip

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core import limits
from pipeline.core.errors import InputError

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalar = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=6)
json_value = st.recursive(scalar, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3), max_leaves=25)


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nodes(value) -> int:
    """YAML nodes of a constructed value with every shared reference counted again."""
    if isinstance(value, dict):
        return 1 + sum(nodes(k) + nodes(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(nodes(v) for v in value)
    return 1


@SETTINGS
@given(json_value, st.integers(1, 12), st.booleans())
def test_json_depth_limit_is_exact(value, limit, indent):
    chosen = limits.Limits(json_max_depth=limit)
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    if depth(value) <= limit:
        assert limits.loads_json(data, "f.json", limits=chosen) == value
    else:
        with pytest.raises(InputError, match=f"f.json: JSON nested more than {limit} levels deep"):
            limits.loads_json(data, "f.json", limits=chosen)


@SETTINGS
@given(st.binary(max_size=60))
def test_json_depth_wrapper_agrees_with_orjson_on_any_bytes(data):
    try:
        expected = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        with pytest.raises(orjson.JSONDecodeError) as info:
            limits.loads_json(data, "f", limits=limits.DEFAULT)
        assert str(info.value) == str(exc)
        return
    assert limits.loads_json(data, "f", limits=limits.DEFAULT) == expected


@st.composite
def shared_documents(draw):
    """A document that reuses sub-values, so that safe_dump writes anchors and aliases."""
    parts = draw(st.lists(json_value.filter(lambda v: isinstance(v, (list, dict))), min_size=1, max_size=3))
    layers = [parts]
    for _ in range(draw(st.integers(0, 3))):
        previous = layers[-1]
        layers.append([[draw(st.sampled_from(previous)) for _ in range(draw(st.integers(1, 4)))] for _ in range(2)])
    return {"top": layers[-1], "extra": draw(st.sampled_from(parts))}


@SETTINGS
@given(shared_documents(), st.integers(1, 400))
def test_yaml_alias_limit_counts_expanded_nodes_exactly(doc, limit):
    text = yaml.safe_dump(doc)
    expected = yaml.load(text, Loader=yaml.CSafeLoader)
    chosen = limits.Limits(yaml_max_nodes=limit)
    if "&" not in text or nodes(expected) <= limit:
        # Without anchors the count is skipped (no alias can expand anything).
        assert limits.yaml_load(text, limits=chosen) == expected
        assert limits.yaml_load_all(text.encode(), limits=chosen) == [expected]
    else:
        with pytest.raises(limits.YamlLimitError, match=f"more than {limit:,} nodes"):
            limits.yaml_load(text, limits=chosen)


def nested(levels: list[str]) -> str:
    """YAML nesting one collection per level: block sequence, block mapping or flow."""
    text = "x"
    for n, kind in enumerate(reversed(levels)):
        if kind == "flow-seq":
            text = f"[{text}]" if not text.startswith(("-", "k")) else "[x]"
        elif kind == "flow-map":
            text = f"{{k: {text}}}" if not text.startswith(("-", "k")) else "{k: x}"
        elif kind == "block-seq":
            text = "- " + text.replace("\n", "\n  ")
        else:
            text = "k:\n  " + text.replace("\n", "\n  ")
    return text


@SETTINGS
@given(st.lists(st.sampled_from(["block-seq", "block-map", "flow-seq", "flow-map"]), min_size=1, max_size=40), st.integers(1, 40))
def test_yaml_depth_limit_is_exact(levels, limit):
    text = nested(levels)
    expected = yaml.load(text, Loader=yaml.CSafeLoader)
    chosen = limits.Limits(yaml_max_depth=limit)
    if depth(expected) <= limit:
        assert limits.yaml_load(text, limits=chosen) == expected
    else:
        with pytest.raises(limits.YamlLimitError, match=f"nested more than {limit:,} levels deep"):
            limits.yaml_load(text, limits=chosen)


@SETTINGS
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=3), st.integers(1, 9000))
def test_gunzip_limit_is_exact(members, limit):
    data = b"".join(gzip.compress(m) for m in members)
    total = sum(map(len, members))
    chosen = limits.Limits(max_file_bytes=limit)
    if total <= limit:
        assert limits.gunzip_limited(data, "f.gz", limits=chosen) == gzip.decompress(data)
    else:
        with pytest.raises(InputError, match=f"f.gz: decompressed data is over the limit of {limit:,} bytes"):
            limits.gunzip_limited(data, "f.gz", limits=chosen)
