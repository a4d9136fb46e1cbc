"""Argument checks shared by every public entry point.

Each raises InvalidParameter with a message that names the argument, the rule and the value
received.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .errors import InvalidParameter


def check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral | np.integer):
        raise InvalidParameter(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InvalidParameter(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_nonneg(name: str, value) -> float:
    """Return ``value`` as float if it is a finite real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise InvalidParameter(f"{name} must be a finite real number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InvalidParameter(f"{name} must be finite and >= 0, got {value}")
    return value


def check_positive(name: str, value) -> float:
    """Return ``value`` as float if it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise InvalidParameter(f"{name} must be a finite real number > 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise InvalidParameter(f"{name} must be finite and > 0, got {value}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise InvalidParameter(
            f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )
    return value


def check_matrix(name: str, value, shape: tuple[int | None, ...]) -> np.ndarray:
    """Return ``value`` as a finite float64 array of the given shape (``None`` = any length).

    Only real numbers are accepted: complex entries are refused rather than truncated, and strings,
    booleans or objects rather than coerced.
    """
    raw = np.asarray(value)
    if raw.dtype.kind == "O" and all(
        isinstance(x, Real) and not isinstance(x, bool) for x in raw.flat
    ):
        raw = raw.astype(np.float64)
    if raw.dtype.kind not in "iuf":
        raise InvalidParameter(
            f"{name} must be a real array of shape {_fmt(shape)}, got dtype {raw.dtype}"
            + (" (complex entries are not truncated)" if raw.dtype.kind == "c" else "")
        )
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(
            f"{name} must be a real array of shape {_fmt(shape)}: {exc}"
        ) from None
    if arr.ndim != len(shape) or any(
        s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)
    ):
        raise InvalidParameter(f"{name} must have shape {_fmt(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InvalidParameter(f"{name} must be finite, got {bad} NaN or infinite entries")
    return arr


def check_labels(labels, N: int, K: int) -> np.ndarray:
    """Return integer labels of length N with values in 0..K-1 and no empty class."""
    labels = np.asarray(labels)
    if labels.shape != (N,):
        raise InvalidParameter(f"labels must have shape (N,) = ({N},), got {labels.shape}")
    if N == 0:
        raise InvalidParameter(f"every class needs at least one sample, got N = 0 for K = {K}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise InvalidParameter(f"labels must be integers in 0..{K - 1}, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= K:
        raise InvalidParameter(
            f"labels must lie in 0..{K - 1}, got values {labels.min()}..{labels.max()}"
        )
    counts = np.bincount(labels, minlength=K)
    if np.any(counts == 0):
        raise InvalidParameter(
            f"every class needs at least one sample; empty: {np.flatnonzero(counts == 0).tolist()}"
        )
    return labels


def _fmt(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
