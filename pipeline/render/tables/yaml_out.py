"""Block YAML of plain data (dicts, lists, strings, integers, booleans, None), fast.

PyYAML's representer is pure Python even with libyaml's emitter: two thirds of the
time of all framework tables went into it (300,000 scalars). The unified documents
are plain data of a fixed shape, so this emitter writes them directly: keys sorted,
block style, every string double-quoted. A double-quoted YAML scalar takes JSON's
escapes (`\\"`, `\\\\`, `\\n`, `\\uXXXX`), so orjson quotes each string; what YAML
would still read differently is escaped on top: characters a YAML reader refuses
(DEL, C1 controls, U+FFFE/FFFF), YAML 1.1's extra line breaks (U+0085, U+2028,
U+2029, which a reader would fold) and the byte-order mark. The tests load every
output back with PyYAML and compare it with the data.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import orjson

_NEEDS_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_PLAIN_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# Words YAML 1.1 reads as booleans or null: never plain.
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _escape(m: re.Match) -> str:
    return f"\\u{ord(m.group()):04x}"


def _string(s: str) -> str:
    q = orjson.dumps(s).decode("utf-8")
    return _NEEDS_ESCAPE.sub(_escape, q) if _NEEDS_ESCAPE.search(q) else q


def _scalar(v: object) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, int):
        return str(v)
    raise TypeError(f"cannot write {type(v).__name__} as YAML")


@functools.lru_cache(maxsize=4096)
def _key(k: str) -> str:
    """Cached: the tables repeat a few dozen keys 176,662 times; matching each again
    took 0.5 s of the 4.0 s the YAML took (cProfile, default build)."""
    return k if _PLAIN_KEY.match(k) and k not in _RESERVED else _string(k)


def _dict(d: dict, pad: str, out: list[str]) -> None:
    for k in sorted(d):
        v = d[k]
        key = _key(k)
        if type(v) is str:  # most values: no container tests
            out.append(f"{pad}{key}: {_string(v)}")
        elif isinstance(v, dict) and v:
            out.append(f"{pad}{key}:")
            _dict(v, pad + "  ", out)
        elif isinstance(v, (list, tuple)) and v:
            out.append(f"{pad}{key}:")
            _list(v, pad, out)
        else:
            out.append(f"{pad}{key}: {_empty(v)}")


def _list(items, pad: str, out: list[str]) -> None:
    for v in items:
        if isinstance(v, dict) and v:
            start = len(out)
            _dict(v, pad + "  ", out)
            out[start] = f"{pad}- {out[start][len(pad) + 2:]}"
        elif isinstance(v, (list, tuple)) and v:
            out.append(f"{pad}-")
            _list(v, pad + "  ", out)
        else:
            out.append(f"{pad}- {_empty(v)}")


def _empty(v: object) -> str:
    if type(v) is str:  # most values: straight to the quoting (180,718 calls a build)
        return _string(v)
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, (list, tuple)):
        return "[]"
    return _scalar(v)


def dumps(doc: object) -> str:
    out: list[str] = []
    if isinstance(doc, dict) and doc:
        _dict(doc, "", out)
    elif isinstance(doc, (list, tuple)) and doc:
        _list(doc, "", out)
    else:
        out.append(_empty(doc))
    return "\n".join(out) + "\n"


def write_yaml(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(doc).encode("utf-8"))
    return path
