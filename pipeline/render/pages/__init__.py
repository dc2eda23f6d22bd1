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

from pipeline.render.pages.pageset import Site
from pipeline.core import forked
from pipeline.core.perf import paused_gc
from pipeline.render.pages.badges import badges_by_technique
from pipeline.render.pages.builders import all_pages
from pipeline.render.pages.builders import page_keys
from pipeline.render.pages.depends import technique_digest
from pipeline.render.pages.group import group_digest
from pipeline.render.pages.sources import site_for_context


def render(ctx, out: Path) -> list[Path]:
    # Rendering makes hundreds of thousands of short-lived strings and dicts, freed by
    # reference counting; with the collector running, each of its full passes would walk
    # the whole graph of the build again (it doubled the time).
    with paused_gc():
        site = site_for_context(ctx, out)
        if ctx.profiles:
            site.profile_badges = badges_by_technique(ctx.profiles)
        return _write_by_unit(site, out / "docs", ctx.part("units"), ctx.progress)


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


def _write_by_unit(site: Site, docs: Path, units, progress=None) -> list[Path]:
    todo: list[str] = []
    fresh: dict[str, list[str]] = {}
    decided: dict[str, bool] = {}
    keys = page_keys(site)
    found_units = [_unit(site, key) for key in keys]
    # Outside a build nothing is taken: the digests are not worth their time.
    digested = [f[1] for f in found_units if f is not None and f[1][0] in ("technique", "group")]
    unit_digests = _digests(site, digested) if units.out is not None else {}
    for key, found in zip(keys, found_units):
        if found is None:
            todo.append(key)
            continue
        name, (kind, ident) = found
        if name not in decided:
            if kind == "technique":
                badges = site.profile_badges.get(ident)
                taken = units.take(name, (), unit_digests.get(found[1], "") + ("|" + "|".join(badges) if badges else ""))
            elif kind == "group":
                taken = units.take(name, (), unit_digests.get(found[1], ""))
            else:
                sources = units.framework_sources(ident) if kind == "framework" else units.detection_source(ident)
                taken = units.take(name, sources)
            decided[name] = taken is not None
            if not decided[name]:
                fresh[name] = []
        if not decided[name]:
            todo.append(key)
            fresh[name].append(key)
    hashes: dict[str, tuple[str, int, list[int]]] = {}
    written = write_pages(site, docs, todo, progress, hashes)
    if units.out is not None:
        prefix = docs.relative_to(units.out).as_posix() + "/"
        for rel, (sha, size, sig) in hashes.items():
            units.note_written(prefix + rel, sha, size, sig)
    for name, keys in fresh.items():
        units.record(name, [docs / site.pages[k] for k in keys])
    return written


DIGESTS = 100  # technique and group digests computed at a time, spread over the processes


def _digests(site: Site, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The digest of each ("technique" | "group", node key) unit in `wanted`: what its
    page reads beyond ATT&CK (`depends.technique_digest`, `group.group_digest`), a
    second of hashing on the default build, spread over the build's processes like the
    pages (a digest reads the site and the files of the other renderers only)."""
    wanted = list(dict.fromkeys(wanted))
    memo: dict[str, bytes] = {}  # each process's own: a source node's bytes, hashed once per process

    def one(kind: str, key: str) -> str:
        return technique_digest(site.g, key, memo) if kind == "technique" else group_digest(site, key)

    pieces = [lambda part=wanted[i : i + DIGESTS]: [one(*w) for w in part] for i in range(0, len(wanted), DIGESTS)]
    done, _ = forked.run(pieces, forked.jobs())
    return dict(zip(wanted, (d for part in done for d in part)))


BATCH = 400  # pages rendered, then written, at a time (the tree is ~65 MB for 10,000 pages)


def write_pages(site: Site, docs: Path, keys: list[str] | None = None, progress=None, digests: dict | None = None) -> list[Path]:
    """Render every page of `site` (or those of `keys`, in `page_keys` order) under
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
    for folder in sorted({(docs / site.pages[k]).parent for k in keys}):
        folder.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    batches = [keys[start : start + BATCH] for start in range(0, len(keys), BATCH)]

    def piece(n: int):
        def go() -> list[tuple[str, str, int, list[int]]]:
            if progress is not None and os.getpid() == parent:
                progress(n * BATCH, len(keys))  # batches are claimed in order: near enough
            return _write_batch(site, str(docs), batches[n])

        return go

    done, _ = forked.run([piece(n) for n in range(len(batches))], forked.jobs())
    if digests is not None:
        for batch in done:
            for rel, sha, size, sig in batch:
                digests[rel] = (sha, size, sig)
    return [docs / site.pages[k] for k in keys]


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
