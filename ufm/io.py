"""Configurations (named blocks of a model, labels) and their files.

File format (schema ``ufm.configuration``, version 2)
-----------------------------------------------------
One ``.npz`` archive (numpy's zip of ``.npy`` arrays, readable without pickle) holding each block of
the problem's model (:mod:`ufm.models`) under its name, plus the labels and the metadata:

==============  ===========  ===============================================================
entry           dtype/shape  meaning
==============  ===========  ===============================================================
``<block>``     f8 (...)     one per block, e.g. for ``model='ufm'``:
``W``           f8 (K, d)    classifier, row k is w_k
``H``           f8 (d, N)    features, column i is h_i
``b``           f8 (K,)      bias (absent when the problem has ``bias='none'``)
``labels``      i8 (N,)      class of each column of H, in 0..K-1
``metadata``    str ()       JSON object, below
==============  ===========  ===============================================================

Other models: ``layer-peeled`` and ``sphere`` store W, H; ``deep-linear`` stores
``W{L}, ..., W1, H`` and b.

``metadata`` keys, all required, no others: ``schema`` (``"ufm.configuration"``),
``schema_version`` (2), ``ufm_version`` (string), ``problem`` (:meth:`ufm.Problem.to_dict`, or
``null`` for a UFM point without a problem), ``conventions``
(:meth:`ufm.metrics.Conventions.to_dict`), ``produced_by`` (object: ``method``, a string, and its
``parameters``, an object), ``created`` (UTC, ISO 8601 string), ``extra`` (object, the producer's
own fields), ``model`` (the model's name) and ``blocks`` (the entries of the blocks in order,
``[[name, shape], ...]``). An unknown top-level
key is refused: a reader cannot know what a newer writer meant by it, and new keys come with a new
``schema_version``.

Version 1 (ufm 0.1) files hold W, H, b, labels and metadata without ``model`` and ``blocks``; they
load as ``model='ufm'`` configurations.

Reading is defensive (:func:`load`): sizes are checked from the zip directory and the ``.npy``
headers before any array is read, against :data:`MAX_LOAD_BYTES` (overridable per call); the
metadata is at most 4 MiB of JSON, its integers have at most 19 digits and it nests at most 32
deep. Anything else is an :class:`ufm.errors.InvalidFile` naming the file and the field.

Writes are atomic: the archive goes to a temporary file in the destination folder, is flushed to
disk and then renamed over the destination, so an interrupted save leaves the old file intact.

Length: one concern (a configuration and its file); the schema, the reader's size and type checks
(every entry is validated from the zip and npy headers before it is read) and the atomic writer are
kept together because the schema table above is their single specification.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import _safe_read
from ._repr import short_repr
from ._validation import check_int, check_labels, check_matrix
from ._version import __version__
from .errors import InvalidFile, InvalidParameter, UFMError
from .metrics import Conventions
from .models import get_model
from .problem import Problem

__all__ = [
    "Configuration",
    "load",
    "SCHEMA",
    "SCHEMA_VERSION",
    "MAX_LOAD_BYTES",
    "atomic_write",
    "read_arrays",
]

SCHEMA = "ufm.configuration"
SCHEMA_VERSION = 2

#: Default limit on the bytes a file's arrays may hold once read (2 GiB); ``load(max_bytes=...)``
#: overrides it for one call.
MAX_LOAD_BYTES = 2**31

#: Metadata keys of each schema version and their JSON types.
_KEYS_V1 = {
    "schema": str,
    "schema_version": int,
    "ufm_version": str,
    "problem": (dict, type(None)),
    "conventions": dict,
    "produced_by": dict,
    "created": str,
    "extra": dict,
}
_KEYS = {1: _KEYS_V1, 2: {**_KEYS_V1, "model": str, "blocks": list}}


def _check_provenance(metadata) -> dict:
    """``metadata`` (``produced_by``, ``extra``) checked: JSON without NaN, documented types."""
    metadata = dict(metadata or {})
    unknown = set(metadata) - {"produced_by", "extra"}
    if unknown:
        raise InvalidParameter(
            f"metadata accepts only 'produced_by' and 'extra', got {sorted(unknown)}"
        )
    try:
        json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"metadata must be JSON-serializable without NaN: {exc}") from None
    produced = metadata.get("produced_by", {"method": "user", "parameters": {}})
    if not (
        isinstance(produced, dict)
        and isinstance(produced.get("method"), str)
        and isinstance(produced.get("parameters", {}), dict)
    ):
        raise InvalidParameter(
            "metadata['produced_by'] must be an object with 'method' (a string) and "
            f"'parameters' (an object), got {produced!r}"
        )
    if not isinstance(metadata.get("extra", {}), dict):
        raise InvalidParameter(f"metadata['extra'] must be an object, got {metadata['extra']!r}")
    return metadata


@dataclass(frozen=True, eq=False)
class Configuration:
    """A point of a model (its named blocks), with its labels and provenance.

    For ``model='ufm'`` the blocks are (W, H, b) and ``Configuration(W, H, b, ...)`` builds it as
    always. Other models (:mod:`ufm.models`) are given by ``blocks=`` and a ``problem`` naming
    the model; ``W``, ``H``, ``b`` are then the classifier, the features it reads and the bias
    (:meth:`ufm.models.Model.classifier_and_features`), on which :meth:`metrics` are measured.

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
        ``produced_by`` (``{"method": ..., "parameters": {...}}``) and ``extra`` (an object);
        must be JSON-serializable.
    blocks : mapping name -> array_like, optional
        The named blocks of ``problem``'s model, instead of (W, H, b).

    Attributes
    ----------
    blocks : dict of name -> ndarray
        The model's blocks in their canonical order (read-only arrays).
    model : str
        The model's name (``'ufm'`` without a problem).

    Raises
    ------
    InvalidParameter
        Inconsistent shapes, non-finite entries, labels out of range, an empty class, blocks that
        are not the model's, or a violated constraint of the model.
    """

    __repr__ = short_repr

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    labels: np.ndarray
    problem: Problem | None = None
    conventions: Conventions = field(default_factory=Conventions)
    metadata: dict = field(default_factory=dict)
    blocks: dict = field(default_factory=dict, repr=False)
    model: str = "ufm"

    def __init__(
        self,
        W=None,
        H=None,
        b=None,
        labels=None,
        problem=None,
        conventions=None,
        metadata=None,
        *,
        blocks=None,
    ):
        if problem is not None and not isinstance(problem, Problem):
            raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
        model = "ufm" if problem is None else problem.model
        if blocks is not None:
            if not (W is None and H is None and b is None):
                raise InvalidParameter("give either (W, H, b) or blocks=, not both")
            if not isinstance(blocks, Mapping):
                raise InvalidParameter(
                    f"blocks must be a mapping name -> array, got {type(blocks).__name__}"
                )
            if model == "ufm":
                if set(blocks) - {"W", "H", "b"}:
                    raise InvalidParameter(
                        f"model 'ufm' has the blocks W, H, b, got {list(blocks)}"
                    )
                W, H, b = blocks.get("W"), blocks.get("H"), blocks.get("b")
        elif model != "ufm":
            blocks = {"W": W, "H": H} if b is None else {"W": W, "H": H, "b": b}
        if model == "ufm":
            W, H, b = self._ufm_arrays(W, H, b, problem)
            blocks = {"W": W, "H": H, "b": b}
            if problem is not None and not problem.has_bias:
                del blocks["b"]
        else:
            record = get_model(model)
            blocks = record.check(problem, blocks)
            W, H, b = (np.array(a) for a in record.classifier_and_features(problem, blocks))
        K = W.shape[0]
        if problem is not None:
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
        metadata = _check_provenance(metadata)
        for value in (*blocks.values(), W, H, b, labels):
            value.setflags(write=False)
        for name, value in (("W", W), ("H", H), ("b", b), ("labels", labels)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "problem", problem)
        object.__setattr__(self, "conventions", conventions)
        object.__setattr__(self, "metadata", metadata)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "model", model)

    @staticmethod
    def _ufm_arrays(W, H, b, problem):
        """W, H, b of a UFM point, validated against each other and the problem."""
        W = check_matrix("W", W, (None, None))
        K, d = W.shape
        if K < 2:
            raise InvalidParameter(f"W must have K >= 2 rows (classes), got {K}")
        H = check_matrix("H", H, (d, None))
        b = np.zeros(K) if b is None else check_matrix("b", b, (K,))
        if problem is not None:
            if (problem.K, problem.d, problem.N) != (K, d, H.shape[1]):
                raise InvalidParameter(
                    f"arrays have K={K}, d={d}, N={H.shape[1]} but the problem has "
                    f"K={problem.K}, d={problem.d}, N={problem.N}"
                )
            if problem.bias == "none" and np.any(b != 0):
                raise InvalidParameter("b must be zero for a problem with bias='none'")
        return W, H, b

    @property
    def K(self) -> int:
        return self.W.shape[0]

    @property
    def d(self) -> int:
        """Dimension of the features the classifier reads (H.shape[0])."""
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
        """The objective of the problem's model (:func:`ufm.objective`); raises without a
        problem."""
        if self.problem is None:
            raise InvalidParameter("this configuration has no problem, so no objective")
        return get_model(self.model).objective(self.problem, self.blocks)

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
            "model": self.model,
            "blocks": [[name, list(value.shape)] for name, value in self.blocks.items()],
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
            np.savez(fh, **self.blocks, labels=self.labels, metadata=np.array(meta))

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


def _check_schema(meta, where: str) -> int:
    """The schema version of ``meta`` after checking its keys and their types (module docstring)."""
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise InvalidFile(f"{where}: metadata 'schema' must be {SCHEMA!r}")
    version = meta.get("schema_version")
    if isinstance(version, bool) or version not in _KEYS:
        raise InvalidFile(
            f"{where}: schema_version {version!r} is not supported "
            f"(this ufm reads versions {', '.join(map(str, _KEYS))})"
        )
    keys = _KEYS[version]
    missing = sorted(set(keys) - set(meta))
    unknown = sorted(set(meta) - set(keys))
    if missing or unknown:
        raise InvalidFile(
            f"{where}: metadata of schema_version {version} must have exactly the keys "
            f"{sorted(keys)}; missing {missing}, unknown {unknown}"
        )
    for key, kind in keys.items():
        if not isinstance(meta[key], kind):
            raise InvalidFile(
                f"{where}: metadata {key!r} must be of JSON type "
                f"{_json_type(kind)}, got {meta[key]!r}"
            )
    if version >= 2:
        for item in meta["blocks"]:
            if not (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], list)
                and all(isinstance(s, int) and not isinstance(s, bool) for s in item[1])
            ):
                raise InvalidFile(
                    f"{where}: metadata 'blocks' must list [name, shape] pairs, got {item!r}"
                )
    return version


def _json_type(kind) -> str:
    names = {str: "string", int: "integer", dict: "object", list: "array", type(None): "null"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds)


def _check_sizes(problem: dict | None, N: int, where: str) -> None:
    """Refuse class sizes that do not add up to the stored labels before building the problem
    (a crafted size must not allocate a label vector)."""
    if problem is None:
        return
    sizes = problem.get("class_sizes")
    if "n" in problem or not isinstance(sizes, list):
        raise InvalidFile(f"{where}: metadata 'problem' must give class_sizes (a list)")
    try:
        total = sum(check_int("class_sizes entry", s, 1) for s in sizes)
    except InvalidParameter as exc:
        raise InvalidFile(f"{where}: problem {exc}") from None
    if total != N:
        raise InvalidFile(
            f"{where}: problem class_sizes add up to {total} but 'labels' has {N} entries"
        )


def _regular_file(path, what: str) -> tuple[Path, str]:
    """``path`` as a Path and its quoted name, if it names an existing regular file."""
    path = Path(path)
    where = f"{str(path)!r}"
    if path.is_dir():
        raise InvalidFile(f"{where}: is a directory, not {what}")
    if path.exists() and not path.is_file():
        raise InvalidFile(f"{where}: not a regular file (a FIFO, socket or device)")
    if not path.is_file():
        raise InvalidFile(f"{where}: no such file")
    return path, where


@contextmanager
def _archive(path: Path, where: str):
    """The open zip archive; a broken archive becomes :class:`InvalidFile` naming the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except UFMError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise InvalidFile(
            f"{where}: not a readable .npz archive (truncated or corrupt?): {exc}"
        ) from None


