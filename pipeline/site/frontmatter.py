"""A page's source read and its front matter taken off, as mkdocs does, with less work
for a page that has none.

Why: mkdocs (`Page.read_source`, `mkdocs.utils.meta.get_data`) looks for MultiMarkdown
metadata in a page without YAML front matter by splitting the whole page into lines,
taking lines off the front of that list one by one, and joining the rest again: every
page of the site is copied three times over to find that its first line is a heading
(0.9 s of the default site's CPU). Here the lines are read from the front of the text
as found, and the rest is the text from there, the same string the join gives; a page
with YAML front matter, or with a carriage return (which mkdocs turns into line feeds
throughout), is mkdocs' own.
"""

from __future__ import annotations

from mkdocs.structure import pages as mkdocs_pages
from mkdocs.utils import meta


def page_data(doc: str) -> tuple[str, dict]:
    """`mkdocs.utils.meta.get_data(doc)`: the page's Markdown and its metadata."""
    if "\r" in doc or meta.YAML_RE.match(doc):
        return meta.get_data(doc)
    data: dict = {}
    key = None
    at, size = 0, len(doc)
    while at <= size:  # mkdocs' `while lines`: a line is left from `at` on
        end = doc.find("\n", at)
        line, after = (doc[at:], size + 1) if end < 0 else (doc[at:end], end + 1)
        if line.strip() == "":
            at = after  # the blank line ends the metadata, and goes with it
            break
        if found := meta.META_RE.match(line):
            key = found.group("key").lower().strip()
            value = found.group("value").strip()
            data[key] = f"{data[key]} {value}" if key in data else value
        elif (more := meta.META_MORE_RE.match(line)) and key:
            data[key] += " {}".format(more.group("value").strip())
        else:
            break  # no metadata: the text from this line on
        at = after
    return doc[at:].lstrip("\n"), data


def read_source(page, config) -> None:
    """mkdocs' `Page.read_source` (the same plugin event, errors and log lines), with
    `page_data` for `get_data`."""
    source = config.plugins.on_page_read_source(page=page, config=config)
    if source is None:
        try:
            source = page.file.content_string
        except OSError:
            mkdocs_pages.log.error(f"File not found: {page.file.src_path}")
            raise
        except ValueError:
            mkdocs_pages.log.error(f"Encoding error reading file: {page.file.src_path}")
            raise
    page.markdown, page.meta = page_data(source)
