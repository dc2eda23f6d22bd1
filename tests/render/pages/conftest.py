"""Fixtures of the page tests: the small written mirror built and rendered once, and the
real default build's docs tree (the offline mirror and config come from tests/conftest.py)."""

from __future__ import annotations

import dataclasses

import pytest


@pytest.fixture(scope="session")
def small_build(tmp_path_factory):
    """The whole build (every renderer) of the small mirror: (output dir, workspace)."""
    import pages_fixture

    from pipeline.build import build
    from pipeline.core.config import load_config
    from pipeline.workspace import Workspace

    root = tmp_path_factory.mktemp("small")
    sources = pages_fixture.write_mirror(root)
    ws = Workspace.open(load_config(sources), root / "mirror")
    out = root / "out"
    build(ws, out)
    return out, ws


@pytest.fixture(scope="session")
def small_docs(small_build):
    return small_build[0] / "docs"


@pytest.fixture(scope="session")
def real_workspace(workspace_18):
    """Default sources, ATT&CK 18.1, every domain: the default build's inputs."""
    return workspace_18


@pytest.fixture(scope="session")
def real_docs(real_workspace, tmp_path_factory):
    """The docs tree of the default build, rendered once: (docs dir, written paths)."""
    from pipeline.gather import gather
    from pipeline.render.pages import render

    out = tmp_path_factory.mktemp("real")
    written = render(gather(real_workspace, renderers=("docs",)), out)
    return out / "docs", written


AZURE_2021 = "mapex/azure-06.29.2021/attack-8.2/enterprise"
AZURE_2025 = "mapex/azure-04.26.2025/attack-16.1/enterprise"


@pytest.fixture(scope="session")
def seed_site(config, mirror, tmp_path_factory):
    """Enterprise 18.1 with the 2021 Azure table (the seed page's) instead of the 2025 one."""
    from pipeline.gather import gather
    from pipeline.render.pages.sources import site_for_context
    from pipeline.workspace import Workspace

    sources = tuple(
        dataclasses.replace(s, enabled=s.id == AZURE_2021) if s.id in (AZURE_2021, AZURE_2025) else s for s in config.sources
    )
    ws = Workspace.open(dataclasses.replace(config, sources=sources, _by_id={}), mirror, "18.1", ("enterprise",))
    return site_for_context(gather(ws, renderers=("docs",)), tmp_path_factory.mktemp("seed"))
