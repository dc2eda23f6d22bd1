"""The site's date comes from the inputs, so two builds of the same inputs give the same site."""

from __future__ import annotations

import os

import orjson

from pipeline.site.source import build_epoch


def _build(root, released: dict[str, str]):
    (root / "reports").mkdir(parents=True)
    (root / "manifest.json").write_bytes(b"{}")
    for domain, date in released.items():
        (root / "reports" / f"attack-{domain}.json").write_bytes(orjson.dumps({"released": date}))
    return root


def test_the_newest_release_date_is_the_sites_date(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = _build(tmp_path / "a", {"enterprise": "2025-10-28T14:00:00.000Z", "ics": "2025-04-01T00:00:00.000Z"})
    b = _build(tmp_path / "b", {"enterprise": "2025-10-28T14:00:00.000Z", "ics": "2025-04-01T00:00:00.000Z"})
    os.utime(a / "manifest.json", (1, 1))
    assert build_epoch(a) == build_epoch(b) == 1761660000


def test_source_date_epoch_wins_and_a_bare_build_falls_back_to_its_manifest(tmp_path, monkeypatch):
    root = _build(tmp_path / "a", {"enterprise": "not a date"})
    os.utime(root / "manifest.json", (1234567, 1234567))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert build_epoch(root) == 1234567
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "42")
    assert build_epoch(root) == 42


def test_a_bad_source_date_epoch_is_one_error_line_as_for_stix_and_workbooks(tmp_path, monkeypatch):
    import pytest

    from pipeline.core.errors import ConfigError

    root = _build(tmp_path / "a", {"enterprise": "2025-10-28T14:00:00.000Z"})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match=r"^SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not 'yesterday'$"):
        build_epoch(root)
