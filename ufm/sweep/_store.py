"""The result store: a dense labelled grid in Zarr (via xarray), written chunk by chunk, resumable.

Layout (Zarr format 2, consolidated metadata, readable by zarr 2 and 3 and by ``xarray.open_zarr``):

* one data variable per kept output, dimensions :attr:`Spec.dims`, Zarr chunks equal to the task
  blocks (:attr:`Spec.chunks`), so every task writes whole chunks of its own and no two tasks touch
  the same chunk: region writes need no lock;
* coordinates: each swept parameter (along its own dimension for a grid, along ``point`` for the
  random design) and ``seed`` (the replicate index; the seed itself is derived from the position,
  see :mod:`ufm.sweep._spec`);
* ``task_done`` (dimension ``task``, one Zarr chunk per task): the completion mask. A task's data
  chunks are written first and its mask entry last, and zarr's local store writes each chunk file
  atomically, so an interrupted sweep never marks a chunk done that is not completely written;
* attributes (provenance): ``schema``, ``schema_version``, ``spec`` (JSON), ``spec_sha256``,
  ``task_description``, ``outputs`` (meanings), ``ufm_version``, ``versions`` (dependencies),
  ``conventions``, ``tolerances``, ``seed_rule``, ``created`` (UTC).

A new store is built in a temporary folder beside the target and renamed into place, so a store
either does not exist or has its full metadata.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tempfile
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import InvalidFile, InvalidParameter

SCHEMA = "ufm.sweep"
SCHEMA_VERSION = 1

_CONVENTIONS = (
    "W is K x d, H is d x N with columns grouped by class, b has length K; objectives of "
    "ufm.objectives (CE averaged over N; MSE 1/(2N)); kappa = K sqrt(n lambda_W lambda_H)"
)
_DEPENDENCIES = ("numpy", "scipy", "sympy", "cvxpy", "clarabel", "numba", "dask", "distributed",
                 "xarray", "zarr")  # fmt: skip
_FILL = {"f8": np.nan, "bool": False}


def _versions() -> dict:
    out = {}
    for name in _DEPENDENCIES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = None
    return out


def _tolerances() -> dict:
    from .. import tolerances

    return {k: getattr(tolerances, k) for k in tolerances.__all__ if k.isupper()}


def _attrs(spec, kind) -> dict:
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "spec": json.dumps(spec.canonical, sort_keys=True),
        "spec_sha256": spec.sha256,
        "plot": json.dumps(spec.plot, sort_keys=True),
        "task_description": kind.description,
        "outputs": json.dumps({k: kind.output_docs.get(k, "") for k in spec.outputs}),
        "ufm_version": __version__,
        "versions": json.dumps(_versions(), sort_keys=True),
        "conventions": _CONVENTIONS,
        "tolerances": json.dumps(_tolerances(), sort_keys=True),
        "seed_rule": "seed of grid position (i_1..i_p, s) = first uint32 word of "
        "numpy.random.SeedSequence(spec.seed, spawn_key=(i_1, ..., i_p, s))",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _dataset(spec, kind):
    import dask.array as da
    import xarray as xr

    coords = {}
    if spec.design == "grid":
        coords.update({k: (k, v) for k, v in spec.params.items()})
    else:
        coords.update({k: ("point", v) for k, v in spec.params.items()})
        coords["point"] = ("point", np.arange(spec.shape[0]))
    if spec.stochastic:
        coords["seed"] = ("seed", np.arange(spec.seeds))
    data = {
        name: (spec.dims, da.full(spec.shape, _FILL[kind.outputs[name]],
                                  dtype=kind.outputs[name], chunks=spec.chunks))
        for name in spec.outputs
    }  # fmt: skip
    data["task_done"] = (("task",), np.zeros(spec.n_tasks, dtype=bool))
    ds = xr.Dataset(data, coords=coords, attrs=_attrs(spec, kind))
    encoding = {name: {"chunks": spec.chunks} for name in spec.outputs}
    encoding["task_done"] = {"chunks": (1,)}
    return ds, encoding


def _is_store(path: Path) -> bool:
    return path.is_dir() and ((path / ".zgroup").exists() or (path / "zarr.json").exists())


def open_store(path, spec, kind):
    """Open the store of ``spec`` at ``path``, creating it if absent; return the zarr group.

    Raises
    ------
    InvalidParameter
        ``path`` exists and is not a sweep store, or was created by another spec (another
        ``spec_sha256``: choose another output or delete it).
    """
    import zarr

    path = Path(path)
    if path.exists() and not _is_store(path):
        raise InvalidParameter(
            f"--out {str(path)!r} exists and is not a Zarr store: choose another path"
        )
    if not path.exists():
        if not path.parent.is_dir():
            raise InvalidParameter(f"cannot write {str(path)!r}: folder {str(path.parent)!r} "
                                   "does not exist")  # fmt: skip
        ds, encoding = _dataset(spec, kind)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            ds.to_zarr(tmp, mode="w", compute=False, encoding=encoding, zarr_format=2,
                       consolidated=True)  # fmt: skip
            tmp.rename(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    group = zarr.open_group(path, mode="r+", zarr_format=2)
    attrs = dict(group.attrs)
    if attrs.get("schema") != SCHEMA:
        raise InvalidParameter(f"{str(path)!r} is a Zarr store but not a ufm sweep result")
    if attrs.get("spec_sha256") != spec.sha256:
        raise InvalidParameter(
            f"{str(path)!r} holds a sweep of another spec (spec_sha256 "
            f"{attrs.get('spec_sha256', '?')[:12]}..., this spec {spec.sha256[:12]}...): "
            "choose another output or delete it to start over"
        )
    return group


def done_mask(group) -> np.ndarray:
    """The completion mask: one boolean per task."""
    return np.asarray(group["task_done"][:], dtype=bool)


def write_task(group, spec, task: int, blocks: dict) -> None:
    """Write one finished task's blocks into their chunks (region write), then mark it done."""
    region = spec.region(task)
    for name, block in blocks.items():
        group[name][region] = block
    group["task_done"][task] = True


