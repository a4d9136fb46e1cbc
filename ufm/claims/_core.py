r"""The machinery of claims: records, parameter domains, routes and the checker.

A :class:`Claim` is data: an id, a citation, a one-sentence statement, a parameter :class:`Domain`,
a ``predict(point)`` function that encodes what the theorem asserts, and :class:`Route` objects that
measure the same quantity independently (``symbolic``: sympy, ``convex``: a cvxpy relaxation,
``dynamic``: gradient descent / flow / SDE simulation). The checker samples points from the domain,
asks every route for its measurement and compares it with the prediction (PEPit's
``(computed, theoretical)`` pair, made explicit):

* ``relation='equal'``: deviation :math:`\max|m - p|/(1 + |p|)`
  (:func:`ufm.tolerances.relative_deviation`), exactly zero or infinite when both sides are sympy
  expressions (``simplify(m - p) == 0``);
* ``relation='upper'``: the measurement must not exceed the prediction: deviation
  :math:`\max(m - p, 0)/(1 + |p|)`; ``relation='lower'`` the mirror image.

Measurements and predictions may be numbers, arrays, sympy expressions or dicts of those; for a
dict prediction only the keys the route measured are compared (a route need not measure
everything).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidParameter
from ..tolerances import relative_deviation

__all__ = [
    "Claim",
    "Route",
    "RouteResult",
    "Domain",
    "IntRange",
    "LogRange",
    "Choice",
    "deviation",
]

ROUTE_KINDS = ("symbolic", "convex", "dynamic")


@dataclass(frozen=True)
class IntRange:
    """Integers lo..hi inclusive; ``fast_hi`` caps them in ``--fast`` runs."""

    lo: int
    hi: int
    fast_hi: int | None = None

    def sample(self, rng: np.random.Generator, fast: bool) -> int:
        hi = min(self.hi, self.fast_hi) if fast and self.fast_hi is not None else self.hi
        return int(rng.integers(self.lo, hi + 1))


@dataclass(frozen=True)
class LogRange:
    """Floats log-uniform on [lo, hi]."""

    lo: float
    hi: float

    def sample(self, rng: np.random.Generator, fast: bool) -> float:
        return float(np.exp(rng.uniform(np.log(self.lo), np.log(self.hi))))


@dataclass(frozen=True)
class Choice:
    """One of the given values."""

    values: tuple

    def sample(self, rng: np.random.Generator, fast: bool):
        return self.values[int(rng.integers(len(self.values)))]


@dataclass(frozen=True)
class Domain:
    """The hypotheses of a claim as a parameter domain.

    Parameters
    ----------
    params : mapping of name -> IntRange | LogRange | Choice
        Sampled independently, in order.
    derive : callable, optional
        ``derive(point) -> dict`` adds parameters that depend on the sampled ones (e.g. d from K).
    where : callable, optional
        ``where(point) -> bool``: points violating it are re-drawn (rejection sampling).
    description : str
        The hypotheses in words, shown by ``ufm check``.
    regimes : tuple of str
        Names of the regimes the claim's prediction distinguishes (e.g. a collapsed and a zero
        minimizer, each bias mode): :func:`ufm.claims.check` samples them in turn, so that every
        run, ``--fast`` included, visits each of them (:func:`ufm.claims.sampling_plan`).
    regime_of : callable, optional
        ``regime_of(point) -> name``, one of ``regimes``; required with ``regimes``.
    """

    params: Mapping[str, Any]
    derive: Callable[[dict], dict] | None = None
    where: Callable[[dict], bool] | None = None
    description: str = ""
    regimes: tuple[str, ...] = ()
    regime_of: Callable[[dict], str] | None = None

    def __post_init__(self):
        if bool(self.regimes) != (self.regime_of is not None):
            raise InvalidParameter(
                "a domain with regimes needs regime_of, and regime_of needs them"
            )

    def sample(self, rng: np.random.Generator, fast: bool, regime: str | None = None) -> dict:
        """One point of the domain, of the given regime if one is named (rejection sampling, at
        most 1000 rounds)."""
        if regime is not None and regime not in self.regimes:
            raise InvalidParameter(f"regime must be one of {self.regimes}, got {regime!r}")
        for _ in range(1000):
            point = {name: p.sample(rng, fast) for name, p in self.params.items()}
            if self.derive is not None:
                point.update(self.derive(point))
            if self.where is not None and not self.where(point):
                continue
            if regime is None or self.regime_of(point) == regime:
                return point
        within = f" in regime {regime!r}" if regime is not None else ""
        raise InvalidParameter(
            f"could not sample a point{within} satisfying the domain: {self.description}"
        )


@dataclass(frozen=True)
class Route:
    """One independent way of measuring what a claim predicts.

    Parameters
    ----------
    kind : {'symbolic', 'convex', 'dynamic'}
    measure : callable
        ``measure(point) -> measurement`` (number, array, sympy expression, or dict of those).
    tolerance : float
        Allowed deviation; name its source (a constant of :mod:`ufm.tolerances`).
    relation : {'equal', 'upper', 'lower'}
        How the measurement relates to the prediction.
    max_points : int, optional
        Cap on points for expensive routes (a full run samples ``min(points, max_points)``).
    fast_points : int
        Points in a ``--fast`` run.
    description : str
        What the route computes, in one line.
    key_tolerances : mapping of str -> float, optional
        Tighter tolerances for some keys of a dict measurement (e.g. a convex program's optimal
        value, accurate to the solver's gap, next to its argmin, accurate only to its square root).
        The route's deviation is then the largest ``deviation_k * tolerance / tolerance_k``: it is
        reported against ``tolerance`` and exceeds it exactly when some key exceeds its own.
    """

    kind: str
    measure: Callable[[dict], Any]
    tolerance: float
    relation: str = "equal"
    max_points: int | None = None
    fast_points: int = 1
    description: str = ""
    key_tolerances: Mapping[str, float] | None = None

    def deviation(self, measured, predicted) -> float:
        """:func:`deviation` of the measurement, each key of ``key_tolerances`` scaled by
        ``tolerance / key_tolerance`` (so the result is compared with ``tolerance``)."""
        if not self.key_tolerances or not isinstance(predicted, Mapping):
            return deviation(measured, predicted, self.relation)
        deviation(measured, predicted, self.relation)  # validates the pair (shapes, common keys)
        scale = {k: self.tolerance / t for k, t in self.key_tolerances.items()}
        return max(
            deviation(measured[k], predicted[k], self.relation) * scale.get(k, 1.0)
            for k in measured
            if k in predicted
        )

    def __post_init__(self):
        if self.kind not in ROUTE_KINDS:
            raise InvalidParameter(f"route kind must be one of {ROUTE_KINDS}, got {self.kind!r}")
        if self.relation not in ("equal", "upper", "lower"):
            raise InvalidParameter(
                f"relation must be 'equal', 'upper' or 'lower', got {self.relation!r}"
            )
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise InvalidParameter(f"tolerance must be finite and >= 0, got {self.tolerance}")
        for key, value in (self.key_tolerances or {}).items():
            if not (math.isfinite(value) and 0 < value <= self.tolerance):
                raise InvalidParameter(
                    f"key_tolerances[{key!r}] must be in (0, tolerance = {self.tolerance}], "
                    f"got {value}"
                )


@dataclass(frozen=True)
class RouteResult:
    """The outcome of one route at one point: ``measured`` against ``predicted``."""

    claim: str
    route: str
    point: dict
    measured: Any
    predicted: Any
    deviation: float
    tolerance: float
    ok: bool
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class Claim:
    """A theorem, encoded once.

    Parameters
    ----------
    id : str
        Stable identifier, e.g. ``"ce.global-minimizer"``.
    citation : str
        Authors, year, theorem/proposition number (or "derived here; consistent with ...").
    statement : str
        One sentence.
    domain : Domain
        Hypotheses as a parameter domain.
    predict : callable
        ``predict(point)`` -> what the claim asserts at that point.
    routes : mapping of str -> Route
        Independent verifications, keyed by kind.
    proof : str, optional
        Path of the runnable derivation under ``proofs/``.
    """

    id: str
    citation: str
    statement: str
    domain: Domain
    predict: Callable[[dict], Any]
    routes: Mapping[str, Route] = field(default_factory=dict)
    proof: str | None = None

    def __post_init__(self):
        if not self.routes:
            raise InvalidParameter(f"claim {self.id!r} needs at least one route")
        for name, route in self.routes.items():
            if name != route.kind:
                raise InvalidParameter(
                    f"claim {self.id!r}: route key {name!r} != its kind {route.kind!r}"
                )

    def run(self, route: str, point: dict) -> RouteResult:
        """Measure ``route`` at ``point`` and compare with the prediction.

        Never raises for a failing measurement: the error is recorded and the result is not ok.
        """
        r = self.routes[route]
        start = time.perf_counter()
        try:
            predicted = self.predict(point)
            measured = r.measure(point)
            dev = r.deviation(measured, predicted)
            error = None
        except Exception as exc:  # a route that crashes is a failed check, reported with its point
            predicted = measured = None
            dev, error = math.inf, f"{type(exc).__name__}: {exc}"
        return RouteResult(
            claim=self.id,
            route=route,
            point=dict(point),
            measured=measured,
            predicted=predicted,
            deviation=dev,
            tolerance=r.tolerance,
            ok=dev <= r.tolerance,
            seconds=time.perf_counter() - start,
            error=error,
        )


def _is_sympy(x) -> bool:
    return type(x).__module__.startswith("sympy")


def deviation(measured, predicted, relation: str = "equal") -> float:
    """Scale-free deviation of a measurement from a prediction (see the module docstring)."""
    if isinstance(predicted, Mapping):
        if not isinstance(measured, Mapping):
            raise InvalidParameter("a dict prediction needs a dict measurement")
        keys = [k for k in measured if k in predicted]
        if not keys:
            raise InvalidParameter(
                f"the route measured {sorted(measured)}, none of the predicted {sorted(predicted)}"
            )
        return max(deviation(measured[k], predicted[k], relation) for k in keys)
    if _is_sympy(measured) and _is_sympy(predicted) and relation == "equal":
        import sympy

        diff = sympy.simplify(sympy.sympify(measured) - sympy.sympify(predicted))
        entries = diff if isinstance(diff, sympy.MatrixBase) else [diff]
        return 0.0 if all(sympy.simplify(e) == 0 for e in entries) else math.inf
    m = np.asarray(_to_float(measured), dtype=float)
    p = np.asarray(_to_float(predicted), dtype=float)
    if m.shape != p.shape and m.size != 1 and p.size != 1:
        raise InvalidParameter(f"measured shape {m.shape} does not match predicted shape {p.shape}")
    if relation == "equal":
        return relative_deviation(m, p)
    if not np.all(np.isfinite(m)):
        return math.inf
    excess = m - p if relation == "upper" else p - m
    return float(np.max(np.maximum(excess, 0.0) / (1.0 + np.abs(p)), initial=0.0))


def _to_float(x):
    if _is_sympy(x):
        import sympy

        if isinstance(x, sympy.MatrixBase):
            return np.array(x.evalf(17).tolist(), dtype=float)
        return float(sympy.N(x, 17))
    return x
