"""Run independent pieces of work on every core: this process and forked copies of it.

A build spends most of its time in renderers that read one frozen context and write
files of their own. Forked after the context is gathered, a child process shares it
copy-on-write (nothing is pickled or loaded again; the collector is frozen, so it
writes no object headers either) and only the small results travel back through a
pipe. Threads would not help: rendering is Python code holding the interpreter lock.

The pieces are claimed one at a time from a queue that every process reads (a pipe
filled with their indices before the fork, read four bytes at a time: a pipe read of
that size is atomic), so a process slowed down by other work on the machine simply
takes fewer pieces. Which process ran a piece changes nothing in the results: they
come back in the order of the pieces, and the pieces must not depend on each other.

`ATTACK_PIPELINE_JOBS` is the number of processes (1: everything in this process, in
order; the default: the cores this process may use, at most 8); the parsing of
detection corpora and the conversion of Sigma rules follow it too.

A child never returns into its parent's code: it ends with `os._exit`, runs no
`finally` of the parent (the build's lock, its temporary folder), writes nothing to
stdout or stderr (a progress-bar thread of the parent may have held their locks at the
fork), and is killed by the kernel when the parent dies (a killed build leaves no
child writing into its abandoned folder or holding its lock).
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence, TypeVar

JOBS_ENV = "ATTACK_PIPELINE_JOBS"
MAX_JOBS = 8
_INDEX = 4  # bytes per queued piece

T = TypeVar("T")
S = TypeVar("S")


def jobs() -> int:
    """Processes to use: `ATTACK_PIPELINE_JOBS` when it is a positive number, else the
    cores this process may run on (at most MAX_JOBS)."""
    env = os.environ.get(JOBS_ENV, "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_JOBS))


class ChildFailed(RuntimeError):
    """A forked child died without a result (killed, or its error could not be sent)."""


def run(
    pieces: Sequence[Callable[[], T]],
    processes: int,
    *,
    collect: Callable[[], S] | None = None,
    here: int = 0,
) -> tuple[list[T], list[S]]:
    """Every piece's result, in the order of `pieces`, computed by this process and
    `processes - 1` forked children (fewer when there are fewer pieces), and what
    `collect()` returned at the end of each child (its share of state that the pieces
    changed, for the caller to merge: a child's changes are otherwise lost). The first
    `here` pieces are run by this process, before it claims others (pieces whose
    results would cost more to send back than to compute, or that change this process).

    With one process (or one piece) the pieces run here, in order, and nothing is
    collected. An error in a piece is raised here, the first in the order of pieces;
    the children are always waited for (killed first when this process failed)."""
    n = min(processes, len(pieces) - here + (1 if here else 0))
    if n <= 1:
        return [p() for p in pieces], []
    queue_r, queue_w = os.pipe()
    queue = b"".join(i.to_bytes(_INDEX, "little") for i in range(here, len(pieces)))
    try:
        os.set_blocking(queue_w, False)
        fits = os.write(queue_w, queue) == len(queue)
    except BlockingIOError:
        fits = False
    finally:
        os.close(queue_w)  # the queue is full: an empty read means no piece is left
    if not fits:  # more pieces than a pipe holds (thousands): the caller should batch them
        os.close(queue_r)
        return [p() for p in pieces], []
    parent = os.getpid()
    children: list[tuple[int, int]] = []  # (pid, read end of its result pipe)
    try:
        for _ in range(n - 1):
            result_r, result_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: never returns from this branch
                os.close(result_r)
                _child(pieces, queue_r, result_w, parent, collect)
            os.close(result_w)
            children.append((pid, result_r))
        mine: dict[int, T] = {}
        failed: dict[int, BaseException] = {}
        try:
            for i in range(here):
                try:
                    mine[i] = pieces[i]()
                except Exception as exc:  # noqa: BLE001 - raised again below
                    failed[i] = exc
                    break
            _work(pieces, queue_r, mine, failed)
        except BaseException:
            for pid, _r in children:
                _kill(pid)
            raise
    finally:
        os.close(queue_r)
        if len(children) < n - 1:  # a fork failed: the children started are stopped
            for pid, _r in children:
                _kill(pid)
    results: dict[int, T] = dict(mine)
    collected: list[S] = []
    problem: BaseException | None = None
    for pid, result_r in children:
        payload, failure = _result(pid, result_r)
        if payload is None:
            problem = problem or failure
            continue
        done, errors, state = payload
        results.update(done)
        failed.update(errors)
        collected.append(state)
    if failed:
        raise failed[min(failed)]
    if problem is not None:
        raise problem
    missing = [i for i in range(len(pieces)) if i not in results]
    if missing:
        raise ChildFailed(f"{len(missing)} piece(s) of work were claimed and never done (the first: {missing[0]})")
    return [results[i] for i in range(len(pieces))], collected


@contextmanager
def alongside(work: Callable[[], object], processes: int) -> Iterator[None]:
    """Run `work()` in a forked child while the body of the `with` runs here, and wait
    for it at the end of the body (its error, if any, is raised here then). For work
    that reads only what exists at the fork and writes files of its own, whose result
    nobody reads before the end: the build's answers, written while it gathers and
    renders. With one process, `work()` runs here after the body, in order.

    When the body fails, the child is killed: what it writes must be safe to abandon
    (written atomically)."""
    if processes <= 1:
        yield
        work()
        return
    queue_r, queue_w = os.pipe()
    os.write(queue_w, (0).to_bytes(_INDEX, "little"))
    os.close(queue_w)
    result_r, result_w = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        for fd in (queue_r, result_r, result_w):
            os.close(fd)
        yield
        work()
        return
    if pid == 0:  # the child: never returns from this branch
        os.close(result_r)
        _child([work], queue_r, result_w, parent, None)
    os.close(result_w)
    os.close(queue_r)
    try:
        yield
    except BaseException:
        os.close(result_r)
        _kill(pid)
        raise
    payload, failure = _result(pid, result_r)
    if payload is None:
        raise failure
    _done, failed, _state = payload
    if failed:
        raise failed[min(failed)]


def _result(pid: int, result_r: int) -> tuple[tuple | None, ChildFailed | None]:
    """(done, failed, state) as child `pid` sent them (its pipe read to the end and
    closed, the child reaped), or (None, why there is none)."""
    try:
        data = _read_all(result_r)
    finally:
        os.close(result_r)
    _pid, status = os.waitpid(pid, 0)
    try:
        payload = pickle.loads(data) if data else None
    except Exception as exc:  # noqa: BLE001 - a half-written result is a dead child
        return None, ChildFailed(f"worker process {pid} sent an unreadable result: {exc}")
    if payload is None:
        return None, ChildFailed(f"worker process {pid} ended without a result ({_status(status)})")
    return payload, None


def _work(pieces, queue_r: int, done: dict, failed: dict) -> None:
    """Claim pieces until the queue is empty; stop at the first that fails."""
    while not failed:
        raw = os.read(queue_r, _INDEX)
        if not raw:
            return
        i = int.from_bytes(raw, "little")
        try:
            done[i] = pieces[i]()
        except Exception as exc:  # noqa: BLE001 - raised again by the caller of `run`
            failed[i] = exc


def _child(pieces, queue_r: int, result_w: int, parent: int, collect) -> None:
    code = 1
    try:
        _die_with(parent)
        done: dict = {}
        failed: dict = {}
        _work(pieces, queue_r, done, failed)
        state = collect() if collect is not None and not failed else None
        failed = {i: _portable(e) for i, e in failed.items()}
        try:
            data = pickle.dumps((done, failed, state), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a result that cannot be pickled is this child's error
            failed = {min(done, default=0): RuntimeError(f"worker process result cannot be sent:\n{traceback.format_exc()}")}
            data = pickle.dumps(({}, failed, None), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(result_w, view):]
        code = 0
    except BaseException:  # noqa: BLE001 - the parent reports a child without a result
        code = 1
    finally:
        os._exit(code)


def _portable(exc: BaseException) -> BaseException:
    """`exc` as it can travel to the parent: itself when it survives pickling (an
    OSError stays an OSError, for the build's message), else a RuntimeError with its
    text; either way with the child's traceback as a note."""
    where = "in a worker process:\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    try:
        copy = pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - exceptions with required keyword arguments do not unpickle
        copy = RuntimeError(f"{type(exc).__name__}: {exc}")
    copy.__traceback__ = None
    copy.add_note(where)
    return copy


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this child when its parent dies (Linux); a parent already
    gone by now means nobody waits for this child."""
    try:
        # lazy: ctypes costs a few ms to import and only a forked worker on Linux needs it
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _read_all(fd: int) -> bytes:
    parts = []
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
