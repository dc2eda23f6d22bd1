"""The README's pictures, taken from a real site: headless Debian Chromium through
Playwright (never `playwright install`), served from 127.0.0.1.

    attack-pipeline build && attack-pipeline site
    python docs/images/screenshots.py [--site-dir site] [--out outputs] [--chromium /usr/bin/chromium]

Writes docs/images/site-technique.png (the T1046 card), site-framework.png (the NIST
800-53 framework page with its layers) and layer-nist.png: the build's NIST 800-53
overview layer as ATT&CK Navigator's SVG export draws it (mitreattack-python's ToSvg,
the Navigator's exporter in Python: no Navigator is needed offline). The pictures are of
whatever build the site was made from; they are not compared by the tests.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOTS = {
    "site-technique.png": "techniques/T1046/",
    "site-framework.png": "frameworks/nist_800_53/",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site-dir", type=Path, default=Path("site"))
    ap.add_argument("--out", type=Path, default=Path("outputs"), help="the build whose NIST layer is drawn")
    ap.add_argument("--mirror", type=Path, default=Path(os.environ.get("ATTACK_PIPELINE_MIRROR", "../shared/data")))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from pipeline.site.serve import server
    import threading

    httpd = server(args.site_dir, 0)
    host, port = httpd.server_address[:2]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            for name, path in SHOTS.items():
                page.goto(f"http://{host}:{port}/{path}", wait_until="networkidle")
                page.screenshot(path=str(HERE / name))
                print(f"wrote {HERE / name}")
            layer_picture(browser, args.out, args.mirror, HERE / "layer-nist.png")
            print(f"wrote {HERE / 'layer-nist.png'}")
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


def layer_picture(browser, out: Path, mirror: Path, png: Path) -> None:
    """The NIST 800-53 overview layer of the build in `out`, exported to SVG as the
    Navigator does (with the release the layer names, from the mirror), then drawn by the
    browser: the header, the legend and the matrix."""
    import contextlib
    import gzip
    import io
    import json
    import tempfile

    from mitreattack.navlayers import ToSvg
    from mitreattack.navlayers.core import Layer

    path = out / "layers" / "enterprise" / "frameworks" / "nist_800_53" / "overview.json"
    release = json.loads(path.read_bytes())["versions"]["attack"]
    bundle = next(mirror.joinpath("attack").glob(f"enterprise-attack-{release}*.json.gz"))
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "enterprise-attack.json"
        plain.write_bytes(gzip.decompress(bundle.read_bytes()))
        layer = Layer()
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter talks on stdout
            layer.from_file(str(path))
            ToSvg(domain="enterprise", source="local", resource=str(plain)).to_svg(layer, filepath=f"{tmp}/layer.svg")
        svg = Path(tmp, "layer.svg").read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": 836, "height": 760}, device_scale_factor=2)
    page.set_content('<body style="margin:10px;background:#fff">' + svg[svg.index("<svg"):] + "</body>")
    page.screenshot(path=str(png))
    page.close()


if __name__ == "__main__":
    main()
