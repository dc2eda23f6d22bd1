""""Open in ATT&CK Navigator" links, made when the site is made.

The Navigator loads a layer from the absolute address after `#layerURL=`, so the link
depends on where the site is published and on which Navigator the team uses (the
public one, or its own instance on an air-gapped network): both are the site's
settings (`site --site-url URL --navigator-url URL`), not the build's. Every layer a
page offers for download (`- [label](../../layers/….json)`) gets its Navigator link on
the next line; links a build wrote for another address are replaced. Without a site
address there is none (a relative address means nothing to the Navigator).
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote

from pipeline.core.escape import safe_url

PUBLIC_NAVIGATOR = "https://mitre-attack.github.io/attack-navigator/"
_OLD = re.compile(r"^- \[Open the [^\n]*? in ATT&CK Navigator\]\([^)\s]*\)\n?", re.M)
_LAYER = re.compile(r"^- \[((?:\\.|[^\]\\\n])*)\]\(((?:\.\./)*layers/[^)\s]+\.json)\)$", re.M)
_SUFFIX = " (ATT&CK Navigator)"


def navigator_url(navigator: str, layer_url: str) -> str:
    """The Navigator at `navigator` opening the layer published at `layer_url`."""
    return f"{navigator.rstrip('/')}/#layerURL={quote(layer_url, safe='')}"


def navigator_links(markdown: str, src_uri: str, site_url: str, navigator: str) -> str:
    """`markdown` of the page at `src_uri` (after `rewrite_links`: layer links relative
    within the site) with one Navigator link after each layer download link."""
    if "layers/" not in markdown and "ATT&CK Navigator" not in markdown:
        return markdown
    markdown = _OLD.sub("", markdown)
    base = safe_url(site_url.rstrip("/") + "/") if site_url else None
    nav = safe_url(navigator or PUBLIC_NAVIGATOR)
    if not base or not nav:
        return markdown
    here = posixpath.dirname(src_uri)

    def add(m: re.Match) -> str:
        rel = posixpath.normpath(posixpath.join(here, m.group(2)))
        if rel.startswith("../"):
            return m.group(0)
        what = m.group(1).removesuffix(_SUFFIX)
        return f"{m.group(0)}\n- [Open the {what} in ATT&CK Navigator]({navigator_url(nav, base + rel)})"

    return _LAYER.sub(add, markdown)
