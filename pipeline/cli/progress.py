"""Progress on stderr that tells the truth: a total that is the real number of steps, a
bar that moves inside long steps, elapsed time and an estimate of what is left.

Commands plan their steps (`pipeline.build.planned_steps`, `Workspace.graph_steps`) and
call `step(message)` at the start of each; a long step moves the bar with
`step.within(done, total)`. rich is imported only when a bar is drawn, so commands in
a pipe or a log start fast and print nothing here.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Callable, Iterator


class Steps:
    """`step(message)` begins the next step; `step.within(done, total)` moves inside it."""

    def __init__(self, bar=None, task=None, total: int | None = None) -> None:
        self.bar = bar
        self.task = task
        self.total = total
        self.index = -1  # steps begun so far, minus one
        self.message = ""

    def __call__(self, message: str) -> None:
        self.index += 1
        self.message = message
        if self.bar is None:
            return
        if self.total is not None and self.index >= self.total:
            # More steps than planned: grow the total rather than stall at 100 %.
            self.total = self.index + 1
            self.bar.update(self.task, total=self.total)
        self.bar.update(self.task, completed=self.index, description=message)

    def within(self, done: int, total: int, message: str | None = None) -> None:
        if self.bar is None or total <= 0:
            return
        fraction = min(max(done / total, 0.0), 1.0)
        label = message or self.message
        self.bar.update(self.task, completed=max(self.index, 0) + fraction, description=f"{label} ({done:,}/{total:,})")

    def finish(self) -> None:
        if self.bar is not None:
            total = self.total if self.total is not None else self.index + 1
            self.bar.update(self.task, total=total, completed=total, description="done")


def columns():
    # lazy: rich costs ~0.1 s to import; only a progress bar on a terminal needs it
    from rich.progress import BarColumn, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return [
        SpinnerColumn(),
        TextColumn("{task.description}", style="bold"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    ]


@contextlib.contextmanager
def progress_bar(total: int | Callable[[], int] | None, *, console=None, enabled: bool = True) -> Iterator[Steps]:
    """A bar on `console` (default: stderr when it is a terminal and CI is not set).
    `total` may be a function, called only when a bar is drawn (planning a build's
    steps imports every renderer: a tenth of a second a no-op build in a pipe need not pay)."""
    if console is None:
        if not enabled or not sys.stderr.isatty() or os.environ.get("CI"):
            yield Steps()
            return
        # lazy: rich costs ~0.1 s to import; only a progress bar on a terminal needs it
        from rich.console import Console

        console = Console(stderr=True)
    elif not enabled:
        yield Steps()
        return
    # lazy: rich costs ~0.1 s to import; only a progress bar on a terminal needs it
    from rich.progress import Progress

    if callable(total):
        total = total()
    with Progress(*columns(), console=console, transient=True, refresh_per_second=8) as bar:
        steps = Steps(bar, bar.add_task("starting", total=total), total)
        yield steps
        steps.finish()
        bar.refresh()
