"""The README's pictures, taken from a real site: headless Debian Chromium through
Playwright (never `playwright install`), served from 127.0.0.1.

    attack-pipeline build && attack-pipeline site
    python docs/images/screenshots.py [--site-dir site] [--chromium /usr/bin/chromium]

Writes docs/images/site-technique.png (the T1046 card) and site-framework.png (the NIST
800-53 framework page with its layers). The pictures are of whatever build the site was
made from; they are not compared by the tests.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOTS = {
    "site-technique.png": "techniques/T1046/",
    "site-framework.png": "frameworks/nist_800_53/",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site-dir", type=Path, default=Path("site"))
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
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


if __name__ == "__main__":
    main()
