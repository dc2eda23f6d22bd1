"""The pages of earlier site builds, kept beside the site to be used again.

Why: converting and writing ~10,500 pages is nearly all of a site build's two minutes,
yet most pages come out the same from one site build to the next: a site made again
after a build that changed a few mapping rows or added a few rules (the pages that
show them change, the others do not), `site --site-url` on the same build (only the
pages that link the Navigator are converted and written again), the first site of a new
ATT&CK release (the pages that name the release or show what it changed are converted
again; the pages of the navigation are written again, its branch having changed, and
of the ~9,400 out of it only those converted again), a site rebuilt after a failed
publish. A page is made in two steps
(`parallel.build`), and each step's result is a function of what it reads, so each is
kept under a digest of exactly that:

- **converted** (Python-Markdown and the `page_content` hooks): the page's Markdown and
  front matter after the `page_markdown` hooks, its path and address, its place in the
  navigation (its title there, whether it is the home page), and the site's setup — the
  mkdocs configuration without its folder paths and without what only the hooks or the
  templates read (the site's address, its name and date, the navigation: see
  `NOT_CONVERTING`), the site's own code and templates, and the versions of the
  libraries that turn Markdown into HTML. A page
  reads the other files only by looking them up by path (mkdocs' links, the hooks'
  links in raw HTML): the entry names each file looked up and what was found (its
  address, or nothing), and holds only while the same is found again;
- **written** (the theme's templates and the search plugin's entries): the converted
  page (its key and what its links found), the whole configuration but the site's
  address, name and date, and the navigation — its tree with the titles, addresses and
  front matter of its pages, which each page prints (its branch, previous and next
  links). A page out of the navigation (a control, a detection) prints only the top of
  it, drawn once per folder (`navpartial`): such a page is keyed by that drawing
  instead, which a new technique or a renamed tactic leaves as it was; the drawing is
  kept too, under the navigation and the folder, so that the key is known before any
  page of the folder is drawn. Pages out of the navigation are in no other page's
  template. The templates print the site's address in one place, the page's canonical
  link: a written page is kept with that link's address cut out and gets the address of
  the site it goes into (`site --site-url` writes again only the pages it converts
  again). They print the site's name (which holds the ATT&CK release) in several, raw
  and escaped: pages are written with a mark in its place (`NAME_MARK`), kept so, and
  get the name of the site they go into (`named`).

Anything else a page could depend on changes one of these digests, so a kept result
is the one a fresh build would make; tests/site check that a site made from the cache
is byte for byte the one made without it. A page whose step logged a warning is never
kept (the warning must be seen again, and a site with warnings fails anyway).

Entries are JSON and HTML (no pickle: the folder is data, never code), compressed with a
checksum, appended to a few pack files under `.<site>.cache/` beside the site link
(site/packs.py); a site build is the only writer (the site lock) and keeps exactly the
entries it used, so the folder holds one site's worth (at most twice that, until it is
compacted). An entry that cannot be read is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterator

import orjson
from markupsafe import escape
from mkdocs.structure.files import Files

from pipeline.site.packs import PageCache

FORMAT = "3"
# The libraries whose versions decide a page's HTML or search entries.
LIBRARIES = ("mkdocs", "mkdocs-material", "Markdown", "pymdown-extensions", "Pygments", "Jinja2", "MarkupSafe")
_CODE = Path(__file__).resolve().parent


def digest(*parts: object) -> str:
    """sha256 of `parts` as canonical JSON (sorted keys): the same for equal values."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def code_digest() -> str:
    """The site's own code and templates (pipeline/site), the Python version and the
    libraries' versions: a new release of any of them makes every page again."""
    h = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
    for name in LIBRARIES:
        try:
            h.update(f"\0{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"\0{name}=-".encode())
    for path in sorted(_CODE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(b"\0" + path.relative_to(_CODE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def folder_for(site: Path) -> Path:
    """Where the cache of the site published at `site` lives: beside its link."""
    return site.parent / f".{site.name}.cache"


class _Warned(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


@contextlib.contextmanager
def watching() -> Iterator[_Warned]:
    """Whether mkdocs (or a hook, a plugin: every logger under "mkdocs") logged a
    warning meanwhile: such a result is not kept."""
    logger = logging.getLogger("mkdocs")
    handler = _Warned()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _tree(items) -> list:
    return [
        (
            type(i).__name__,
            i.title,
            getattr(i, "url", None),
            i.meta if getattr(i, "is_page", False) else None,
            _tree(i.children) if getattr(i, "children", None) else None,
        )
        for i in items
    ]


def _found(files, uri: str) -> list | None:
    f = files.get_file_from_path(uri)
    return None if f is None else [f.url, f.inclusion.name]


def plain_uri(uri: str) -> bool:
    """Whether `uri` is its own POSIX path (`PurePath(uri).as_posix() == uri`): no leading
    or trailing slash, no empty and no `.` segment, so a lookup by it needs no path made.

    Why: mkdocs looks every link of a page up by `PurePath(path).as_posix()`, 0.8 s of
    the site's CPU in one process, and the links the site's pages hold are plain."""
    return bool(uri) and uri[0] != "/" and uri[-1] != "/" and "//" not in uri and uri != "." and not (
        uri.startswith("./") or uri.endswith("/.") or "/./" in uri
    )


@contextlib.contextmanager
def looking_up(files) -> Iterator[dict]:
    """Every file the block looks up by path in `files` (mkdocs' links to other pages,
    the hooks' links in raw HTML: the only way a page's conversion reads the others),
    with what it found: the page's conversion holds as long as those are found again."""
    seen: dict[str, list | None] = {}
    real = files.get_file_from_path
    # mkdocs' own lookup reads its mapping by the path's POSIX form (another's is asked)
    by_uri = files.src_uris if type(files).get_file_from_path is Files.get_file_from_path else None

    def recorded(uri: str):
        f = by_uri.get(uri) if by_uri is not None and plain_uri(uri) else real(uri)
        seen[uri] = None if f is None else [f.url, f.inclusion.name]
        return f

    files.get_file_from_path = recorded
    try:
        yield seen
    finally:
        del files.get_file_from_path


# Settings a page's conversion never reads, left out of its key:
# - the site's address and the Navigator its layers open: only the `page_markdown`
#   hooks read them, and their result is part of the page's key;
# - the site's name (it holds the ATT&CK release) and its date: only the templates and
#   the sitemap print them; the date a page gets (`update_date`) is never kept;
# - the navigation: a page's conversion reads only its own place in it, its title
#   there and whether it is the home page, which `converted_key` adds.
# So a site made again for another address, or for a new ATT&CK release, converts
# again only the pages whose Markdown changed; it writes them all again.
NOT_CONVERTING = ("site_url", "site_name", "nav")
NOT_CONVERTING_EXTRA = ("layer_base", "navigator_url", "source_date_epoch")
# What a page's writing reads of the site's address: whether it has one (the canonical
# link is printed then), and the address itself only in that link, which a kept page
# leaves out. The layers' address (`layer_base`, the site's) is read only by the hooks
# before conversion; the site's date only by the sitemap (the parent's), never by a
# page's templates.
NOT_WRITING_EXTRA = ("layer_base", "source_date_epoch")
# The site's name (it holds the ATT&CK release) is printed by the templates alone, and a
# page is written with `NAME_MARK` in its place (`parallel`) and kept so: `named` puts
# the name of the site it goes into back, raw where the templates print it raw and
# escaped where they escape it. A page out of the navigation is keyed by what it prints
# of the navigation (`folder_written_key`), not by the whole navigation.
NOT_WRITING = ("site_name", "nav")  # the navigation: in `navigation`, or what a folder prints of it
NAME_MARK = "\ue000attack-pipeline site name&\ue001"
_NAME_FORMS = (NAME_MARK.encode(), str(escape(NAME_MARK)).encode())
_CANONICAL = b'<link rel="canonical" href="'


def named(html: bytes, site_name: str) -> bytes:
    """A page written with `NAME_MARK` for the site's name, with `site_name` in its place."""
    raw, escaped = _NAME_FORMS
    return html.replace(escaped, str(escape(site_name)).encode()).replace(raw, site_name.encode())


@dataclass(frozen=True, slots=True)
class Reuse:
    """The keys of one site build's pages, and the cache they are looked up in.
    `converting` and `writing`: digests of what every page's conversion, and every
    page's writing, reads besides the page itself (see the module's docstring); `read`
    False makes every page again (`site --fresh`) and still keeps the results."""

    cache: PageCache
    converting: str
    writing: str
    read: bool = True

    @classmethod
    def for_site(cls, site: Path, portable_config: dict, read: bool = True) -> "Reuse":
        """`portable_config`: the site's mkdocs configuration without the paths of this
        one build (see `make._portable`)."""
        code = code_digest()
        converting = {k: v for k, v in portable_config.items() if k not in NOT_CONVERTING}
        converting["extra"] = {k: v for k, v in portable_config.get("extra", {}).items() if k not in NOT_CONVERTING_EXTRA}
        writing = {k: v for k, v in portable_config.items() if k not in NOT_WRITING}
        writing["site_url"] = bool(portable_config.get("site_url"))
        writing["extra"] = {k: v for k, v in portable_config.get("extra", {}).items() if k not in NOT_WRITING_EXTRA}
        return cls(PageCache.open(folder_for(site), read), digest(code, converting), digest(code, writing), read)

    def converted_key(self, page) -> str | None:
        """A page's key once its `page_markdown` hooks have run; None when its front
        matter holds what JSON cannot (then it is always made)."""
        f = page.file
        # The navigation's title for the page (an attribute of its own once mkdocs set
        # one), read by `page.title` while the page converts, as is `is_homepage`.
        placed = (page.__dict__.get("title"), page.is_homepage)
        try:
            text = hashlib.sha256(page.markdown.encode("utf-8", "surrogatepass")).hexdigest()
            return digest("converted", self.converting, f.src_uri, f.url, f.dest_uri, f.inclusion.name, text, page.meta, placed)
        except TypeError:
            return None

    def converted(self, key: str | None, files) -> tuple[dict, str] | None:
        """A converted page's state (`convert.page_state`) and its identity, if kept and
        every file its conversion looked up is found again at the same address."""
        data = self.cache.get(key) if key is not None and self.read else None
        if data is None:
            return None
        try:
            entry = orjson.loads(data)
            state, looked_up = entry["state"], entry["looked_up"]
            if any(_found(files, uri) != found for uri, found in looked_up.items()):
                return None
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return None
        return state, digest(key, looked_up)

    def keep_converted(self, key: str | None, state: dict, looked_up: dict, keep: bool = True) -> str | None:
        """Keeps a converted page (unless `keep` is false); returns its identity, what
        its written key is made from (its key and what its links found); None for a
        page that has no key."""
        if key is None:
            return None
        if keep:
            try:
                self.cache.put(key, orjson.dumps({"state": state, "looked_up": looked_up}))
            except TypeError:
                return None  # front matter JSON cannot hold: made again each time
        return digest(key, looked_up)

    def navigation(self, nav) -> str | None:
        """The digest of what every written page shows of the others: the navigation
        tree (titles, addresses, and the front matter of its pages, which material reads
        for icons and status) and the configuration. A page out of the navigation (a
        control, a detection) appears in no other page's template: adding one writes
        only itself."""
        try:
            return digest("navigation", self.writing, _tree(nav.items))
        except TypeError:
            return None

    def written_key(self, navigation: str | None, converted: str | None) -> str | None:
        """A written page's key: its converted identity and the navigation around it."""
        if navigation is None or converted is None:
            return None
        return digest("written", navigation, converted)

    def folder_navigation_key(self, navigation: str | None, folder: str) -> str | None:
        """The key of the navigation drawn for the pages of `folder` out of the
        navigation (`navpartial`), under `NAME_MARK`: it holds while the navigation does."""
        return None if navigation is None else digest("navigation of a folder", navigation, folder)

    def drawn(self, key: str | None) -> str | None:
        """A folder's navigation kept by `keep_drawn`, if kept."""
        data = self.cache.get(key) if key is not None and self.read else None
        try:
            return None if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def keep_drawn(self, key: str | None, drawn: str) -> None:
        if key is not None:
            self.cache.put(key, drawn.encode("utf-8"))

    def folder_written_key(self, drawn: str | None, converted: str | None) -> str | None:
        """A written key for a page out of the navigation: its converted identity and
        what it prints of the navigation, `drawn` (its folder's, `navpartial`); the
        rest of its template reads nothing of the navigation."""
        if drawn is None or converted is None:
            return None
        return digest("written out of the navigation", self.writing, hashlib.sha256(drawn.encode()).hexdigest(), converted)

    def written(self, key: str | None, canonical: str | None = None, site_name: str = "") -> tuple[list, bytes | None] | None:
        """A written page, if kept: its search entries and its HTML file's bytes (None:
        mkdocs wrote no file, the page being empty), with `canonical` (the page's
        canonical address on this site) put back into its canonical link and `site_name`
        in place of `NAME_MARK`."""
        data = self.cache.get(key) if key is not None and self.read else None
        if data is None:
            return None
        head, _, html = data.partition(b"\n")
        try:
            entries, has_html, cut = orjson.loads(head)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            return None
        if not has_html:
            return entries, None
        if (cut >= 0) != (canonical is not None):
            return None
        if canonical is not None:
            html = html[:cut] + canonical.encode() + html[cut:]
        return entries, named(html, site_name)

    def keep_written(self, key: str | None, entries: list, html: bytes | None, canonical: str | None = None) -> None:
        """Kept as one line of JSON (no raw line break: orjson escapes them) and the
        HTML's bytes as they are (written with `NAME_MARK` for the site's name), but for
        the address in its canonical link
        (`canonical`, the page's canonical address), cut out where the line says. A page
        whose HTML does not hold that link exactly once is not kept."""
        if key is None:
            return
        cut = -1
        if html is not None and canonical is not None:
            tag = _CANONICAL + canonical.encode() + b'">'
            at = html.find(tag)
            if at < 0 or html.find(tag, at + 1) >= 0:
                return
            cut = at + len(_CANONICAL)
            html = html[:cut] + html[cut + len(canonical.encode()):]
        try:
            head = orjson.dumps([entries, html is not None, cut])
        except TypeError:
            return
        self.cache.put(key, head + b"\n" + (html or b""))
