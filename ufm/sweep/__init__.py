"""Sweeps: phase diagrams and many-seed studies over ``ufm``'s task kinds, stored as Zarr.

A sweep is a spec (:func:`load_spec`: TOML/JSON; :func:`builtin_spec`: the built-in studies) run by
:func:`run_sweep` on a dask cluster, local processes or serially, into a resumable Zarr store read
back with :func:`open_result`; :func:`export_parquet` writes a long table, :func:`plot_sweep` draws
it. dask, distributed, xarray and zarr are imported only when a sweep runs (extra ``ufm[sweep]``).
"""

from ._adapters import TASKS, TaskKind
from ._builtin import BUILTINS, builtin_spec
from ._engine import BACKENDS, SweepReport, run_sweep, run_task
from ._plot import plot_sweep
from ._spec import Spec, load_spec, parse_spec
from ._store import export_parquet, open_result

__all__ = [
    "TASKS",
    "TaskKind",
    "BUILTINS",
    "builtin_spec",
    "BACKENDS",
    "SweepReport",
    "run_sweep",
    "run_task",
    "plot_sweep",
    "Spec",
    "load_spec",
    "parse_spec",
    "export_parquet",
    "open_result",
]
