"""The sweep engine: run a spec's unfinished tasks on a backend and write each result as it lands.

Backends:

* ``distributed``: a ``dask.distributed.LocalCluster`` of ``workers`` processes with one thread
  each, or an existing cluster at ``scheduler`` (an address such as ``tcp://host:8786``, e.g.
  started by ``dask-jobqueue`` on Slurm/PBS);
* ``processes``: ``concurrent.futures.ProcessPoolExecutor`` (spawned processes), the
  dependency-light path used when ``distributed`` is not installed;
* ``serial``: in this process (debugging, tiny sweeps).

Local worker processes start with BLAS, OpenMP and numba threads pinned to 1 (one core per worker,
no oversubscription) and are warmed once: each runs the sweep's first point before taking tasks, so
numba kernels load from their cache and sympy derivations are done outside the timed tasks. They
are spawned with SIGINT ignored (an ignored signal stays ignored across exec, and Python then
installs no KeyboardInterrupt handler): Ctrl-C, which the terminal sends to the whole process
group, reaches only the calling process, which cancels the pending tasks and closes the workers in
order, so no worker dies mid-task with a traceback and the store stays resumable. A Ctrl-C while
the workers are being spawned (a few seconds) is therefore ignored. The local cluster logs only
critical events (a failed point comes back as its exception, not as a log line); the dashboard
listens on a free port. Its housekeeping is made lean (:data:`LEAN_LOCAL_CLUSTER`): with two
workers on two cores, the nannies and the scheduler share the calling process and every CPU
second they spend is taken from a worker.
Only the calling process writes to the store (workers return blocks), so workers need no access to
it; results are identical whatever the backend, since every point's seed derives from its grid
position.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidParameter, UFMError
from ._adapters import TASKS
from ._store import done_mask, open_store, write_task

__all__ = ["SweepReport", "run_sweep", "BACKENDS"]

BACKENDS = ("auto", "distributed", "processes", "serial")

#: Environment of local workers: one thread for each threading layer numpy, scipy and numba use.
PINNED_THREADS = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS")
}  # fmt: skip


#: dask settings of a local cluster (and of the calling process, which hosts its scheduler and
#: nannies). The defaults poll for an interactive dashboard: the statistical profiler samples every
#: worker's stack each 10 ms, the event-loop watchdog ticks each 20 ms in every process, the
#: nannies poll their worker's memory each 100 ms. On the benign study (300 seeds, 2 workers; CPU
#: seconds by psutil, on a machine loaded by other jobs) the defaults cost the calling process
#: 8.4-9.1 CPU s and the workers 40-42 (the same points in a plain loop: 28-30); with the settings
#: below 3.9-4.8 and 34-35. Memory limits still apply (checked each second); the dashboard still
#: works, without profiles.
LEAN_LOCAL_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    path : Path
        The store.
    tasks, skipped, run : int
        Tasks in the sweep, found already done (resume), run now.
    compute_seconds : float
        Sum over the tasks run of their time inside the worker (the useful work).
    wall_seconds : float
        Wall-clock time from the first submission to the last write (cluster start-up and warm-up
        excluded).
    backend : str
    workers : int
    """

    path: Path
    tasks: int
    skipped: int
    run: int
    compute_seconds: float
    wall_seconds: float
    backend: str
    workers: int


def run_task(spec, task: int):
    """Compute one task's blocks: ``(task, {output: ndarray of the region's shape}, seconds)``.

    Raises
    ------
    UFMError
        The task kind returned a non-finite float (never stored as NaN); library errors of a point
        propagate unchanged.
    """
    start = time.perf_counter()
    kind = TASKS[spec.task]
    region = spec.region(task)
    shape = tuple(r.stop - r.start for r in region)
    blocks = {name: np.empty(shape, dtype=kind.outputs[name]) for name in spec.outputs}
    for position, point, seed in spec.points(region):
        values = kind.run(point, seed, spec.outputs)
        local = tuple(p - r.start for p, r in zip(position, region, strict=True))
        for name in spec.outputs:
            value = values[name]
            if kind.outputs[name] == "f8" and (value is None or not math.isfinite(value)):
                raise UFMError(
                    f"task {spec.task!r} returned {name}={value!r} at the point {point} "
                    f"(seed {seed}); a sweep stores finite numbers only"
                )
            blocks[name][local] = value
    return task, blocks, time.perf_counter() - start


def _warm(spec) -> None:
    """Run the sweep's first point once (kernels compiled/loaded, caches filled)."""
    _, point, seed = next(spec.points(spec.region(0)))
    TASKS[spec.task].run(point, seed, spec.outputs)


