"""`docs/`: the Markdown pages of the build — technique cards, tactics, frameworks,
controls and capabilities, detections, and an index.

Gather, then write: `Site.gather` decides every page's path first (so every link is
known to resolve), the builders turn graph data into escaped Markdown fragments, and
the Jinja2 templates of `pipeline/templates/docs-*.md.j2` lay them out. See
`environment.py` for why autoescape is off and what replaces it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pipeline.render import EarlyWork
from pipeline.render.pages.pageset import Site
from pipeline.core import forked
from pipeline.core.perf import paused_gc
from pipeline.render.pages.badges import badges_by_technique
from pipeline.render.pages.builders import all_pages
from pipeline.render.pages.builders import page_keys
from pipeline.render.pages.depends import technique_digest
from pipeline.render.pages.group import group_digest
from pipeline.render.pages.sources import site_for_context


# Pages that link no artifact of another renderer (`downloads.py` is what links them):
# a build writes them while the other renderers run (`early_work`).
EARLY_KINDS = frozenset({"tactic", "detection", "detection_source", "index"})
# Page kinds by the time a page of the kind takes, longest first (measured on the
# default build: the index 0.3 s, a detection source's list 0.1 s, a framework page
# 40 ms, a technique card 4 ms, a detection page 0.3 ms). Pages are written in this
# order, so that the batches claimed last are short ones and no process is left with
# a long one while the others wait.
BY_COST = ("index", "detection_source", "framework", "tactic", "group", "technique", "capability", "control", "detection")


def render(ctx, out: Path) -> list[Path]:
    """Every page of the build under `out/docs`, once the other renderers have written
    what the pages link: the early pieces and the rest spread over the processes."""
    with paused_gc():  # see `early_work`
        work = early_work(ctx, out)
        done, _ = forked.run(list(work.pieces), forked.jobs())
        return work.finish(done)


def early_work(ctx, out: Path) -> EarlyWork:
    """Plan the site and decide which pages' units are taken from the previous build;
    the pieces write the pages that link no other artifact (`EARLY_KINDS`: most of the
    pages, the detection pages) and take the technique cards' digests, so that a build
    can run them while the other renderers run; `finish` writes the other pages.

    Rendering makes hundreds of thousands of short-lived strings and dicts, freed by
    reference counting; with the collector running, each of its full passes would walk
    the whole graph of the build again (it doubled the time): each step pauses it."""
    with paused_gc():
        site = site_for_context(ctx, out)
        if ctx.profiles:
            site.profile_badges = badges_by_technique(ctx.profiles)
        run = _Run(site, out / "docs", ctx.part("units"))
        early = run.decide([k for k in run.by_cost if k.partition(":")[0] in EARLY_KINDS], {})
    # Outside a build nothing is taken: the digests are not worth their time.
    wanted = run.wanted("technique") if run.units.out is not None else []
    digests = _digest_pieces(site, wanted)
    pages = _page_pieces(site, run.docs, early)

    def finish(results: list) -> list[Path]:
        with paused_gc():
            found = dict(zip(wanted, (d for part in results[: len(digests)] for d in part)))
            hashes = {rel: (sha, size, sig) for part in results[len(digests) :] for rel, sha, size, sig in part}
            return run.finish(found, hashes, ctx.progress)

    return EarlyWork(pieces=tuple(digests + pages), finish=finish)


class _Run:
    """The pages of one rendering of the docs and the units they belong to: which are
    taken from the previous build, which are written (`todo`), and each fresh unit's
    pages, decided in two steps (the early pages', then the others' once the technique
    and group digests are known)."""

    def __init__(self, site: Site, docs: Path, units) -> None:
        self.site, self.docs, self.units = site, docs, units
        self.keys = page_keys(site)
        self.by_cost = sorted(self.keys, key=lambda k: BY_COST.index(k.partition(":")[0]))
        self.found = {key: _unit(site, key) for key in self.keys}
        self.decided: dict[str, bool] = {}
        self.todo: set[str] = set()

    def wanted(self, *kinds: str) -> list[tuple[str, str]]:
        """The (kind, node key) of each unit of `kinds` (technique, group), once each."""
        return list(dict.fromkeys(f[1] for f in self.found.values() if f is not None and f[1][0] in kinds))

    def decide(self, keys: list[str], digests: dict[tuple[str, str], str]) -> list[str]:
        """The pages of `keys` to write (in the order of `keys`): those without a unit and
        those of a unit not taken from the previous build."""
        units, todo = self.units, []
        for key in keys:
            found = self.found[key]
            if found is None:
                todo.append(key)
                continue
            name, (kind, ident) = found
            if name not in self.decided:
                if kind == "technique":
                    badges = self.site.profile_badges.get(ident)
                    taken = units.take(name, (), digests.get(found[1], "") + ("|" + "|".join(badges) if badges else ""))
                elif kind == "group":
                    taken = units.take(name, (), digests.get(found[1], ""))
                else:
                    sources = units.framework_sources(ident) if kind == "framework" else units.detection_source(ident)
                    taken = units.take(name, sources)
                self.decided[name] = taken is not None
            if not self.decided[name]:
                todo.append(key)
        self.todo.update(todo)
        return todo

    def finish(self, digests: dict, hashes: dict[str, tuple[str, int, list[int]]], progress) -> list[Path]:
        """Write the pages that were not early (with the group digests, which read the
        links to the other renderers' files), note every written page's digest and
        record the fresh units; the written pages' paths, in page order."""
        site, docs, units = self.site, self.docs, self.units
        if units.out is not None:
            digests = digests | _digests(site, self.wanted("group"))
        late = self.decide([k for k in self.by_cost if k.partition(":")[0] not in EARLY_KINDS], digests)
        write_pages(site, docs, late, progress, hashes)
        if units.out is not None:
            prefix = docs.relative_to(units.out).as_posix() + "/"
            for rel, (sha, size, sig) in hashes.items():
                units.note_written(prefix + rel, sha, size, sig)
        fresh: dict[str, list[str]] = {}
        for key in self.keys:
            found = self.found[key]
            if found is not None and not self.decided[found[0]]:
                fresh.setdefault(found[0], []).append(key)
        for name, keys in fresh.items():
            units.record(name, [docs / site.pages[k] for k in keys])
        return [docs / site.pages[k] for k in self.keys if k in self.todo]


def _unit(site: Site, key: str) -> tuple[str, tuple[str, str]] | None:
    """The unit of a page that reads one framework's, one detection corpus's or one
    technique's data only: control and capability pages with their framework's page,
    detection pages with their source's list, a technique card alone (its digest:
    `depends.py`), a group page alone (its digest: `group.group_digest`). Tactic and
    index pages read every source: no unit."""
    kind, _, rest = key.partition(":")
    if kind in ("control", "capability"):
        fw = site.g.nodes[key]["framework"]
    elif kind == "framework":
        fw = rest
    elif kind == "detection":
        return f"pages/detections/{site.g.nodes[key]['source']}", ("detection", site.g.nodes[key]["source"])
    elif kind == "detection_source":
        return f"pages/detections/{rest}", ("detection", rest)
    elif kind == "technique":
        return f"pages/techniques/{rest}", ("technique", key)
    elif kind == "group":
        return f"pages/groups/{site.g.nodes[key]['id']}", ("group", key)
    else:
        return None
    return f"pages/frameworks/{fw}", ("framework", fw)


DIGESTS = 100  # technique and group digests computed at a time, spread over the processes


def _digests(site: Site, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The digest of each ("technique" | "group", node key) unit in `wanted`: what its
    page reads beyond ATT&CK (`depends.technique_digest`, `group.group_digest`), a
    second of hashing on the default build, spread over the build's processes like the
    pages (a technique's digest reads the graph only, a group's the site and the
    files of the other renderers)."""
    done, _ = forked.run(_digest_pieces(site, wanted), forked.jobs())
    return dict(zip(wanted, (d for part in done for d in part)))


def _digest_pieces(site: Site, wanted: list[tuple[str, str]]) -> list:
    """Pieces of work taking the digests of `wanted` (distinct), DIGESTS at a time."""
    memo: dict[str, bytes] = {}  # each process's own: a source node's bytes, hashed once per process

    def one(kind: str, key: str) -> str:
        return technique_digest(site.g, key, memo) if kind == "technique" else group_digest(site, key)

    return [lambda part=wanted[i : i + DIGESTS]: [one(*w) for w in part] for i in range(0, len(wanted), DIGESTS)]


# Pages rendered, then written, at a time: small enough that the last batch claimed
# ends soon after the others (100 technique cards are a third of a second), large
# enough that its result is worth a trip through a pipe.
BATCH = 100


def write_pages(site: Site, docs: Path, keys: list[str] | None = None, progress=None, digests: dict | None = None) -> list[Path]:
    """Render every page of `site` (or those of `keys`, in that order) under
    `docs` (an empty or new folder). `digests` receives each file's (sha256, size,
    stat signature), taken from the bytes as they are written, by its path under `docs`.

    Pages are rendered a batch at a time and then written: alternating between
    rendering one page and creating its file was measured 10-20 % slower (each
    evicts the other's working set from the CPU caches). The batches are spread over
    the build's processes (`pipeline.core.forked`: forked after the site was planned,
    so each shares the graph and the plan; `ATTACK_PIPELINE_JOBS=1` renders them all
    here, in order). A page depends on the site and the files of the other renderers
    only, never on another page, so the bytes do not depend on which process wrote
    which batch. A thread would not help: rendering holds the interpreter lock, and a
    writer thread waits for it after each of its 30,000 system calls.
    """
    keys = page_keys(site) if keys is None else keys
    parent = os.getpid()

    def piece(n: int, write):
        def go() -> list[tuple[str, str, int, list[int]]]:
            if progress is not None and os.getpid() == parent:
                progress(n * BATCH, len(keys))  # batches are claimed in order: near enough
            return write()

        return go

    done, _ = forked.run([piece(n, w) for n, w in enumerate(_page_pieces(site, docs, keys))], forked.jobs())
    if digests is not None:
        for batch in done:
            for rel, sha, size, sig in batch:
                digests[rel] = (sha, size, sig)
    return [docs / site.pages[k] for k in keys]


def _page_pieces(site: Site, docs: Path, keys: list[str]) -> list:
    """Pieces of work writing the pages of `keys`, BATCH at a time, their folders made
    here first; each returns (path under `docs`, sha256, size, stat signature) of its pages."""
    for folder in sorted({(docs / site.pages[k]).parent for k in keys}):
        folder.mkdir(parents=True, exist_ok=True)
    return [lambda part=keys[i : i + BATCH]: _write_batch(site, str(docs), part) for i in range(0, len(keys), BATCH)]


def _write_batch(site: Site, docs: str, keys: list[str]) -> list[tuple[str, str, int, list[int]]]:
    """Strings, not path objects: on 10,000 pages pathlib's parsing cost a tenth of a second."""
    batch = [(rel, content.encode("utf-8")) for rel, content in all_pages(site, keys)]
    return [(rel, *_write(os.path.join(docs, rel), data)) for rel, data in batch]


def _write(path: Path | str, data: bytes) -> tuple[str, int, list[int]]:
    """Plain system calls, without a text-file object for each of ten thousand files
    (creating the file is most of the cost: ~0.1-0.2 ms each here). Returns the
    sha256 and size of the bytes written and the file's stat signature once written
    (the manifest's, `pipeline.build.integrity.signature`), so that the file is not
    read again to be hashed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        st = os.fstat(fd)
    finally:
        os.close(fd)
    return hashlib.sha256(data).hexdigest(), len(data), [st.st_ino, st.st_size, st.st_mtime_ns]