def read_arrays(path, what: str, *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every array of a plain ``.npz`` file (no metadata), sizes checked from the headers first
    (:mod:`ufm._safe_read`, limit :data:`MAX_LOAD_BYTES` unless ``max_bytes``); no pickle.

    Raises
    ------
    InvalidFile
        Missing or irregular file, a broken archive, an entry that is not a plain array or is
        larger than the limit; the message names the file (``what`` says what it should be).
    """
    max_bytes = MAX_LOAD_BYTES if max_bytes is None else check_int("max_bytes", max_bytes, 1)
    path, where = _regular_file(path, what)
    with _archive(path, where) as archive:
        headers = _safe_read.read_headers(archive, where, max_bytes)
        return {name: _safe_read.read_entry(archive, name) for name in headers}


def load(path, *, max_bytes: int | None = None) -> Configuration:
    """Read a configuration written by :meth:`Configuration.save`, validating everything.

    Reads schema versions 2 and 1 (module docstring). Sizes are checked from the headers before
    any array is read.

    Parameters
    ----------
    path : str or path-like
    max_bytes : int, optional
        Limit on the bytes the arrays may hold (default :data:`MAX_LOAD_BYTES`, 2 GiB).

    Raises
    ------
    InvalidFile
        If the file is missing, not a complete ``.npz`` archive, lacks an entry or has one that
        the schema does not name, has an entry of the wrong dtype or shape, an entry larger than
        the limit or than its member, non-finite numbers, or metadata that does not follow the
        schema; the message names the file and what is wrong.
    InvalidParameter
        If ``max_bytes`` is not a positive integer.
    """
    max_bytes = MAX_LOAD_BYTES if max_bytes is None else check_int("max_bytes", max_bytes, 1)
    path, where = _regular_file(path, "a configuration file")
    with _archive(path, where) as archive:
        headers = _safe_read.read_headers(archive, where, max_bytes)
        meta, names = _read_metadata(archive, headers, where)
        arrays = {name: _safe_read.read_entry(archive, name) for name in names}
    try:
        problem = None if meta["problem"] is None else Problem.from_dict(meta["problem"])
        conventions = Conventions.from_dict(meta["conventions"])
        provenance = {"produced_by": meta["produced_by"], "extra": meta["extra"]}
        labels = arrays.pop("labels")
        if meta.get("model", "ufm") != "ufm" and problem is None:
            raise InvalidParameter(f"model {meta['model']!r} needs its problem, got null")
        if problem is not None and problem.model != meta.get("model", "ufm"):
            raise InvalidParameter(
                f"metadata 'model' is {meta['model']!r} but the problem's is {problem.model!r}"
            )
        if meta.get("model", "ufm") == "ufm":
            config = Configuration(
                arrays["W"], arrays["H"], arrays.get("b"), labels, problem=problem,
                conventions=conventions, metadata=provenance,
            )  # fmt: skip
        else:
            config = Configuration(
                blocks=arrays, labels=labels, problem=problem, conventions=conventions,
                metadata=provenance,
            )  # fmt: skip
    except (InvalidParameter, TypeError) as exc:
        raise InvalidFile(f"{where}: {exc}") from None
    if "blocks" in meta:
        stored = [[name, list(value.shape)] for name, value in config.blocks.items()]
        if meta["blocks"] != stored:
            raise InvalidFile(
                f"{where}: metadata 'blocks' is {meta['blocks']} but the model's blocks are "
                f"{stored}"
            )
    return config


def _read_metadata(archive, headers: dict, where: str) -> tuple[dict, list[str]]:
    """The checked metadata object and the names of the array entries it requires."""
    if "metadata" not in headers:
        raise InvalidFile(f"{where}: missing entries ['metadata']")
    head = headers["metadata"]
    if head.shape != () or head.dtype.kind != "U":
        raise InvalidFile(f"{where}: 'metadata' must be a JSON string, got dtype {head.dtype}")
    if head.nbytes > _safe_read.MAX_METADATA_BYTES:
        raise InvalidFile(
            f"{where}: 'metadata' holds {head.nbytes} bytes, over the limit of "
            f"{_safe_read.MAX_METADATA_BYTES}"
        )
    meta = _safe_read.parse_json(str(_safe_read.read_entry(archive, "metadata")), where)
    version = _check_schema(meta, where)
    blocks = ["W", "H", "b"] if version == 1 else [name for name, _ in meta["blocks"]]
    expected = [*blocks, "labels", "metadata"]
    missing = [name for name in expected if name not in headers]
    if missing:
        raise InvalidFile(f"{where}: missing entries {missing} (this configuration has {expected})")
    unknown = sorted(set(headers) - set(expected))
    if unknown:
        raise InvalidFile(f"{where}: unexpected entries {unknown} (schema: {expected})")
    for name in blocks:
        if headers[name].dtype != np.float64:
            raise InvalidFile(f"{where}: {name!r} must be float64, got {headers[name].dtype}")
    if headers["labels"].dtype.kind not in "iu" or len(headers["labels"].shape) != 1:
        raise InvalidFile(
            f"{where}: 'labels' must be integers of shape (N,), got {headers['labels'].dtype} "
            f"{headers['labels'].shape}"
        )
    _check_sizes(meta["problem"], headers["labels"].shape[0], where)
    return meta, [*blocks, "labels"]