@contextlib.contextmanager
def _spawning_workers():
    """While local workers are spawned: thread counts pinned in os.environ and SIGINT ignored,
    both inherited by the children (module docstring); restored afterwards."""
    saved = {k: os.environ.get(k) for k in PINNED_THREADS}
    os.environ.update(PINNED_THREADS)
    # signal handlers can only be set from the main thread; elsewhere Ctrl-C is not ours to handle
    main = threading.current_thread() is threading.main_thread()
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, handler)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _resolve_backend(backend: str, scheduler) -> str:
    if backend not in BACKENDS:
        raise InvalidParameter(f"backend must be one of {BACKENDS}, got {backend!r}")
    if scheduler is not None and backend not in ("auto", "distributed"):
        raise InvalidParameter(f"--scheduler needs the distributed backend, got {backend!r}")
    if backend != "auto":
        return backend
    try:
        import distributed  # noqa: F401
    except ImportError:
        if scheduler is not None:
            raise InvalidParameter(
                "--scheduler needs dask.distributed: pip install 'ufm[sweep]'"
            ) from None
        return "processes"
    return "distributed"


def _distributed(spec, pending, workers, scheduler):
    """Yield finished tasks from a dask cluster (local unless ``scheduler``)."""
    import logging

    import dask
    from distributed import Client, LocalCluster, as_completed

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            stack.enter_context(dask.config.set(LEAN_LOCAL_CLUSTER))
            with _spawning_workers():
                # ":0": a free port for the scheduler's HTTP server, which starts even without bokeh
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0", silence_logs=logging.CRITICAL,
                    )
                )  # fmt: skip
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(scheduler))
        client.run(_warm, spec)
        yield "started"
        [shared] = client.scatter([spec], broadcast=True)
        futures = [client.submit(run_task, shared, t, pure=False) for t in pending]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)


def _processes(spec, pending, workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawned processes start at submission time, so submit while spawning
    with _spawning_workers():
        executor = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm, initargs=(spec,),
        )  # fmt: skip
        futures = [executor.submit(run_task, spec, t) for t in pending]
    try:
        yield "started"
        for future in as_completed(futures):
            yield future.result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _serial(spec, pending):
    yield "started"
    for t in pending:
        yield run_task(spec, t)


def run_sweep(
    spec,
    out,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    backend: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run (or resume) a sweep into the Zarr store ``out``.

    Tasks already marked done in ``out`` are skipped; the others run on the backend, and each
    finished task's blocks are written into their chunks before its completion flag. Interrupting
    (Ctrl-C: ``KeyboardInterrupt``) cancels the pending tasks and leaves a store that a rerun of the
    same spec completes, with the same bytes as an uninterrupted run.

    Parameters
    ----------
    spec : Spec
        From :func:`ufm.sweep.load_spec`, :func:`ufm.sweep.parse_spec` or
        :func:`ufm.sweep.builtin_spec`.
    out : str or Path
        The Zarr store (a folder), created if absent.
    workers : int
        Local worker processes (>= 1); ignored with ``scheduler``.
    scheduler : str, optional
        Address of a running dask scheduler.
    backend : {'auto', 'distributed', 'processes', 'serial'}
        ``auto``: ``distributed`` when installed, else ``processes``.
    progress : callable (done, total), optional
        Called once when work starts and after each task is written (tasks, resumed ones included).

    Returns
    -------
    SweepReport

    Raises
    ------
    InvalidParameter
        Bad ``workers``/``backend``, or ``out`` belongs to another spec or is not a sweep store.
    UFMError
        A point failed (its library error, unchanged); finished tasks stay in the store.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameter(f"workers must be an integer >= 1, got {workers!r}")
    backend = _resolve_backend(backend, scheduler)
    group = open_store(out, spec, TASKS[spec.task])
    done = done_mask(group)
    pending = [int(t) for t in np.flatnonzero(~done)]
    total, skipped = spec.n_tasks, int(done.sum())
    compute, wall, count = 0.0, 0.0, 0
    if pending:
        if backend == "distributed":
            results = _distributed(spec, pending, workers, scheduler)
        elif backend == "processes":
            results = _processes(spec, pending, min(workers, len(pending)))
        else:
            results = _serial(spec, pending)
        with contextlib.closing(results):
            next(results)
            if progress is not None:
                progress(skipped, total)
            start = time.perf_counter()
            for task, blocks, seconds in results:
                write_task(group, spec, task, blocks)
                compute += seconds
                count += 1
                if progress is not None:
                    progress(skipped + count, total)
            wall = time.perf_counter() - start
    elif progress is not None:
        progress(total, total)
    return SweepReport(
        path=Path(out), tasks=total, skipped=skipped, run=count, compute_seconds=compute,
        wall_seconds=wall, backend=backend, workers=1 if backend == "serial" else workers,
    )  # fmt: skip
