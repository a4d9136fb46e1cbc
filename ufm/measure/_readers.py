"""Feature and label sources for :func:`ufm.measure`: files or array-likes, read chunk by chunk.

Formats (by file suffix): ``.npy`` (memory-mapped: only the chunk being read is in memory),
``.npz`` (one member, read whole by numpy: use ``.npy``, Zarr or HDF5 for out-of-core data),
``.zarr`` (a Zarr array or group), ``.h5``/``.hdf5`` (an HDF5 dataset). A file holding several
arrays takes ``FILE:KEY`` to name the one to read. Features are float16/32/64 (or integer) arrays
of shape (N, d) (layout ``"N,d"``, as deep learning frameworks store them) or (d, N) (``"d,N"``,
the convention of ufm's H); labels are integer arrays of shape (N,).

Every error names the file (or argument) and, for bad values, the first offending row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidFile, InvalidParameter

__all__ = ["Source", "open_features", "read_labels", "open_array", "LAYOUTS"]

LAYOUTS = ("auto", "N,d", "d,N")

_SUFFIXES = {".npy": "npy", ".npz": "npz", ".zarr": "zarr", ".h5": "hdf5", ".hdf5": "hdf5"}


class NpyRows:
    """Rows of a C-ordered ``.npy`` file read with plain ``readinto`` calls.

    A memory map would do as well for speed, but every page it touches stays in the process's
    resident set until unmapped, so reading a 10 GB file through one reports ~10 GB of (file-backed,
    reclaimable) memory; explicit reads keep the resident set at one chunk. Column slices (layout
    ``d,N``) fall back to a memory map.
    """

    def __init__(self, path: Path):
        probe = np.load(path, mmap_mode="r", allow_pickle=False)
        self.path, self.shape, self.dtype = path, probe.shape, probe.dtype
        self.fortran = probe.ndim > 1 and not probe.flags.c_contiguous
        self.offset = probe.offset
        self.ndim = probe.ndim
        del probe

    def memmap(self) -> np.ndarray:
        return np.load(self.path, mmap_mode="r", allow_pickle=False)

    def __getitem__(self, key):
        plain_rows = isinstance(key, slice) and key.step in (None, 1)
        if self.fortran or self.ndim != 2 or not plain_rows:
            return self.memmap()[key]
        start, stop, _ = key.indices(self.shape[0])
        stop = max(start, stop)
        row = self.shape[1] * self.dtype.itemsize
        out = np.empty((stop - start, self.shape[1]), dtype=self.dtype)
        with open(self.path, "rb") as fh:
            fh.seek(self.offset + start * row)
            if fh.readinto(memoryview(out).cast("B")) != out.nbytes:
                raise InvalidFile(f"{self.path} is truncated: rows {start}..{stop - 1} are missing")
        return out

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.memmap(), dtype=dtype)


def _split_key(spec) -> tuple[Path, str | None]:
    path = Path(spec)
    if path.exists() or ":" not in str(spec):
        return path, None
    head, key = str(spec).rsplit(":", 1)
    return Path(head), key


def _pick(path: Path, names: list[str], key: str | None, what: str) -> str:
    if key is not None:
        if key not in names:
            raise InvalidFile(f"{what} file {path} has no array {key!r}; it holds {names}")
        return key
    if len(names) != 1:
        raise InvalidFile(
            f"{what} file {path} holds {len(names)} arrays {names}: name one as {path}:KEY"
        )
    return names[0]


def open_array(spec, what: str) -> tuple[Any, str]:
    """Open the array stored at ``spec`` (``PATH`` or ``PATH:KEY``) without reading it.

    Returns the array-like (numpy memmap, zarr array, h5py dataset or ndarray) and a display name.
    """
    path, key = _split_key(spec)
    if not path.exists():
        raise InvalidFile(f"{what} file {path} does not exist")
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None and path.is_dir():
        kind = "zarr"
    name = str(path) if key is None else f"{path}:{key}"
    try:
        if kind == "npy":
            return NpyRows(path), name
        if kind == "npz":
            archive = np.load(path, allow_pickle=False)
            return archive[_pick(path, list(archive.files), key, what)], name
        if kind == "zarr":
            import zarr

            node = zarr.open(str(path), mode="r")
            if hasattr(node, "array_keys"):
                node = node[_pick(path, sorted(node.array_keys()), key, what)]
            return node, name
        if kind == "hdf5":
            import h5py

            handle = h5py.File(path, "r")
            names = sorted(k for k in handle if isinstance(handle[k], h5py.Dataset))
            return handle[_pick(path, names, key, what)], name
    except InvalidFile:
        raise
    except Exception as exc:  # a corrupt or truncated file: say which, without a traceback
        raise InvalidFile(f"cannot read {what} file {path}: {exc}") from None
    raise InvalidFile(
        f"{what} file {path}: unsupported format {path.suffix!r}; use .npy, .npz, .zarr, .h5/.hdf5"
    )


def _is_dask(array) -> bool:
    return type(array).__module__.startswith("dask.")


def read_labels(labels, name: str = "labels") -> tuple[np.ndarray, str]:
    """Labels as a 1-D int64 array, from a file or an array-like; returns (labels, display name)."""
    if isinstance(labels, str | Path):
        labels, name = open_array(labels, name)
    if _is_dask(labels):
        labels = labels.compute()
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InvalidParameter(f"{name} must be a 1-D integer array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InvalidParameter(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False), name


@dataclass(eq=False)
class Source:
    """A 2-D feature array read in row chunks (one row = one sample), with a name for messages."""

    array: Any
    name: str
    layout: str
    is_file: bool

    @property
    def N(self) -> int:
        return int(self.array.shape[0 if self.layout == "N,d" else 1])

    @property
    def d(self) -> int:
        return int(self.array.shape[1 if self.layout == "N,d" else 0])

    @property
    def is_dask(self) -> bool:
        return _is_dask(self.array)

    def error(self, message: str) -> Exception:
        return (InvalidFile if self.is_file else InvalidParameter)(f"{self.name}: {message}")

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Samples start..stop-1 as a finite float64 array of shape (stop - start, d)."""
        if self.layout == "N,d":
            block = self.array[start:stop]
        else:
            block = self.array[:, start:stop].T
        return check_rows(np.asarray(block, dtype=np.float64), start, self)

    def as_dask(self):
        """The features as a Dask array of shape (N, d), each block holding whole rows."""
        import dask.array as da

        X = self.array if self.is_dask else da.from_array(self.array)
        if self.layout == "d,N":
            X = X.T
        return X.rechunk({1: -1})


