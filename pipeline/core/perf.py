"""Speed helpers for the load path."""

from __future__ import annotations

import contextlib
import gc
import sys
from typing import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Loading a release allocates about a million dicts, lists and records, none of which
    is garbage until the load ends; the cyclic collector would still walk them dozens of
    times on the way (a fifth of the load time). Pause it, and restore what was there."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def collected_later() -> Iterator[None]:
    """The cyclic collector paused for the block, and what the block made then moved to
    the collector's oldest generation without being walked.

    Why: a site build's process allocates about a million objects that live until it
    ends (mkdocs' pages, files and navigation, each page's converted state, the search
    entries), in reference cycles. Paused, the collector does not walk them while the
    workers run; resumed as `paused_gc` leaves it, its first pass would walk every one of
    them as new (0.09 s at the end of the default site). In the oldest generation they
    are walked only by a full collection, when the process has made many more objects
    (a process that makes several sites, the tests, still frees the earlier ones).
    Where objects are frozen already (`gc.freeze`, by a caller), that state is left
    alone and the block only pauses the collector."""
    was_enabled = gc.isenabled()
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        if not frozen:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


# While the detection workers parse, this process's helper threads feed them; see
# `prompt_helpers`.
HELPER_SWITCH_SECONDS = 0.0005


@contextlib.contextmanager
def prompt_helpers(interval: float = HELPER_SWITCH_SECONDS) -> Iterator[None]:
    """A shorter thread switch interval while the body runs, restored after it.

    A process pool is fed by two helper threads of this process (the one that takes a
    result and queues the next batch, the one that writes the batch into the worker's
    pipe a chunk at a time), and each step needs the interpreter's lock, which this
    process's main thread holds while it reads the releases and parses batches itself.
    At Python's default 5 ms a step, the detection worker of a cold build waited 0.7 s
    for its next batch in 4.5 s of parsing and converting; at 0.5 ms, 0.12-0.15 s."""
    was = sys.getswitchinterval()
    sys.setswitchinterval(min(was, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(was)
