"""The build lock under races: several builds recovering from a killed one at once.

After a kill, the next builds find the dead build's lock file. Judging it stale from the
pid written in it lets two of them take it together (both read the dead pid, one
replaces the file, the other then removes the new lock and writes its own), and a pid
reused by an unrelated process blocks every build. These tests start processes that
race for the same lock at a barrier, count the holders inside at once with a shared
counter, and check that every racer finishes: refused, or (when it waits) in its turn.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import socket
import time
from pathlib import Path

from pipeline.build.lock import BuildLock, BuildLocked

ROUNDS = 15
RACERS = 6
HOLD = 0.05
# A waiter retries this many times before it gives up (it never should: each holder lets go).
ATTEMPTS = 10_000
# Only against a hang: a racer that neither holds nor gives up within this is stuck.
REPORT_WAIT = 300


def _hold(lock: BuildLock, inside, most) -> None:
    """Count the holders inside at once (a shared counter, not clocks): `most` is the
    largest number ever seen, which must stay 1."""
    with inside.get_lock():
        inside.value += 1
        most.value = max(most.value, inside.value)
    time.sleep(HOLD)
    with inside.get_lock():
        inside.value -= 1
    lock.release()


def _race(path: str, barrier, results, inside, most, wait: bool) -> None:
    barrier.wait()
    lock = BuildLock(Path(path))
    for attempt in range(ATTEMPTS if wait else 1):
        try:
            lock.acquire()
        except BuildLocked:
            time.sleep(0.002)
            continue
        _hold(lock, inside, most)
        results.put(("held", attempt))
        return
    results.put(("refused", ATTEMPTS if wait else 1))


def _dead_pid() -> int:
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=lambda: None)
    p.start()
    p.join()
    return p.pid


def _round(path: Path, dead: int, wait: bool) -> tuple[list[tuple[str, int]], int]:
    """RACERS processes at a barrier over the lock a killed build left; returns what each
    reported and the most holders inside at once. Every process must end, with exit 0."""
    ctx = multiprocessing.get_context("fork")
    path.write_text(f"{dead} {socket.gethostname()}\n")  # what a killed build leaves
    barrier, results = ctx.Barrier(RACERS), ctx.Queue()
    inside, most = ctx.Value("i", 0), ctx.Value("i", 0)
    procs = [ctx.Process(target=_race, args=(str(path), barrier, results, inside, most, wait)) for _ in range(RACERS)]
    for p in procs:
        p.start()
    try:  # one report from each, whatever it got; a racer that hangs fails the test, not the run
        got = [results.get(timeout=REPORT_WAIT) for _ in range(RACERS)]
    except queue.Empty:
        codes = [p.exitcode for p in procs]
        for p in procs:
            p.kill()
        raise AssertionError(f"a racer never reported (exit codes, None for still running: {codes})") from None
    for p in procs:
        p.join(60)  # a guard against a hang only: each has already reported
    assert [p.exitcode for p in procs] == [0] * RACERS, "a racer did not finish"
    return got, most.value


def test_racing_builds_after_a_kill_take_the_lock_one_at_a_time(tmp_path):
    """Builds that give up when the lock is taken: exactly one holds it at a time, each
    either held it or was refused, and the lock file is gone afterwards."""
    path = tmp_path / ".out.lock"
    dead = _dead_pid()
    for n in range(ROUNDS):
        got, most = _round(path, dead, wait=False)
        assert most == 1, f"round {n}: {most} builds held the lock at once"
        held = [g for g in got if g[0] == "held"]
        assert held, f"round {n}: nobody took the lock"
        assert len(held) + sum(1 for g in got if g[0] == "refused") == RACERS
        assert not path.exists()


def test_waiting_builds_after_a_kill_all_get_their_turn(tmp_path):
    """Builds that wait for the lock (retrying when refused): every one of them gets it
    once and finishes — nobody is locked out by the dead build's file or by a holder's
    release — and never two at once."""
    path = tmp_path / ".out.lock"
    dead = _dead_pid()
    for n in range(ROUNDS // 3):
        got, most = _round(path, dead, wait=True)
        assert most == 1, f"round {n}: {most} builds held the lock at once"
        assert [g[0] for g in got] == ["held"] * RACERS, f"round {n}: {got}"
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
