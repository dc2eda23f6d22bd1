"""Read a STIX bundle file (plain or gzip) into its list of objects.

orjson on the raw bytes instead of stix2's MemoryStore: a whole Enterprise release
parses in a fraction of a second this way, against many seconds through stix2.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson

from pipeline.core.errors import InputError
from pipeline.core.limits import DEFAULT, Limits, gunzip_limited, loads_json, read_limited

_GZIP_MAGIC = b"\x1f\x8b"


def read_json_bytes(path: Path, *, limits: Limits = DEFAULT) -> bytes:
    """File bytes, transparently gunzipped (a `.gz` name is not required: the magic decides);
    the file and its decompressed bytes are bounded by the `max_file_bytes` limit."""
    try:
        data = read_limited(path, limits=limits)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gunzip_limited(data, str(path), limits=limits)
        except EOFError:
            raise InputError("truncated gzip stream (the file ends before its end marker)", file=str(path)) from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"corrupt gzip data: {exc}", file=str(path)) from None
    return data


def read_bundle(path: Path, *, limits: Limits = DEFAULT) -> tuple[list, str | None]:
    """Objects of a bundle and the bundle's declared `spec_version` (2.1 bundles have none)."""
    data = read_json_bytes(path, limits=limits)
    try:
        doc = loads_json(data, str(path), limits=limits)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", file=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError(f"not a STIX bundle: the top level is a JSON {type(doc).__name__}, not an object", file=str(path))
    if doc.get("type") != "bundle":
        raise InputError(f"not a STIX bundle: top-level \"type\" is {doc.get('type')!r}, expected \"bundle\"", file=str(path))
    objects = doc.get("objects")
    if not isinstance(objects, list):
        raise InputError("not a STIX bundle: \"objects\" is missing or not a list", file=str(path))
    spec = doc.get("spec_version")
    return objects, spec if isinstance(spec, str) else None
