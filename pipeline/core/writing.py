"""Byte-stable writers: the same data always gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import orjson


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return path
