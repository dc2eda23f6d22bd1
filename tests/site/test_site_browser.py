"""The real enterprise site in headless Chromium: the T1046 page shows its three Kusto
queries and the NIST and Azure tables, a control page is reached by its link, the
built-in search finds T1046 by its name, a control by its id and name and a CVE by its
id, and nothing logs a console error or asks the network."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def site_url(enterprise_site, serve):
    return serve(enterprise_site[1])


@pytest.fixture
def page(browser):
    p = browser.new_page()
    p.errors, p.requests = [], []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.on("request", lambda r: p.requests.append(r.url))
    yield p
    p.close()


def _table_after(page, heading: str):
    return page.locator(f"xpath=//h3[contains(., '{heading}')]/following-sibling::*[1]//table | //h3[contains(., '{heading}')]/following-sibling::table[1]").first


def test_t1046_page(page, site_url, artifacts_dir):
    page.goto(site_url + "techniques/T1046/", wait_until="networkidle")
    assert page.locator("h1").first.inner_text().startswith("T1046")
    # Code blocks in page order (Pygments' blocks name no language in their classes).
    queries = [q.inner_text() for q in page.locator("pre code").all()]
    # The hunting card's three queries lead the section; converted Sigma rules follow.
    seed = ["DeviceNetworkEvents", "Horizontal port scan initiated", '"[""Network Service Scanning (T1046)""]"']
    for needle in seed:
        assert sum(needle in q for q in queries[:3]) == 1, needle
    nist = _table_after(page, "NIST 800-53").inner_text()
    azure = _table_after(page, "Microsoft Azure").inner_text()
    assert "AC-4" in nist and "SI-4" in nist
    assert "azure_network_security_groups" in azure and "microsoft_sentinel" in azure
    page.screenshot(path=str(artifacts_dir / "site-T1046.png"), full_page=False)
    assert (artifacts_dir / "site-T1046.png").stat().st_size > 10_000
    assert page.errors == []
    assert [u for u in page.requests if not u.startswith(site_url)] == []

    page.locator("table a", has_text="AC-4").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url == site_url + "controls/nist_800_53/AC-4/"
    assert "Information Flow Enforcement" in page.locator("article").inner_text()
    assert page.locator("a[href*='techniques/T1046/']").count() >= 1
    assert page.errors == []


READY = "(() => { const m = document.querySelector('.md-search-result__meta'); return m && !/Initializing/i.test(m.textContent); })()"


def search(page, site_url: str, query: str) -> list[str]:
    """The pages material's search lists for `query`, best first, as site paths.

    The query is typed as one key event after the rest is filled in (material searches
    on key events), so the results shown are those of the whole query, not of a prefix.
    A result's address carries material's highlight query (`?h=…`) and may carry an
    anchor: the page is the address without either."""
    box = page.locator("input.md-search__input")
    meta = page.locator(".md-search-result__meta")
    if page.url == "about:blank":
        page.goto(site_url, wait_until="networkidle")
    page.wait_for_function(READY, timeout=120_000)
    box.fill("")
    meta.filter(has_text="Type to start searching").wait_for(timeout=30_000)
    box.fill(query[:-1])
    box.press(query[-1])
    meta.filter(has_text=re.compile(r"^\d+ matching documents?$")).wait_for(timeout=60_000)
    hrefs = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(e => e.href)")
    base = urlsplit(site_url).path
    return [urlsplit(h).path.removeprefix(base) for h in hrefs]


@pytest.mark.parametrize(
    "query, first",
    [
        ("Network Service Discovery", "techniques/T1046/"),
        ("Network Service", "techniques/T1046/"),
        ("AC-4", "controls/nist_800_53/AC-4/"),
        ("CVE-2025-0282", "controls/kev/CVE-2025-0282/"),
        ("Information Flow Enforcement", "controls/nist_800_53/AC-4/"),
        ("azure_network_security_groups", "controls/azure/azure_network_security_groups/"),
        ("Microsoft Sentinel", "controls/azure/microsoft_sentinel/"),
    ],
)
def test_search_finds_the_page_first(page, site_url, query, first, artifacts_dir):
    """A technique by its name, a control or capability by its id or name, a CVE by its id."""
    found = search(page, site_url, query)
    assert found and found[0] == first, (query, found[:5])
    if query == "AC-4":
        page.screenshot(path=str(artifacts_dir / "site-search-AC-4.png"))
        page.locator(".md-search-result__item > a").first.click()
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.inner_text().startswith("AC-4 Information Flow Enforcement")
    assert page.errors == []
    assert [u for u in page.requests if not u.startswith(site_url)] == []


def test_layer_download_and_navigator_link(page, site_url):
    page.goto(site_url + "techniques/T1046/", wait_until="networkidle")
    layer = page.locator("a", has_text="Enterprise coverage layer").first
    href = layer.get_attribute("href")
    assert href == "../../layers/enterprise/coverage.json"
    response = page.request.get(site_url + "layers/enterprise/coverage.json")
    assert response.ok and response.json()["domain"] == "enterprise-attack"
    nav = page.locator("a", has_text="in ATT&CK Navigator").first.get_attribute("href")
    assert nav.startswith("https://mitre-attack.github.io/attack-navigator/#layerURL=https%3A%2F%2Fsoc.example.org%2Fattack%2Flayers%2Fenterprise%2Fcoverage.json")


def test_real_site_index_is_small_and_pages_light(enterprise_site):
    """The figures the README gives: a search index of a few MB (control pages by their
    titles, no detection page) and technique pages of a few hundred kB despite 700 navigation entries."""
    import os
    from pathlib import Path

    import orjson

    site = Path(os.path.realpath(enterprise_site[1]))
    index = site / "search" / "search_index.json"
    assert index.stat().st_size < 8_000_000
    docs = orjson.loads(index.read_bytes())["docs"]
    # Control pages are in the index by their title only (id and name), never their text.
    controls = {d["location"]: d for d in docs if d["location"].startswith("controls/")}
    assert controls["controls/nist_800_53/AC-4/"]["title"] == "AC-4 Information Flow Enforcement"
    assert controls["controls/kev/CVE-2025-0282/"]["title"].startswith("CVE-2025-0282 ")
    assert not [d for d in controls.values() if d["text"]]
    assert (site / "techniques" / "T1046" / "index.html").stat().st_size < 400_000
    assert (site / "controls" / "nist_800_53" / "AC-4" / "index.html").is_file()
