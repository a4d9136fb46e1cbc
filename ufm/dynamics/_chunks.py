"""Running a long compiled loop in chunks of bounded wall time, so that Ctrl-C is heard.

A numba kernel never returns to the interpreter until it is done, and Python runs its signal
handlers (``KeyboardInterrupt`` on SIGINT) only between bytecodes: one long kernel call ignores
Ctrl-C for as long as it runs. :func:`chunks` splits a loop of ``total`` steps into calls whose
length adapts to the measured time per step so that each takes about
:data:`CHUNK_SECONDS`; a pending SIGINT is raised between two calls. The chunk bounds never change
the result: the kernels take a global step range ``[start, stop)`` and index their records by the
global step.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

__all__ = ["CHUNK_SECONDS", "chunks"]

#: Target wall time of one kernel call: Ctrl-C is answered within about this long, and the Python
#: round trip between calls (microseconds) stays invisible next to it.
CHUNK_SECONDS = 0.2

#: A chunk grows at most this factor over the previous one (the first calls include compilation
#: or cache loading, and per-step cost can vary while the iterates change scale).
_GROWTH = 8


def chunks(total: int, every: int | None = None) -> Iterator[tuple[int, int]]:
    """Step ranges ``(start, stop)`` covering ``range(total)`` in order, each about CHUNK_SECONDS.

    The time of a chunk is the time the caller spends between receiving it and asking for the
    next, so the caller runs the kernel on ``range(start, stop)`` inside its loop body.

    Parameters
    ----------
    total : int
        Number of steps (>= 0; no chunk for 0).
    every : int, optional
        Chunks never cross a multiple of ``every`` (each multiple is some chunk's ``stop``), so the
        caller sees the state at every record point.

    Yields
    ------
    (start, stop) : tuple of int
    """
    size, start = 1, 0
    while start < total:
        stop = min(total, start + size)
        if every is not None:
            stop = min(stop, (start // every + 1) * every)
        begin = time.perf_counter()
        yield start, stop
        per_step = (time.perf_counter() - begin) / (stop - start)
        wanted = CHUNK_SECONDS / per_step if per_step > 0 else _GROWTH * size
        size = max(1, min(int(wanted), _GROWTH * size))
        start = stop
