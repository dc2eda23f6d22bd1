"""Named points of a build at which a test can kill it, to prove that a build killed at
any stage leaves the previous outputs whole and the next build recovers.

`ATTACK_PIPELINE_KILL_AT=<point>` makes the build send itself SIGKILL on reaching that
point (nothing else happens: no cleanup, no `finally`, as with a real kill). Unset, a
point costs one environment look-up. The points, in build order:

    start                  before the lock is taken
    lock                   lock held, inputs not hashed yet
    inputs                 inputs hashed, graph not built
    graph                  graph built, Sigma rules not converted to queries yet
    queries                queries converted, no output folder yet
    render:<renderer>      before each renderer (the earlier ones' files are written);
                           with several processes, the points of the renderers run side
                           by side are all reached before they start
    manifest               every renderer done, manifest not written
    manifest:written       manifest written, nothing published
    publish:renamed        the build renamed into place, `outputs` not yet pointing at it
    publish:linked         the new link made beside `outputs`, not yet moved over it
    publish:flipped        `outputs` points at the new build, older builds not yet pruned
"""

from __future__ import annotations

import os
import signal

ENV = "ATTACK_PIPELINE_KILL_AT"


def reached(point: str) -> None:
    if os.environ.get(ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
