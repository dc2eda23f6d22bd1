"""Resource limits for reading files written by others.

Every input of the pipeline comes from someone else's repository. A file can be huge,
a gzip stream can inflate a thousandfold, a YAML file of a few hundred bytes can
expand into billions of nodes through aliases ("billion laughs"), and a JSON document
can nest deeply enough to exhaust the stack of code that walks it. These limits stop
such input early with a one-line error naming the file and the limit, before the
input is read whole or expanded.

Limits are a frozen value (`Limits`), made once from the sources file and the
environment (`from_settings`, `from_environment`) and handed to every reader that needs
them: nothing here holds them process-wide, so a worker process, a test or a second
configuration in the same process reads with exactly the limits it was given.

Limits come from, in order of precedence: environment variables
(`ATTACK_PIPELINE_MAX_FILE_BYTES`, `ATTACK_PIPELINE_YAML_MAX_NODES`,
`ATTACK_PIPELINE_JSON_MAX_DEPTH`, `ATTACK_PIPELINE_HTTP_TIMEOUT`), the `[settings]`
table of the sources file (`max_file_bytes`, `yaml_max_nodes`, `json_max_depth`,
`http_timeout`), and the defaults below, which accept every file of the public
corpora with a wide margin (largest input 34 MB decompressed, deepest JSON 9 levels,
largest YAML document a few thousand nodes).
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
import zlib

import orjson

from pipeline.core.errors import ConfigError, InputError

# orjson refuses documents nested deeper than this itself; the project's limit may only be lower.
ORJSON_MAX_DEPTH = 1024
# libyaml's composer recurses in C: a hundred thousand nested `- ` or `[` crash the
# interpreter (a segmentation fault, not an exception); 5,000 levels are still safe.
YAML_MAX_DEPTH = 5000

ENV = {
    "max_file_bytes": "ATTACK_PIPELINE_MAX_FILE_BYTES",
    "yaml_max_nodes": "ATTACK_PIPELINE_YAML_MAX_NODES",
    "yaml_max_depth": "ATTACK_PIPELINE_YAML_MAX_DEPTH",
    "json_max_depth": "ATTACK_PIPELINE_JSON_MAX_DEPTH",
    "http_timeout": "ATTACK_PIPELINE_HTTP_TIMEOUT",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """`max_file_bytes` bounds a file on disk and its decompressed bytes; `yaml_max_nodes`
    the nodes of a YAML document once its aliases are expanded; `yaml_max_depth` and
    `json_max_depth` the
    nesting of arrays and objects; `http_timeout` the seconds without data on a download."""

    max_file_bytes: int = 256 * 1024 * 1024
    yaml_max_nodes: int = 100_000
    yaml_max_depth: int = 1000
    json_max_depth: int = 64
    http_timeout: float = 60.0

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:  # NaN fails too
                raise ConfigError(f"limit {name} must be a number between {low:,} and {high:,}, not {value!r}", record="[settings]")


# Every limit is bounded above too: an infinite, NaN or astronomically large value would
# pass as "no limit" and then overflow where the limit meets C (a read or zlib count is a
# C ssize_t; a socket timeout a C double of seconds, refused past ~292 years).
BOUNDS: dict[str, tuple[int | float, int | float]] = {
    "max_file_bytes": (1, 1 << 40),  # 1 TiB
    "yaml_max_nodes": (1, 1 << 40),
    "yaml_max_depth": (1, YAML_MAX_DEPTH),
    "json_max_depth": (1, ORJSON_MAX_DEPTH),
    "http_timeout": (0.001, 86_400.0),  # a day without data
}

DEFAULT = Limits()
"""The documented defaults, for readers called without a configuration (tests, tools);
the pipeline hands every reader the limits of its sources file and environment."""


def _number(name: str, value: object) -> int | float:
    kind = float if name == "http_timeout" else int
    if isinstance(value, str):
        try:
            value = float(value.strip().replace("_", "")) if kind is float else int(value.strip().replace("_", ""))
        except ValueError:
            raise ConfigError(f"limit {name} must be a number, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"limit {name} must be {'an integer' if kind is int else 'a number'}, not {value!r}")
    low, high = BOUNDS[name]
    if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:  # before int() or float() can overflow
        raise ConfigError(f"limit {name} must be a number between {low:,} and {high:,}, not {value!r}")
    if kind is int and value != int(value):
        raise ConfigError(f"limit {name} must be an integer, not {value!r}")
    return kind(value)


def from_settings(settings: dict, file: str | None = None) -> Limits:
    """The limits a sources file's `[settings]` sets, with the environment over them."""
    values: dict[str, int | float] = {}
    try:
        for f in fields(Limits):
            if f.name in settings:
                values[f.name] = _number(f.name, settings[f.name])
            env = os.environ.get(ENV[f.name], "").strip()
            if env:
                values[f.name] = _number(f.name, env)
        return Limits(**values)
    except ConfigError as exc:
        raise ConfigError(exc.problem, file=file, record="[settings]") from None


