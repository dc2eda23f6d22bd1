"""The build lock under races: several builds recovering from a killed one at once.

After a kill, the next builds find the dead build's lock file. Judging it stale from the
pid written in it lets two of them take it together (both read the dead pid, one
replaces the file, the other then removes the new lock and writes its own), and a pid
reused by an unrelated process blocks every build. These tests start processes that
race for the same lock at a barrier and count who held it.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from pathlib import Path

from pipeline.build.lock import BuildLock, BuildLocked

ROUNDS = 15
RACERS = 6
HOLD = 0.15


def _race(path: str, barrier, results) -> None:
    barrier.wait()
    lock = BuildLock(Path(path))
    try:
        lock.acquire()
    except BuildLocked:
        results.put(("refused", time.monotonic(), time.monotonic()))
        return
    start = time.monotonic()
    time.sleep(HOLD)
    end = time.monotonic()
    lock.release()
    results.put(("held", start, end))


def _dead_pid() -> int:
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=lambda: None)
    p.start()
    p.join()
    return p.pid


def test_racing_builds_after_a_kill_take_the_lock_one_at_a_time(tmp_path):
    ctx = multiprocessing.get_context("fork")
    path = tmp_path / ".out.lock"
    dead = _dead_pid()
    for n in range(ROUNDS):
        path.write_text(f"{dead} {socket.gethostname()}\n")  # what a killed build leaves
        barrier, results = ctx.Barrier(RACERS), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(str(path), barrier, results)) for _ in range(RACERS)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        got = [results.get(timeout=5) for _ in range(RACERS)]
        held = sorted((s, e) for kind, s, e in got if kind == "held")
        assert held, f"round {n}: nobody took the lock"
        for (_s1, e1), (s2, _e2) in zip(held, held[1:]):
            assert s2 >= e1, f"round {n}: two builds held the lock at once"
        assert len(held) + sum(1 for kind, *_ in got if kind == "refused") == RACERS
        assert not path.exists()


def test_a_reused_pid_in_a_dead_builds_lock_does_not_block(tmp_path):
    """The lock file names a process that is alive but is not a build (its pid was
    reused): the build goes ahead."""
    path = tmp_path / ".out.lock"
    path.write_text(f"{os.getppid()} {socket.gethostname()}\n")
    with BuildLock(path) as lock:
        assert lock.held
        assert path.read_text() == f"{os.getpid()} {socket.gethostname()}\n"
    assert not path.exists()


def test_a_held_lock_refuses_with_the_owner_named(tmp_path):
    path = tmp_path / ".out.lock"
    with BuildLock(path):
        try:
            BuildLock(path).acquire()
        except BuildLocked as exc:
            line = exc.one_line()
        else:
            raise AssertionError("a second holder was let in")
    assert f"another build (pid {os.getpid()} on {socket.gethostname()})" in line and str(path) in line
    assert "\n" not in line
