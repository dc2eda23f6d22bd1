"""Fixtures of the mapping-table tests: the default workspace under the name these tests use
(the offline mirror, the config and `azure2021_workspace` come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from pipeline.workspace import Workspace


@pytest.fixture(scope="session")
def workspace(workspace_18) -> Workspace:
    """Default sources, target 18.1, every domain; graph built once for the session."""
    return workspace_18
