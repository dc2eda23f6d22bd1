"""Fixtures of the site tests: headless Debian Chromium driven by Playwright, local
HTTP servers of built sites, the hostile build, and the real enterprise build's site
(made once per session: the ~10,000-page site takes 1.5 min here).

Playwright's own browser download does not work offline; the tests drive the system
Chromium (`/usr/bin/chromium`, or ATTACK_PIPELINE_CHROMIUM). With
ATTACK_PIPELINE_REQUIRE_DATA=1 (CI) a missing browser fails the tests instead of
skipping them. Screenshots go to `test-artifacts/` (ATTACK_PIPELINE_TEST_ARTIFACTS).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from testpaths import ROOT

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SITE_URL = "https://soc.example.org/attack/"


def _required() -> bool:
    return os.environ.get("ATTACK_PIPELINE_REQUIRE_DATA") == "1"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("ATTACK_PIPELINE_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        message = f"Chromium not found at {path} (apt-get install chromium, or set ATTACK_PIPELINE_CHROMIUM)"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    """A persistent context of a fresh user-data-dir (nothing of another profile)."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS, ignore_default_args=["--headless=new"]
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("ATTACK_PIPELINE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class Served:
    """A folder on http://127.0.0.1:<free port>/ for the session."""

    def __init__(self, folder: Path) -> None:
        from pipeline.site.serve import server

        self.httpd = server(folder, 0)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def serve():
    servers: list[Served] = []

    def start(folder: Path) -> str:
        servers.append(Served(folder))
        return servers[-1].url

    yield start
    for s in servers:
        s.close()


@pytest.fixture(scope="session")
def enterprise_site(mirror, config, tmp_path_factory):
    """The site of an enterprise-only build of the default mapping tables and detection
    corpora, published at SITE_URL (so its pages link the Navigator): (build output,
    site path)."""
    import dataclasses

    from pipeline.build import build
    from pipeline.site.make import make_site
    from pipeline.workspace import Workspace

    root = tmp_path_factory.mktemp("enterprise")
    ws = Workspace.open(dataclasses.replace(config, site_url=SITE_URL), mirror, None, ("enterprise",))
    build(ws, root / "outputs")
    make_site(root / "outputs", root / "site", SITE_URL)
    return root / "outputs", root / "site"


@pytest.fixture(scope="session")
def hostile_build(tmp_path_factory):
    import site_hostile

    root = tmp_path_factory.mktemp("hostile")
    return site_hostile.build(root, SITE_URL)


@pytest.fixture(scope="session")
def hostile_site(hostile_build):
    from pipeline.site.make import make_site

    site = hostile_build.parent / "site"
    make_site(hostile_build, site)
    return site

