"""Fixtures of the control-side tests (the offline mirror comes from tests/conftest.py): workspaces on real data, and
small sources files that point at files a test writes itself."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.core.config import Config, load_config
from pipeline.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "data" / "sources.toml"


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(SOURCES)


def with_enabled(config: Config, enable: tuple[str, ...] = (), disable: tuple[str, ...] = ()) -> Config:
    """The same sources with some switched on or off (a user edits `enabled` in the file)."""
    sources = tuple(
        dataclasses.replace(s, enabled=True) if s.id in enable else dataclasses.replace(s, enabled=False) if s.id in disable else s
        for s in config.sources
    )
    return dataclasses.replace(config, sources=sources, _by_id={})


@pytest.fixture(scope="session")
def workspace(workspace_18) -> Workspace:
    """Default sources, target 18.1, every domain; graph built once for the session."""
    return workspace_18


AZURE_2021 = "mapex/azure-06.29.2021/attack-8.2/enterprise"
AZURE_2025 = "mapex/azure-04.26.2025/attack-16.1/enterprise"


@pytest.fixture(scope="session")
def azure2021_workspace(config, mirror) -> Workspace:
    """Default sources but the 2021 Azure table (the seed's) instead of the 2025 one."""
    ws = Workspace.open(with_enabled(config, enable=(AZURE_2021,), disable=(AZURE_2025,)), mirror, "18.1", ("enterprise",))
    ws.graph()
    return ws
