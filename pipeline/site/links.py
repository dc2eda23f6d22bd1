"""mkdocs' relative links made with less work for the plain ones.

Why: mkdocs turns every link of every page into a link relative to the page
(`_RelativePathTreeprocessor.path_to_url`): it splits the link as a URL, unquotes its
path, works out the file it names from the page's folder, looks the file up and makes
the relative link, then joins the URL again. The default site's pages hold about
400,000 links (a technique page links its detections, controls and tactics), and this
took 1.5 s of the site's CPU.

A plain link — letters, digits, `_`, `.`, `-` and `/`, not starting with `/`, without
`//`, with an optional anchor of the same characters but `/` — is its own path:
splitting and unquoting it change nothing and it has no scheme, host or query. Its
file's path depends only on the page's folder and the link, so it is worked out once per
folder and link in a process. The file is still looked up for every link (the page
cache records each lookup), and its relative link made by mkdocs' own function. Any
other link, a file that is missing (a warning and its suggestion) or left out of the
site, goes to mkdocs' own code, but for an http(s) link in ASCII without brackets, which
mkdocs returns as it is once it has split it (and splitting it cannot fail: no IPv6
host, nothing that Unicode normalization could turn into a separator); tests/site
compare both on random links.
"""

from __future__ import annotations

import posixpath
import re

from mkdocs import utils
from mkdocs.structure import pages as mkdocs_pages

_PLAIN = re.compile(r"(?!/)(?!.*//)([A-Za-z0-9_.\-/]+)(?:#([A-Za-z0-9_.\-]+))?")


class LeanRelativePathTreeprocessor(mkdocs_pages._RelativePathTreeprocessor):
    """mkdocs' relative links (see the module's docstring). `targets`: the files' paths
    worked out in this process, by the page's folder and the link's path."""

    def __init__(self, file, files, config, targets: dict[tuple[str, str], str]) -> None:
        super().__init__(file, files, config)
        self.targets = targets
        self.folder = posixpath.dirname(file.src_uri)

    def path_to_url(self, url: str) -> str:
        plain = _PLAIN.fullmatch(url)
        if plain is None:
            if url.startswith(("https://", "http://")) and url.isascii() and "[" not in url and "]" not in url:
                return url  # a scheme: mkdocs leaves the link as it is (splitting it cannot fail)
            return super().path_to_url(url)
        path, anchor = plain.group(1, 2)
        key = (self.folder, path)
        target_uri = self.targets.get(key)
        if target_uri is None:
            target_uri = self.targets[key] = self._target_uri(self.file.src_uri, path)
        target_file = self.files.get_file_from_path(target_uri)
        if target_file is None or target_file.inclusion.is_excluded():
            return super().path_to_url(url)  # its warning, mkdocs' own
        if anchor:
            # Register that this page links to the target file with an anchor (as mkdocs does).
            self.links_to_anchors.setdefault(target_file, {}).setdefault(anchor, url)
        relative = utils.get_relative_url(target_file.url, self.file.url)
        return f"{relative}#{anchor}" if anchor else relative
