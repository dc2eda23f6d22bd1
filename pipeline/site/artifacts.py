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
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from pathlib import Path

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


def artifact_files(root: Path, config) -> list:
    """mkdocs File objects for the artifacts, read from the build folder, written by
    hard link where the file system allows (the build is immutable; 200 MB is not
    copied for nothing), else copied."""
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
            try:
                os.link(self.abs_src_path, dest)
            except OSError:
                shutil.copyfile(self.abs_src_path, dest)

    return [Artifact(rel, str(root), config["site_dir"], config["use_directory_urls"]) for rel in artifact_paths(root)]
