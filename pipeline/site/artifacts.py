"""Artifact downloads on the site, and the links to them.

Pages link artifacts relative to their place under the build's `docs/`
(`docs/techniques/T1046.md` → `../../layers/enterprise/coverage.json`), which is right
in the build folder and on the site alike: the site serves that page one level deeper
(`techniques/T1046/`) and serves the artifacts at `layers/…` beside its pages.

mkdocs, though, resolves a link against the Markdown file inside its docs folder, where
`../../layers/…` points outside and cannot be checked. Rather than copying the build's
80 MB of pages and 200 MB of artifacts into a staging folder (or leaving those links
unchecked), the artifacts join mkdocs' file collection straight from the build folder
(`artifact_files`) and each artifact link is rewritten to the same file as mkdocs sees
it (`rewrite_links`: one `../` fewer). mkdocs then checks every link — a link to a
missing artifact is a warning, which fails the site build — and writes each artifact's
URL relative to the page, which is the link the page had.

The layers' own links (each technique's page, its controls' pages) are absolute: the
build wrote them for its `site_url`. A site made for another address (`site
--site-url`, no rebuild) serves its layers with those links moved to its own address
(`rebase_layer`): the layer a Navigator opens from the site then links that site, not
wherever the build was first meant to go. The build's files are never written.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from pathlib import Path

import orjson

from pipeline.site.source import ARTIFACT_FOLDERS

_LINK = re.compile(r"\]\(((?:\.\./)+)([^)\s]*)\)")


def rewrite_links(markdown: str, src_uri: str) -> str:
    """Links that leave `docs/` for an artifact folder, made relative within the site."""
    here = posixpath.dirname(f"docs/{src_uri}")

    def fix(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(here, m.group(1) + m.group(2)))
        if target.split("/", 1)[0] not in ARTIFACT_FOLDERS:
            return m.group(0)
        return f"]({posixpath.relpath(target, posixpath.dirname(src_uri) or '.')})"

    return _LINK.sub(fix, markdown)


# A layer's link to a page of the site, as the build writes it (orjson, indent 2):
# `{base}/techniques/<id>/`, `{base}/controls/<framework>/<id>/` or
# `{base}/frameworks/<framework>/`. The first one names the address the build linked.
_PAGE_LINK = re.compile(
    rb'"url": "(https?://[^"\\]*?)/(?:techniques/T\d{4}(?:\.\d{3})?|controls/[^"/\\]+/[^"/\\]+|frameworks/[^"/\\]+)/"'
)
LAYER_FOLDERS = ("layers/", "profiles/")


def rebase_layer(data: bytes, site_url: str) -> bytes:
    """A Navigator layer (JSON bytes) with its links to the build's site moved to
    `site_url`; the same bytes when it has none, or they already point there."""
    m = _PAGE_LINK.search(data)
    if not m or not site_url:
        return data
    new = orjson.dumps(site_url.rstrip("/"))[1:-1]
    if m.group(1) == new:
        return data
    return data.replace(b'"url": "' + m.group(1) + b"/", b'"url": "' + new + b"/")


def artifact_paths(root: Path) -> list[str]:
    """Every file of the build's artifact folders, as paths relative to the build."""
    out = []
    for folder in ARTIFACT_FOLDERS:
        base = root / folder
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel = Path(dirpath).relative_to(root).as_posix()
            out += [f"{rel}/{name}" for name in sorted(filenames) if not name.startswith(".")]
    return out


def artifact_files(root: Path, config, site_url: str = "") -> list:
    """mkdocs File objects for the artifacts, read from the build folder, written by
    hard link where the file system allows (the build is immutable; 200 MB is not
    copied for nothing), else copied; a layer whose links name another address than
    `site_url` is written rebased instead."""
    # lazy: mkdocs costs ~0.1-0.25 s to import; only making the site needs it
    from mkdocs.structure.files import File

    class Artifact(File):
        """A download: served as it is, even a Markdown report (not made a page)."""

        def is_documentation_page(self) -> bool:
            return False

        def is_static_page(self) -> bool:
            return False

        def is_media_file(self) -> bool:
            return True

        def copy_file(self, dirty: bool = False) -> None:
            dest = self.abs_dest_path
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if site_url and self.src_uri.startswith(LAYER_FOLDERS) and self.src_uri.endswith(".json"):
                data = Path(self.abs_src_path).read_bytes()
                rebased = rebase_layer(data, site_url)
                if rebased is not data:
                    Path(dest).write_bytes(rebased)
                    return
            try:
                os.link(self.abs_src_path, dest)
            except OSError:
                shutil.copyfile(self.abs_src_path, dest)

    return [Artifact(rel, str(root), config["site_dir"], config["use_directory_urls"]) for rel in artifact_paths(root)]
