"""The page cache's store (pipeline/site/packs.py): entries appended to one pack per
process, readable by every process once a build ends, exactly the ones it used kept."""

from __future__ import annotations

import hashlib
import os

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.site import packs
from pipeline.site.packs import PageCache


def _key(n: object) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _value(n: object) -> bytes:
    return f"<html>{n}</html>".encode() * (1 + hash(str(n)) % 50)


def _files(root) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def _pack_bytes(root) -> int:
    return sum(p.stat().st_size for p in root.iterdir() if p.name.endswith(packs.SUFFIX))


def test_what_forked_workers_put_is_read_by_every_process_once_the_build_ends(tmp_path):
    root = tmp_path / "cache"
    cache = PageCache.open(root)
    cache.put(_key("parent"), _value("parent"))
    pids = []
    for worker in range(2):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            status = 1
            try:
                for n in range(worker * 10, worker * 10 + 10):
                    cache.put(_key(n), _value(n))
                status = 0 if cache.get(_key(worker * 10)) == _value(worker * 10) else 2
            finally:
                os._exit(status)
        pids.append(pid)
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0, 0]
    # Not yet: a worker's entries are in the index once the build ends.
    assert cache.get(_key(0)) is None and PageCache.open(root).keys() == set()
    wanted = {_key(n) for n in range(20)} | {_key("parent")}
    cache.finish(sorted(wanted) + [None])
    assert len([name for name in _files(root) if name.endswith(packs.SUFFIX)]) == 3
    again = PageCache.open(root)
    assert again.keys() == wanted
    assert all(again.get(_key(n)) == _value(n) for n in [*range(20), "parent"])
    assert cache.get(_key(19)) == _value(19)  # the finishing process reads them too
    again.close()


def test_a_build_keeps_exactly_what_it_used_and_compacts_sparse_packs(tmp_path):
    root = tmp_path / "cache"
    first = PageCache.open(root)
    for n in range(100):
        first.put(_key(n), _value(n))
    first.finish(_key(n) for n in range(100))
    (old_pack,) = [name for name in _files(root) if name.endswith(packs.SUFFIX)]

    second = PageCache.open(root)
    assert all(second.get(_key(n)) == _value(n) for n in range(100))
    for n in range(100, 110):
        second.put(_key(n), _value(n))
    used = [_key(n) for n in [*range(0, 100, 20), *range(100, 110)]]
    second.finish(used + [_key("never kept")])
    assert PageCache.open(root).keys() == set(used)
    # 5 of 100 records left in the old pack: copied into a new one, the old one deleted.
    assert old_pack not in _files(root)
    live = sum(packs.RECORD.size + len(first._compress.compress(_value(n))) for n in [*range(0, 100, 20), *range(100, 110)])
    assert _pack_bytes(root) <= packs.SLACK * live
    third = PageCache.open(root)
    assert all(third.get(_key(n)) == _value(n) for n in [*range(0, 100, 20), *range(100, 110)])
    assert third.get(_key(1)) is None
    third.close()

    # A pack more than half used stays as it is, its unused records counted as slack.
    fourth = PageCache.open(root)
    before = _files(root)
    fourth.finish(used[:-1])
    assert _files(root) == before and PageCache.open(root).keys() == set(used[:-1])


def test_a_killed_build_leaves_the_cache_as_it_was(tmp_path):
    root = tmp_path / "cache"
    first = PageCache.open(root)
    first.put(_key(1), _value(1))
    first.finish([_key(1)])
    kept = _files(root)

    killed = PageCache.open(root)
    killed.put(_key(2), _value(2))
    killed.close()  # and never finished
    assert PageCache.open(root).keys() == {_key(1)}
    assert len(_files(root)) == len(kept) + 1

    later = PageCache.open(root)
    assert later.get(_key(1)) == _value(1) and later.get(_key(2)) is None
    later.finish([_key(1)])
    assert _files(root) == kept  # the killed build's pack is deleted


def test_a_failed_build_keeps_what_it_made_beside_what_was_kept(tmp_path):
    root = tmp_path / "cache"
    first = PageCache.open(root)
    first.put(_key(1), _value(1))
    first.finish([_key(1)])
    failed = PageCache.open(root)
    failed.put(_key(2), _value(2))
    failed.finish(None)
    after = PageCache.open(root)
    assert after.keys() == {_key(1), _key(2)} and after.get(_key(2)) == _value(2)
    after.close()


def test_what_is_not_a_pack_of_the_index_is_removed(tmp_path):
    """An earlier layout's folders (an entry per file), a pack of a killed build, an
    index's leftover from a killed replacement: removed when a build ends."""
    root = tmp_path / "cache"
    (root / "ab").mkdir(parents=True)
    (root / "ab" / ("ab" + "0" * 62)).write_bytes(b"an entry of the earlier layout")
    (root / "0123456789ab-42.pack").write_bytes(b"a killed build's")
    (root / ".index.json.x.part").write_bytes(b"{")
    cache = PageCache.open(root)
    cache.put(_key(1), _value(1))
    cache.finish([_key(1)])
    assert _files(root) == sorted([packs.INDEX, f"{cache._build}-{os.getpid()}{packs.SUFFIX}"])


def test_a_damaged_index_makes_every_entry_a_miss(tmp_path):
    root = tmp_path / "cache"
    cache = PageCache.open(root)
    cache.put(_key(1), _value(1))
    cache.finish([_key(1)])
    index = orjson.loads((root / packs.INDEX).read_bytes())
    good = (root / packs.INDEX).read_bytes()
    for damaged in (b"{", b"[]", b'{"format": 1}', orjson.dumps({**index, "format": 0}), orjson.dumps({**index, "packs": []})):
        (root / packs.INDEX).write_bytes(damaged)
        assert PageCache.open(root).keys() == set()
    for entry in (["x", 0, 1], [0, "x", 1], [0, -5, 1], [0, 0, 10**12], [0, packs.RECORD.size, 10**12], [0, True, 1]):
        (root / packs.INDEX).write_bytes(orjson.dumps({**index, "entries": {_key(1): entry}}))
        assert PageCache.open(root).get(_key(1)) is None
    (root / packs.INDEX).write_bytes(good)
    assert PageCache.open(root).get(_key(1)) == _value(1)


def test_a_cache_that_cannot_be_made_keeps_nothing(tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("not a folder")
    cache = PageCache.open(blocked)
    cache.put(_key(1), _value(1))
    assert cache.get(_key(1)) is None
    cache.finish([_key(1)])
    assert blocked.read_text() == "not a folder"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=8), st.data())
def test_a_pack_cut_anywhere_reads_as_its_whole_records(tmp_path_factory, values, data):
    """A pack cut at any byte (a killed worker, a full disk) reads as the records before
    the cut, each where it was written."""
    root = tmp_path_factory.mktemp("cache")
    cache = PageCache(root)
    for n, value in enumerate(values):
        cache.put(_key(n), value)
    cache.close()
    (pack,) = root.iterdir()
    whole = pack.read_bytes()
    cut = data.draw(st.integers(0, len(whole)))
    pack.write_bytes(whole[:cut])
    records = list(packs.scan(pack))
    written = [(_key(n), *cache._index[_key(n)][1:]) for n in range(len(values))]
    assert records == [r for r in written if r[1] + r[2] <= cut]
    for key, offset, length in records:
        assert whole[offset - packs.RECORD.size:offset] == packs.RECORD.pack(bytes.fromhex(key), length)