def check_rows(X: np.ndarray, start: int, source: Source) -> np.ndarray:
    """X itself if every entry is finite; otherwise an error naming the first bad row."""
    # a row sum is finite iff every entry is (float64 sums of float16/32 data cannot overflow)
    if not np.all(np.isfinite(np.einsum("ij->i", X))):
        row = int(np.flatnonzero(~np.all(np.isfinite(X), axis=1))[0])
        raise source.error(f"row {start + row} has NaN or infinite entries")
    return X


def open_features(features, name: str, layout: str, N: int | None) -> Source:
    """Wrap features (a file spec or an array-like) as a :class:`Source` of N samples.

    ``layout='auto'`` takes the axis whose length is N (the number of labels) as the sample axis;
    a square array is ambiguous and must be given a layout. With ``N=None`` (no labels: OOD
    features) ``'auto'`` means ``'N,d'``.
    """
    if layout not in LAYOUTS:
        raise InvalidParameter(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    is_file = isinstance(features, str | Path)
    if is_file:
        features, name = open_array(features, name)
    elif not (hasattr(features, "shape") and hasattr(features, "__getitem__")):
        features = np.asarray(features)
    shape = tuple(int(s) for s in features.shape)
    err = InvalidFile if is_file else InvalidParameter
    if len(shape) != 2:
        raise err(f"{name} must be a 2-D array (N, d) or (d, N), got shape {shape}")
    try:
        dtype = np.dtype(features.dtype)
    except TypeError:  # a foreign dtype object (e.g. torch's): look at one converted entry
        dtype = np.asarray(features[:1, :1]).dtype
    if dtype.kind not in "fiu":
        raise err(f"{name} must hold real numbers (float16/32/64), got dtype {dtype}")
    if layout == "auto":
        if N is None:
            layout = "N,d"
        elif shape[0] == N and shape[1] != N:
            layout = "N,d"
        elif shape[1] == N and shape[0] != N:
            layout = "d,N"
        elif shape[0] == N:
            raise err(
                f"{name} has shape {shape}, square: say which axis holds the samples (layout)"
            )
    if layout != "auto":
        axis = 0 if layout == "N,d" else 1
        if N is not None and shape[axis] != N:
            raise err(
                f"{name} has {shape[axis]} samples along axis {axis} (layout {layout}, shape "
                f"{shape}) but there are {N} labels"
            )
    else:
        raise err(f"{name} has shape {shape}, but there are {N} labels: no axis has length {N}")
    return Source(features, name, layout, is_file)
