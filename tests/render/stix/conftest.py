"""Fixtures of the STIX tests: the small synthetic mirror (stix_small.py) and, for the
real-data tests, the default build of the offline mirror rendered once per session."""

from __future__ import annotations

import pytest

import stix_small


@pytest.fixture
def small_ws(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    ws = stix_small.open_workspace(tmp_path)
    ws.graph()
    return ws


@pytest.fixture(scope="session")
def default_ws(workspace_18):
    """Default sources, ATT&CK 18.1, every domain, graph built once."""
    return workspace_18


@pytest.fixture(scope="session")
def default_stix(default_ws, tmp_path_factory):
    """`stix/` of the default build (techniques referenced by id)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        return stix_small.render_stix(default_ws, tmp_path_factory.mktemp("stix-default"))


@pytest.fixture(scope="session")
def attack_stix(default_ws, tmp_path_factory):
    """`stix/` of the default build with `--include-attack`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        return stix_small.render_stix(default_ws, tmp_path_factory.mktemp("stix-attack"), include_attack=True)
