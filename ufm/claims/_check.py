"""The checker behind ``ufm check``: sample points, run every route, summarize by (claim, route)."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from ..errors import InvalidParameter
from ._core import Claim, RouteResult
from ._registry import get_claim, list_claims

__all__ = ["check", "sampling_plan", "CheckRow", "DEFAULT_POINTS"]

#: Points per route in a full run (each route may cap it with ``max_points``).
DEFAULT_POINTS = 5


@dataclass(frozen=True)
class CheckRow:
    """Summary of one route of one claim over all its points."""

    claim: str
    citation: str
    route: str
    points: int
    worst_deviation: float
    tolerance: float
    ok: bool
    seconds: float
    failures: tuple[RouteResult, ...]

    @property
    def verdict(self) -> str:
        return "pass" if self.ok else "FAIL"

    def to_dict(self) -> dict:
        """JSON-ready fields, failing points with the parameters that reproduce them.

        An infinite deviation (a route that crashed, or an exact comparison that failed) is
        ``None``.
        """

        def finite(x):
            return x if math.isfinite(x) else None

        return {
            "claim": self.claim,
            "citation": self.citation,
            "route": self.route,
            "points": self.points,
            "worst_deviation": finite(self.worst_deviation),
            "tolerance": self.tolerance,
            "verdict": self.verdict,
            "seconds": self.seconds,
            "failures": [
                {"point": f.point, "deviation": finite(f.deviation), "error": f.error}
                for f in self.failures
            ],
        }


def _rng(seed: int, claim_id: str) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process, yet failing points must reproduce
    return np.random.default_rng([seed, zlib.crc32(claim_id.encode())])


def sampling_plan(
    claim: Claim, fast: bool = False, points: int | None = None, seed: int = 0
) -> dict[str, list[dict]]:
    """The points at which :func:`check` runs each route of ``claim``.

    Each route gets ``points`` points (default: its ``fast_points`` with ``fast``, else
    :data:`DEFAULT_POINTS` capped by its ``max_points``). The points are drawn once per claim from
    a generator keyed by ``(seed, claim id)`` and shared by the routes, so every route is checked at
    the same parameters. When the domain declares R regimes, point i is drawn from regime
    ``i mod R`` and route j starts at point j s, s = ceil(R / routes): the routes together visit
    every regime once each has s points. Unless ``points`` is given, a fast run is widened to s
    points per route (every regime once) and a full run to 2s (every regime at least twice).
    """
    routes = claim.routes
    regimes = claim.domain.regimes
    counts = {}
    for name, route in routes.items():
        if fast:
            counts[name] = points or route.fast_points
        else:
            n = points or DEFAULT_POINTS
            counts[name] = min(n, route.max_points) if route.max_points else n
    step = -(-len(regimes) // len(routes)) if regimes else 0  # ceil(R / routes)
    if regimes and points is None:  # fast: every regime once; full: every regime at least twice
        least = step if fast else 2 * step
        counts = {name: max(count, least) for name, count in counts.items()}
    offsets = {name: j * step for j, name in enumerate(routes)}
    rng = _rng(seed, claim.id)
    size = max(offsets[name] + counts[name] for name in routes)
    sample = [
        claim.domain.sample(rng, fast, regimes[i % len(regimes)] if regimes else None)
        for i in range(size)
    ]
    return {name: sample[offsets[name] : offsets[name] + counts[name]] for name in routes}


def check(
    claim_ids: Iterable[str] | None = None,
    *,
    fast: bool = False,
    points: int | None = None,
    seed: int = 0,
    claims: Iterable[Claim] | None = None,
    progress: Callable[[RouteResult], None] | None = None,
) -> list[CheckRow]:
    """Verify claims by every route at sampled points of their domains.

    Parameters
    ----------
    claim_ids : iterable of str, optional
        Claims of the registry to check; default all.
    fast : bool
        Small sizes (each domain's ``fast_hi`` caps) and ``route.fast_points`` points per route.
    points : int, optional
        Points per route (overrides the default of the mode; still capped by ``route.max_points``
        in a full run).
    seed : int
        Seeds every sampled point: the same seed reproduces every point and every result.
    claims : iterable of Claim, optional
        Claims not in the registry (e.g. a user's), checked in addition to ``claim_ids``.
    progress : callable, optional
        Called with each :class:`RouteResult` as it completes.

    Returns
    -------
    list of CheckRow
        One row per (claim, route).
    """
    seed = check_int("seed", seed, 0)
    if points is not None:
        points = check_int("points", points, 1)
    selected = [get_claim(c) for c in claim_ids] if claim_ids else []
    extra = list(claims or [])
    if not selected and not extra:
        selected = list_claims()
    rows = []
    for claim in selected + extra:
        for name, route_points in sampling_plan(claim, fast, points, seed).items():
            results = []
            for point in route_points:
                result = claim.run(name, point)
                results.append(result)
                if progress is not None:
                    progress(result)
            rows.append(
                CheckRow(
                    claim=claim.id,
                    citation=claim.citation,
                    route=name,
                    points=len(results),
                    worst_deviation=max(r.deviation for r in results),
                    tolerance=claim.routes[name].tolerance,
                    ok=all(r.ok for r in results),
                    seconds=sum(r.seconds for r in results),
                    failures=tuple(r for r in results if not r.ok),
                )
            )
    if not rows:
        raise InvalidParameter("no claims selected")
    return rows