def from_environment() -> Limits:
    """The limits without a sources file: the environment over the defaults (commands
    and tools that read inputs before, or without, loading one)."""
    return from_settings({})


# ---------------------------------------------------------------------------- file size


def check_size(size: int, file: str, *, limits: Limits, what: str = "file") -> None:
    limit = limits.max_file_bytes
    if size > limit:
        raise InputError(
            f"{what} is {size:,} bytes, over the limit of {limit:,} bytes (max_file_bytes; "
            f"raise it in [settings] or {ENV['max_file_bytes']})",
            file=file,
        )


def read_upto(fh, size: int, limit: int) -> bytes:
    """At most `limit + 1` bytes of an open file whose fstat gave `size` (at most `limit`).

    The size plus one byte first (to see a file that grew), then, for a
    file that grew or a special file without a size, chunks until the end or the limit.
    Never `read(limit + 1)`: Python allocates the whole count up front, and glibc serves
    a request that large with a memory mapping of its own that the shrunk bytes object
    keeps, one mapping per file read: a corpus of 100,000 rule files reaches the
    kernel's `vm.max_map_count` (65,530) and the next allocation fails."""
    data = fh.read(size + 1)
    if len(data) > size:
        parts, total = [data], len(data)
        while total <= limit:
            chunk = fh.read(min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        data = b"".join(parts)
    return data


def read_limited(path: Path, file: str | None = None, *, limits: Limits) -> bytes:
    """A file's bytes, refused before reading when it is larger than `max_file_bytes`
    (and after, when it grew past it while read)."""
    name = file or str(path)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        check_size(size, name, limits=limits)
        data = read_upto(fh, size, limits.max_file_bytes)
    check_size(len(data), name, limits=limits)
    return data


def gunzip_limited(data: bytes, file: str, *, limits: Limits) -> bytes:
    """Decompress a gzip stream, stopping as soon as the output passes `max_file_bytes`
    (a small file can inflate a thousandfold)."""
    limit = limits.max_file_bytes
    out = []
    total = 0
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = d.decompress(rest, limit + 1 - total)
        while True:
            out.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputError(
                    f"decompressed data is over the limit of {limit:,} bytes (max_file_bytes; "
                    f"raise it in [settings] or {ENV['max_file_bytes']})",
                    file=file,
                )
            if not d.unconsumed_tail:
                break
            chunk = d.decompress(d.unconsumed_tail, limit + 1 - total)
        if not d.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        # Concatenated gzip members (gzip.decompress reads them all); trailing zeros end it.
        rest = d.unused_data.lstrip(b"\x00")
    return out[0] if len(out) == 1 else b"".join(out)  # one member: no second 40 MB copy


# ---------------------------------------------------------------------------- JSON nesting

def loads_json(data: bytes, file: str, *, limits: Limits):
    """orjson.loads under the project's nesting limit (`json_max_depth`).

    orjson stops at 1024 levels by itself. Walking the parsed document again costs about
    as much as parsing it, so the limit is enforced by orjson instead: the bytes are
    wrapped in 1024 - limit single-element arrays, and whatever nests deeper than the
    limit inside them hits orjson's own stop. Unwrapping checks that every wrapper
    holds exactly one value, so text that is not one JSON value (`1],[2`) cannot pass
    as one. Invalid JSON raises orjson.JSONDecodeError with positions in `data`."""
    limit = limits.json_max_depth
    pad = ORJSON_MAX_DEPTH - limit
    if pad <= 0:
        return orjson.loads(data)
    try:
        # one join, one copy of the (up to hundreds of MB) document; `a + b + c` made two
        doc = orjson.loads(b"".join((b"[" * pad, data, b"]" * pad)))
    except orjson.JSONDecodeError:
        try:
            orjson.loads(data)  # raises the error as `data` alone has it, if it is invalid
        except orjson.JSONDecodeError as exc:
            if not str(exc).startswith("depth limit"):
                raise
        raise InputError(
            f"JSON nested more than {limit} levels deep (json_max_depth; raise it in [settings] or {ENV['json_max_depth']})",
            file=file,
        ) from None
    for _ in range(pad):
        if type(doc) is not list or len(doc) != 1:
            return orjson.loads(data)  # not one JSON value: raises orjson's own error
        doc = doc[0]
    return doc


# ---------------------------------------------------------------------------- YAML aliases


def _yaml_base():
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _expanded_nodes(node, limit: int) -> int | None:
    """Nodes of the tree rooted at `node` with every alias expanded, or None when that
    is over `limit` or the graph is recursive (an anchor used inside itself).

    Aliases make the composed graph a DAG: sizes are memoised per node, so the count
    costs one visit per distinct node however large the expansion."""
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    from yaml.nodes import MappingNode, SequenceNode

    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[object, bool]] = [(node, False)]
    while stack:
        current_node, done = stack.pop()
        key = id(current_node)
        if done:
            on_path.discard(key)
            total = 1
            if isinstance(current_node, SequenceNode):
                total += sum(sizes[id(c)] for c in current_node.value)
            elif isinstance(current_node, MappingNode):
                total += sum(sizes[id(k)] + sizes[id(v)] for k, v in current_node.value)
            if total > limit:
                return None
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            return None
        if isinstance(current_node, SequenceNode):
            children = current_node.value
        elif isinstance(current_node, MappingNode):
            children = [c for pair in current_node.value for c in pair]
        else:
            sizes[key] = 1
            continue
        on_path.add(key)
        stack.append((current_node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(node)]


class YamlLimitError(Exception):
    """A YAML document expands past `yaml_max_nodes` or refers to itself."""


@functools.lru_cache(maxsize=16)
def limited_loader(max_nodes: int) -> type:
    """A safe YAML loader class (libyaml's when present) that refuses documents whose alias
    expansion exceeds `max_nodes` or is recursive (one class per limit, memoised: a class
    is built once, not per file).

    The check runs on the composed node graph, before any Python object is built, so a
    billion-laughs file is refused in milliseconds."""
    limit = max_nodes
    base = _yaml_base()

    def _checked(self, node):
        if node is not None and _expanded_nodes(node, limit) is None:
            raise YamlLimitError(
                f"YAML document expands to more than {limit:,} nodes through aliases, or an anchor refers to itself "
                f"(yaml_max_nodes; raise it in [settings] or {ENV['yaml_max_nodes']})"
            )
        return node

    return type(
        f"LimitedSafeLoader{limit}",
        (base,),
        {
            "get_single_node": lambda self: _checked(self, base.get_single_node(self)),
            "get_node": lambda self: _checked(self, base.get_node(self)),
            "__doc__": f"{base.__name__} refusing documents of more than {limit:,} expanded nodes.",
        },
    )


_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _flow_depth(text: str) -> int:
    """Deepest nesting of [ ] and { } (quotes ignored, so never less than the real one)."""
    depth = deepest = 0
    for c in _NOT_BRACKET.sub("", text):
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


@functools.lru_cache(maxsize=8)
def _openings(length: int) -> tuple[re.Pattern, re.Pattern]:
    """Line openings (indentation and `- ? :` indicators) of `length` characters or more:
    at the start, and after a newline (a literal prefix keeps the search at C speed)."""
    run = rf"[ \t?:-]{{{length},}}"
    return re.compile(run), re.compile(rf"\n{run}")


def yaml_depth_exceeds(data: str | bytes, limit: int) -> bool:
    """Whether YAML `text` nests collections more than `limit` levels deep, found without
    composing it (composing is what recurses in C).

    A block collection nested in another starts further right, after indentation or
    the `- `, `? `, `: ` indicators that begin a line (a sequence may sit at its key's
    column, so two levels per column at most), and a flow collection needs a bracket
    per level: short line openings and few brackets prove a file shallow at once, which
    is every real file. Otherwise the event stream (libyaml's parser is iterative) is
    counted."""
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml
    from yaml.events import CollectionEndEvent, CollectionStartEvent  # lazy: as above

    # UTF-16/32 bytes (NULs between characters) hide the shape from the text checks.
    text = data if isinstance(data, str) else "" if b"\x00" in data else data.decode("utf-8", "replace")
    # No line opening of limit/4 characters: block nesting below limit/2; fewer than
    # limit/2 brackets (or that flow depth): flow nesting below limit/2.
    quarter = max(1, limit // 4 - 1)
    brackets = text.count("[") + text.count("{")
    opening = _openings(quarter)
    if (
        text
        and opening[0].match(text) is None
        and opening[1].search(text) is None
        and (brackets < limit // 2 or _flow_depth(text) < limit // 2)
    ):
        return False
    depth = 0
    try:
        for event in yaml.parse(data, Loader=_yaml_base()):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > limit:
                    return True
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return False  # invalid before it got too deep: loading it reports the error
    return False


def _text(data: str | bytes, limits: Limits) -> str | bytes:
    if yaml_depth_exceeds(data, limits.yaml_max_depth):
        raise YamlLimitError(
            f"YAML nested more than {limits.yaml_max_depth:,} levels deep "
            f"(yaml_max_depth; raise it in [settings] or {ENV['yaml_max_depth']})"
        )
    return data


def _has_anchor(text: str) -> bool:
    """An `&name` at the start of the text or after a space or a flow indicator
    (`a=1&b=2` in a URL is no anchor)."""
    at = text.find("&")
    while at != -1:
        if (at == 0 or text[at - 1] in " \t\r\n[{,") and text[at + 1 : at + 2].strip():
            return True
        at = text.find("&", at + 1)
    return False


def _loader_for(data: str | bytes, limits: Limits) -> type:
    """Aliases need anchors: without one the plain safe loader is enough and the alias
    count is skipped (UTF-16 bytes, with NULs, are not inspected: any `&` counts)."""
    if isinstance(data, bytes):
        if b"&" not in data:
            return _yaml_base()
        if b"\x00" in data:
            return limited_loader(limits.yaml_max_nodes)
        data = data.decode("utf-8", "replace")
    return limited_loader(limits.yaml_max_nodes) if _has_anchor(data) else _yaml_base()


def yaml_load(data: str | bytes, *, limits: Limits):
    """One YAML document through the limited safe loader."""
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml

    data = _text(data, limits)
    return yaml.load(data, Loader=_loader_for(data, limits))  # noqa: S506 - a subclass of the *safe* loader


def yaml_load_all(data: str | bytes, *, limits: Limits) -> list:
    """Every YAML document through the limited safe loader."""
    # lazy: PyYAML costs ~20 ms to import; only reading YAML needs it
    import yaml

    data = _text(data, limits)
    return list(yaml.load_all(data, Loader=_loader_for(data, limits)))  # noqa: S506 - a subclass of the *safe* loader


__all__ = [
    "Limits",
    "YamlLimitError",
    "DEFAULT",
    "check_size",
    "from_environment",
    "from_settings",
    "gunzip_limited",
    "limited_loader",
    "loads_json",
    "read_limited",
    "read_upto",
    "yaml_load",
    "yaml_load_all",
]
