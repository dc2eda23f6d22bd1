"""Renderers side by side in forked workers (`pipeline.core.forked`): the same bytes as
one process, the units' bookkeeping merged, errors of a worker raised in the build."""

from __future__ import annotations

import os
import signal
import time

import orjson
import pytest

from build_fixture import run, small_mirror
from pipeline.build.units import Units
from pipeline.core import forked


def _tree(root) -> dict[str, bytes]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = open(path, "rb").read()
    return out


def test_a_parallel_build_is_byte_identical_to_a_serial_one(tmp_path, monkeypatch):
    """Serial (`ATTACK_PIPELINE_JOBS=1`), two and three processes, docs pages and unit
    digests in batches of two so that every process has some: the same files, the same
    manifest."""
    import pipeline.render.pages as pages

    monkeypatch.setattr(pages, "BATCH", 2)
    monkeypatch.setattr(pages, "DIGESTS", 2)
    small = small_mirror(tmp_path)
    trees = {}
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out-{jobs}"
        r = run("build", *small.opts, "--out", out, "--verbose", env={"ATTACK_PIPELINE_JOBS": jobs})
        assert r.exit_code == 0, r.output
        said = next(line for line in r.stdout.splitlines() if line.strip().startswith("seconds:"))
        # One stage per renderer in one process; one `render` stage for those side by side.
        assert (" render " in said) == (jobs != "1"), said
        trees[jobs] = _tree(out.resolve())
    assert len(trees["1"]) >= 40
    assert trees["2"] == trees["1"]
    assert trees["3"] == trees["1"]  # the manifest included: units, keys, memos, digests
    doc = orjson.loads(trees["2"]["manifest.json"])
    assert doc["units"] and all("unit" in a for a in doc["artifacts"] if a["path"].startswith("layers/enterprise/frameworks/"))


def test_forked_run_keeps_the_order_of_the_pieces_and_collects_each_child():
    pieces = [lambda i=i: (i, os.getpid()) for i in range(40)]
    results, collected = forked.run(pieces, 3, collect=lambda: os.getpid())
    assert [r[0] for r in results] == list(range(40))
    assert len(collected) == 2 and os.getpid() not in collected
    assert {r[1] for r in results} <= {os.getpid(), *collected}


def test_forked_run_with_one_process_runs_here_in_order():
    seen = []
    results, collected = forked.run([lambda i=i: seen.append(i) or os.getpid() for i in range(5)], 1, collect=lambda: 1)
    assert seen == list(range(5)) and results == [os.getpid()] * 5 and collected == []


def _fail(exc):
    raise exc


def test_an_error_in_a_worker_is_raised_in_the_parent_with_its_type():
    """An OSError stays one (the build words it as a failed write); the first failing
    piece in order wins, whichever process ran it; the worker's traceback is a note."""
    pieces = [lambda: 1, lambda: _fail(OSError(28, "No space left on device")), lambda: _fail(ValueError("later"))] * 3
    with pytest.raises(OSError) as info:
        forked.run(pieces, 2)
    assert info.value.errno == 28


def test_a_worker_that_dies_is_an_error_not_a_missing_result():
    parent = os.getpid()

    def die_in_child():
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.05)  # the child claims a piece before this process has taken them all
        return "here"

    with pytest.raises(forked.ChildFailed, match="killed by signal 9|never done"):
        forked.run([die_in_child] * 20, 2)


def test_jobs_follow_the_environment(monkeypatch):
    monkeypatch.setenv(forked.JOBS_ENV, "1")
    assert forked.jobs() == 1
    monkeypatch.setenv(forked.JOBS_ENV, "0")  # not a number of processes: the default
    assert 1 <= forked.jobs() <= forked.MAX_JOBS


def test_units_merge_what_a_worker_did_and_refuse_a_unit_run_twice(tmp_path):
    units = Units(out=tmp_path)
    mark = units.mark()
    worker = Units(out=tmp_path)
    worker.take("layers/azure", ())
    (tmp_path / "a.json").write_text("{}")
    worker.record("layers/azure", [tmp_path / "a.json"], {"n": 1})
    worker.hashed([tmp_path / "a.json"])
    units.merge(worker.changes(mark))
    assert units.done["layers/azure"].memo == {"n": 1}
    assert units.owner == {"a.json": "layers/azure"} and "a.json" in units.written
    with pytest.raises(RuntimeError, match="ran twice"):
        units.merge(worker.changes(mark))


def test_a_worker_does_not_hold_the_build_lock(tmp_path):
    """A worker's copy of the lock's descriptor would keep the flock after the build died
    (the next build refused until the worker was gone too): workers close it at the fork."""
    from pipeline.build.lock import BuildLock

    lock = BuildLock(tmp_path / ".out.lock")
    lock.acquire()
    parent = os.getpid()

    def probe():
        if os.getpid() == parent:
            time.sleep(0.05)  # leaves pieces for the worker
            return None
        try:
            os.fstat(lock.fd)
        except OSError:
            return "closed"
        return "open"

    try:
        results, _ = forked.run([probe] * 20, 2)
    finally:
        lock.release()
    assert "closed" in results and "open" not in results


def test_more_pieces_than_the_queue_holds_run_here_in_order():
    results, collected = forked.run([lambda i=i: (i, os.getpid()) for i in range(40_000)], 2)
    assert [r[0] for r in results] == list(range(40_000)) and {r[1] for r in results} == {os.getpid()} and collected == []


def test_alongside_runs_the_work_in_a_child_while_the_body_runs(tmp_path):
    """The work runs in another process, at the same time as the body (it waits for a
    file the body writes), and is done when the `with` ends."""
    go, done = tmp_path / "go", tmp_path / "done"

    def work() -> None:
        for _ in range(2000):
            if go.exists():
                done.write_text(str(os.getpid()))
                return
            time.sleep(0.005)
        raise RuntimeError("the body never ran while the work waited")

    with forked.alongside(work, 2):
        go.write_text("")
    assert done.exists() and int(done.read_text()) != os.getpid()


def test_alongside_with_one_process_runs_the_work_after_the_body():
    seen = []
    with forked.alongside(lambda: seen.append(("work", os.getpid())), 1):
        seen.append(("body", os.getpid()))
    assert seen == [("body", os.getpid()), ("work", os.getpid())]


def test_alongside_raises_the_error_of_the_work_at_the_end():
    def work() -> None:
        raise OSError(28, "No space left on device")

    body = []
    with pytest.raises(OSError, match="No space left"):
        with forked.alongside(work, 2):
            body.append("ran")
    assert body == ["ran"]


def test_alongside_kills_the_work_when_the_body_fails(tmp_path):
    started = tmp_path / "started"

    def work() -> None:
        started.write_text(str(os.getpid()))
        time.sleep(60)

    with pytest.raises(KeyError):
        with forked.alongside(work, 2):
            for _ in range(2000):
                if started.exists():
                    break
                time.sleep(0.005)
            raise KeyError("the body failed")
    pid = int(started.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped: no such process
