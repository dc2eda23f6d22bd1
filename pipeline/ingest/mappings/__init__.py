"""Mapping-table and control-catalogue adapters, one small module per format.

Every adapter turns its format into the same records (`MappingTable` of `Mapping`s,
`ControlCatalog` of `Control`s) and reports bad rows as `Issue`s instead of raising,
so one bad row or file never stops the rest of a source. The registries below are
keyed by the `format` of `data/sources.toml`; a test checks that every format listed
there for a mapping or catalogue source has an adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.core.errors import ConfigError
from pipeline.core.limits import DEFAULT, Limits
from pipeline.ingest.mappings import cache as parse_cache
from pipeline.ingest.mappings.common import TableSpec
from pipeline.ingest.mappings.expand import Universe
from pipeline.ingest.mappings.mapex import read_mapex
from pipeline.ingest.mappings.nist_catalog import read_nist_catalog_stix, read_nist_catalog_tsv
from pipeline.ingest.mappings.nist_tsv import read_nist_tsv
from pipeline.ingest.mappings.nist_xlsx import read_nist_xlsx
from pipeline.ingest.mappings.security_stack import read_security_stack
from pipeline.ingest.mappings.stix_bundle import read_stix_mappings
from pipeline.model.controls import ControlCatalog, MappingTable

MAPPING_FORMATS: dict[str, Callable[..., MappingTable]] = {
    "mapex-json": read_mapex,
    "security-stack-yaml": read_security_stack,
    "nist-mappings-tsv": read_nist_tsv,
    "nist-mappings-xlsx": read_nist_xlsx,
    "stix-mappings": read_stix_mappings,
}
# Formats whose ids may be patterns, expanded against a release and a catalogue.
EXPANDING_FORMATS = frozenset({"nist-mappings-tsv", "nist-mappings-xlsx"})
CATALOG_FORMATS: dict[str, Callable[..., ControlCatalog]] = {
    "nist-controls-tsv": read_nist_catalog_tsv,
    "nist-controls-stix": read_nist_catalog_stix,
}

__all__ = ["CATALOG_FORMATS", "MAPPING_FORMATS", "TableSpec", "Universe", "read_catalog", "read_mapping_table"]


def read_mapping_table(
    source,
    path: Path,
    *,
    file: str | None = None,
    techniques: Universe | None = None,
    controls: Universe | None = None,
    limits: Limits = DEFAULT,
    cache: Path | None = None,
) -> MappingTable:
    """The table at `path`; with a `cache` directory, an unchanged table parsed before
    under the same inputs is loaded from there (`pipeline.ingest.mappings.cache`)."""
    reader = MAPPING_FORMATS.get(source.format)
    if reader is None:
        raise ConfigError(f"no adapter for mapping format {source.format!r} (known: {', '.join(sorted(MAPPING_FORMATS))})", record=f"source {source.id!r}")
    spec = TableSpec.of(source, limits)
    if source.format not in EXPANDING_FORMATS:
        techniques = controls = None  # not used by the reader: keep them out of the key
        parse = lambda: reader(path, spec, file=file)  # noqa: E731
    else:
        parse = lambda: reader(path, spec, file=file, techniques=techniques, controls=controls)  # noqa: E731
    if not parse_cache.enabled(cache):
        return parse()
    key = lambda: parse_cache.entry_path(cache, "table", path, spec, file, techniques, controls)  # noqa: E731
    try:
        entry = key()
    except OSError:
        return parse()  # a missing or unreadable file: the adapter reports it
    return parse_cache.cached(entry, parse, MappingTable, key)


def read_catalog(source, path: Path, *, file: str | None = None, limits: Limits = DEFAULT, cache: Path | None = None) -> ControlCatalog:
    """The catalogue at `path`, through the parsed-table cache when `cache` is given."""
    reader = CATALOG_FORMATS.get(source.format)
    if reader is None:
        raise ConfigError(f"no adapter for catalogue format {source.format!r} (known: {', '.join(sorted(CATALOG_FORMATS))})", record=f"source {source.id!r}")
    spec = TableSpec.of(source, limits)
    parse = lambda: reader(path, spec, file=file)  # noqa: E731
    if not parse_cache.enabled(cache):
        return parse()
    key = lambda: parse_cache.entry_path(cache, "catalog", path, spec, file)  # noqa: E731
    try:
        entry = key()
    except OSError:
        return parse()
    return parse_cache.cached(entry, parse, ControlCatalog, key)
