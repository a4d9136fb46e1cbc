"""Configurations (W, H, b, labels) and their files.

File format (schema ``ufm.configuration``, version 1)
-----------------------------------------------------
One ``.npz`` archive (numpy's zip of ``.npy`` arrays, readable without pickle) holding

==============  ===========  ===============================================================
entry           dtype/shape  meaning
==============  ===========  ===============================================================
``W``           f8 (K, d)    classifier, row k is w_k
``H``           f8 (d, N)    features, column i is h_i
``b``           f8 (K,)      bias (zeros when the problem has no bias)
``labels``      i8 (N,)      class of each column of H, in 0..K-1
``metadata``    str ()       JSON object, below
==============  ===========  ===============================================================

``metadata`` keys: ``schema`` (``"ufm.configuration"``), ``schema_version`` (1), ``ufm_version``,
``problem`` (:meth:`ufm.Problem.to_dict`, or ``null`` for models outside the regularized UFM, e.g.
the norm-constrained layer-peeled model), ``conventions`` (:meth:`ufm.metrics.Conventions.to_dict`),
``produced_by`` (object: ``method`` and its ``parameters``), ``created`` (UTC, ISO 8601), and
``extra`` (free-form object for the producer's own fields).

Writes are atomic: the archive goes to a temporary file in the destination folder, is flushed to
disk and then renamed over the destination, so an interrupted save leaves the old file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ._repr import short_repr
from ._validation import check_labels, check_matrix
from ._version import __version__
from .errors import InvalidFile, InvalidParameter, UFMError
from .metrics import Conventions
from .problem import Problem

__all__ = ["Configuration", "load", "SCHEMA", "SCHEMA_VERSION", "atomic_write"]

SCHEMA = "ufm.configuration"
SCHEMA_VERSION = 1
_ARRAYS = ("W", "H", "b", "labels", "metadata")


@dataclass(frozen=True, eq=False)
class Configuration:
    """A point (W, H, b) of an unconstrained features model, with its labels and provenance.

    Parameters
    ----------
    W : array_like, shape (K, d)
    H : array_like, shape (d, N)
    b : array_like, shape (K,), optional
        Default zeros.
    labels : array_like of int, shape (N,), optional
        Default ``problem.labels`` (columns grouped by class); required without a problem.
    problem : Problem, optional
        The model this point belongs to; its K, d, N and labels must match the arrays.
    conventions : Conventions, optional
        How metrics of this configuration are to be measured (default :class:`Conventions`).
    metadata : dict, optional
        ``produced_by`` (``{"method": ..., "parameters": {...}}``) and ``extra``; must be
        JSON-serializable.

    Raises
    ------
    InvalidParameter
        Inconsistent shapes, non-finite entries, labels out of range or an empty class.
    """

    __repr__ = short_repr

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    labels: np.ndarray
    problem: Problem | None = None
    conventions: Conventions = field(default_factory=Conventions)
    metadata: dict = field(default_factory=dict)

    def __init__(self, W, H, b=None, labels=None, problem=None, conventions=None, metadata=None):
        W = check_matrix("W", W, (None, None))
        K, d = W.shape
        if K < 2:
            raise InvalidParameter(f"W must have K >= 2 rows (classes), got {K}")
        H = check_matrix("H", H, (d, None))
        b = np.zeros(K) if b is None else check_matrix("b", b, (K,))
        if problem is not None:
            if not isinstance(problem, Problem):
                raise InvalidParameter(
                    f"problem must be a ufm.Problem, got {type(problem).__name__}"
                )
            if (problem.K, problem.d, problem.N) != (K, d, H.shape[1]):
                raise InvalidParameter(
                    f"arrays have K={K}, d={d}, N={H.shape[1]} but the problem has "
                    f"K={problem.K}, d={problem.d}, N={problem.N}"
                )
            if problem.bias == "none" and np.any(b != 0):
                raise InvalidParameter("b must be zero for a problem with bias='none'")
            if labels is None:
                labels = problem.labels
            elif not np.array_equal(labels, problem.labels):
                raise InvalidParameter(
                    "labels differ from the problem's (columns of H grouped by class)"
                )
        elif labels is None:
            raise InvalidParameter("labels are required when no problem is given")
        labels = check_labels(np.asarray(labels), H.shape[1], K).astype(np.int64)
        conventions = Conventions() if conventions is None else conventions
        if not isinstance(conventions, Conventions):
            raise InvalidParameter(
                f"conventions must be ufm.metrics.Conventions, got {type(conventions).__name__}"
            )
        metadata = dict(metadata or {})
        unknown = set(metadata) - {"produced_by", "extra"}
        if unknown:
            raise InvalidParameter(
                f"metadata accepts only 'produced_by' and 'extra', got {sorted(unknown)}"
            )
        try:
            json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidParameter(
                f"metadata must be JSON-serializable without NaN: {exc}"
            ) from None
        for name, value in (("W", W), ("H", H), ("b", b), ("labels", labels)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "problem", problem)
        object.__setattr__(self, "conventions", conventions)
        object.__setattr__(self, "metadata", metadata)

    @property
    def K(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        return self.W.shape[1]

    @property
    def N(self) -> int:
        return self.H.shape[1]

    def class_means(self) -> np.ndarray:
        """Class means M, d x K."""
        from .metrics import class_means

        return class_means(self.H, self.labels, self.K)[0]

    def metrics(self) -> dict:
        """:func:`ufm.nc_metrics` under this configuration's conventions."""
        from .metrics import nc_metrics

        return nc_metrics(self.W, self.H, self.b, self.labels, **self.conventions.to_dict())

    def objective(self) -> float:
        """:func:`ufm.objective` of the problem; raises if the configuration has no problem."""
        if self.problem is None:
            raise InvalidParameter(
                "this configuration has no regularized-UFM problem, so no objective"
            )
        from .objectives import objective

        return objective(self.problem, self.W, self.H, self.b if self.problem.has_bias else None)

    def metadata_json(self) -> dict:
        """The ``metadata`` object written to the file (see the module docstring)."""
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "ufm_version": __version__,
            "problem": None if self.problem is None else self.problem.to_dict(),
            "conventions": self.conventions.to_dict(),
            "produced_by": self.metadata.get("produced_by", {"method": "user", "parameters": {}}),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "extra": self.metadata.get("extra", {}),
        }

    def save(self, path) -> Path:
        """Write the configuration to ``path`` (a ``.npz`` file) atomically; returns the path.

        Raises
        ------
        InvalidParameter
            If ``path`` does not end in ``.npz``, or its folder does not exist or is not writable.
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise InvalidParameter(f"configuration files end in .npz, got {str(path)!r}")
        meta = json.dumps(self.metadata_json(), allow_nan=False, sort_keys=True)

        def write(fh):
            np.savez(fh, W=self.W, H=self.H, b=self.b, labels=self.labels, metadata=np.array(meta))

        atomic_write(path, write)
        return path


def check_writable(path, suffixes=None) -> Path:
    """Refuse, before any work is done, a ``path`` that a later save could not write.

    Raises
    ------
    InvalidParameter
        ``path`` does not end in one of ``suffixes`` (when given), is a directory, or its folder
        does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidParameter(f"cannot write {str(path)!r}: it is a directory")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise InvalidParameter(
            f"cannot write {str(path)!r}: the name must end in "
            + (
                suffixes[0]
                if len(suffixes) == 1
                else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
            )
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidParameter(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    return path


def atomic_write(path, write) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``; rename it over ``path``.

    The rename is atomic on POSIX, so readers see either the old file or the complete new one. The
    new file keeps the mode of the file it replaces, or gets the default mode (0666 less the umask)
    that an ordinary ``open`` would give it, not the private 0600 of a temporary file.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidParameter(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    _remove_stale_temporaries(path, folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InvalidParameter(f"cannot write {str(path)!r}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InvalidParameter(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        raise


def _remove_stale_temporaries(path: Path, folder: Path) -> None:
    """Delete temporaries of ``path`` left by killed saves: ``.<name>.<pid>-<random>.tmp`` whose
    process no longer runs (a live writer's temporary is left alone)."""
    prefix = f".{path.name}."
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix) :].partition("-")[0]
        if pid.isdigit() and (int(pid) == os.getpid() or _alive(int(pid))):
            continue
        try:
            (folder / name).unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _mode_for(path: Path) -> int:
    """Permission bits for a file at ``path``: those of the file it replaces, else 0666 & ~umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def load(path) -> Configuration:
    """Read a configuration written by :meth:`Configuration.save`, validating everything.

    Raises
    ------
    InvalidFile
        If the file is missing, not a complete ``.npz`` archive, lacks an entry, has an entry of the
        wrong dtype or shape, non-finite numbers, or metadata that does not follow the schema; the
        message names the file and what is wrong.
    """
    path = Path(path)
    where = f"{str(path)!r}"
    if path.is_dir():
        raise InvalidFile(f"{where}: is a directory, not a configuration file")
    if path.exists() and not path.is_file():
        raise InvalidFile(f"{where}: not a regular file (a FIFO, socket or device)")
    if not path.is_file():
        raise InvalidFile(f"{where}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in _ARRAYS if name not in archive.files]
            if missing:
                raise InvalidFile(
                    f"{where}: missing entries {missing} (a ufm configuration has {list(_ARRAYS)})"
                )
            arrays = {name: archive[name] for name in _ARRAYS}
    except UFMError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise InvalidFile(
            f"{where}: not a readable .npz archive (truncated or corrupt?): {exc}"
        ) from None
    meta_arr = arrays["metadata"]
    if meta_arr.shape != () or meta_arr.dtype.kind != "U":
        raise InvalidFile(f"{where}: 'metadata' must be a JSON string, got dtype {meta_arr.dtype}")
    try:
        meta = json.loads(str(meta_arr))
    except json.JSONDecodeError as exc:
        raise InvalidFile(f"{where}: metadata is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise InvalidFile(f"{where}: metadata 'schema' must be {SCHEMA!r}")
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise InvalidFile(
            f"{where}: schema_version {meta.get('schema_version')!r} is not supported "
            f"(this ufm reads version {SCHEMA_VERSION})"
        )
    for name in ("W", "H", "b"):
        if arrays[name].dtype != np.float64:
            raise InvalidFile(f"{where}: {name!r} must be float64, got {arrays[name].dtype}")
    if arrays["labels"].dtype.kind not in "iu":
        raise InvalidFile(f"{where}: 'labels' must be integers, got {arrays['labels'].dtype}")
    try:
        problem = None if meta.get("problem") is None else Problem.from_dict(meta["problem"])
        conventions = Conventions.from_dict(meta.get("conventions", {}))
        return Configuration(
            arrays["W"],
            arrays["H"],
            arrays["b"],
            arrays["labels"],
            problem=problem,
            conventions=conventions,
            metadata={"produced_by": meta.get("produced_by", {}), "extra": meta.get("extra", {})},
        )
    except (InvalidParameter, TypeError) as exc:
        raise InvalidFile(f"{where}: {exc}") from None