def open_result(path, *, allow_incomplete: bool = False):
    """Open a sweep result as an :class:`xarray.Dataset` (lazily, backed by Zarr).

    Parameters
    ----------
    path : str or Path
        A store written by :func:`ufm.sweep.run_sweep`.
    allow_incomplete : bool
        Open a store whose sweep has not finished (unfinished chunks read as NaN / False).

    Raises
    ------
    InvalidFile
        Not a ufm sweep store, or (unless ``allow_incomplete``) not finished.
    """
    import xarray as xr

    path = Path(path)
    if not _is_store(path):
        raise InvalidFile(f"{str(path)!r} is not a Zarr store")
    ds = xr.open_zarr(path, consolidated=True)
    if ds.attrs.get("schema") != SCHEMA:
        raise InvalidFile(f"{str(path)!r} is not a ufm sweep result (schema "
                          f"{ds.attrs.get('schema')!r})")  # fmt: skip
    if ds.attrs.get("schema_version") != SCHEMA_VERSION:
        raise InvalidFile(
            f"{str(path)!r} has sweep schema_version "
            f"{ds.attrs.get('schema_version')!r}; this ufm reads {SCHEMA_VERSION}"
        )
    done = ds["task_done"].values
    if not allow_incomplete and not done.all():
        raise InvalidFile(
            f"{str(path)!r} is incomplete ({int(done.sum())}/{done.size} tasks done): rerun "
            "the same sweep to resume it"
        )
    return ds


def export_parquet(path, out) -> Path:
    """Write a finished sweep as a long table (one row per point and seed) to a Parquet file.

    The columns are the dimensions' coordinates and the outputs; the file is written atomically.
    """
    from ..io import atomic_write

    ds = open_result(path)
    outputs = [v for v in ds.data_vars if v != "task_done"]
    frame = ds[outputs].to_dataframe().reset_index()
    out = Path(out)
    if out.suffix.lower() != ".parquet":
        raise InvalidParameter(f"the Parquet export must end in .parquet, got {str(out)!r}")
    atomic_write(out, lambda fh: frame.to_parquet(fh, index=False))
    return out
