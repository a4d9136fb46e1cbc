"""The machinery of ``ufm.claims`` on small hand-made claims: sampling, comparison, verdicts.

Every claim here is cheap (a closed form or a constant), so these tests pin the checker's logic
without running the catalogue's solvers or descents.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from ufm.claims import (
    DEFAULT_POINTS,
    Choice,
    Claim,
    Domain,
    IntRange,
    LogRange,
    Route,
    check,
    sampling_plan,
)
from ufm.claims import deviation as claim_deviation
from ufm.errors import InvalidParameter

#: Draws per sampling test: enough that every value of a range of at most 4 integers appears
#: (a value of probability 1/4 is missed by all 400 draws with probability (3/4)^400 < 1e-49).
DRAWS = 400


def _draws(param, fast: bool, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [param.sample(rng, fast) for _ in range(DRAWS)]


def test_int_range_is_inclusive_and_capped_only_in_fast_runs():
    """Property: IntRange(lo, hi, fast_hi) draws every integer of lo..hi (both ends), and only
    lo..fast_hi in a fast run; without fast_hi a fast run draws the whole range."""
    assert set(_draws(IntRange(2, 5, fast_hi=3), fast=False)) == {2, 3, 4, 5}
    assert set(_draws(IntRange(2, 5, fast_hi=3), fast=True)) == {2, 3}
    assert set(_draws(IntRange(2, 5), fast=True)) == {2, 3, 4, 5}
    assert all(type(v) is int for v in _draws(IntRange(2, 5), fast=False))


def test_log_range_is_log_uniform_on_its_interval():
    """Property: LogRange(1e-3, 1e3) draws floats in [1e-3, 1e3] whose logarithm is uniform: the
    fraction below the geometric midpoint 1 is 1/2 and below 1e-2 is 1/6 (each within 5 standard
    deviations of a binomial proportion over DRAWS draws, a false alarm below 1e-6)."""
    values = np.array(_draws(LogRange(1e-3, 1e3), fast=False))
    assert values.min() >= 1e-3 and values.max() <= 1e3
    for below, fraction in ((1.0, 1 / 2), (1e-2, 1 / 6)):
        sd = math.sqrt(fraction * (1 - fraction) / DRAWS)
        assert abs(np.mean(values < below) - fraction) < 5 * sd


def test_choice_draws_every_value():
    """Property: Choice draws only its values, each of them."""
    assert set(_draws(Choice(("ce", "mse", "ls")), fast=False)) == {"ce", "mse", "ls"}


def test_domain_derives_and_rejects():
    """Property: derived parameters are added to every point and points violating ``where`` are
    re-drawn; a domain no point satisfies is refused with its description."""
    domain = Domain(
        {"K": IntRange(2, 6)},
        derive=lambda p: {"d": p["K"] - 1},
        where=lambda p: p["K"] % 2 == 0,
        description="even K",
    )
    rng = np.random.default_rng(0)
    points = [domain.sample(rng, False) for _ in range(50)]
    assert {p["K"] for p in points} == {2, 4, 6}
    assert all(p["d"] == p["K"] - 1 for p in points)
    empty = Domain({"K": IntRange(3, 3)}, where=lambda p: p["K"] % 2 == 0, description="even K")
    with pytest.raises(InvalidParameter, match="could not sample a point satisfying the domain"):
        empty.sample(rng, False)


def _claim(measure, predicted=1.0, tolerance=1e-6, relation="equal", claim_id="test.claim"):
    """A claim on K in 2..4 predicting ``predicted`` (a value, or a function of the point)."""
    predict = predicted if callable(predicted) else (lambda p: predicted)
    return Claim(
        claim_id,
        "test citation",
        "a statement",
        Domain({"K": IntRange(2, 4)}, description="K in 2..4"),
        predict,
        {"symbolic": Route("symbolic", measure, tolerance, relation=relation)},
    )


def test_run_compares_with_the_tolerance_inclusively():
    """Property: a route is ok iff its deviation is at most the tolerance (equality passes), and
    the result carries the point, both values and the deviation."""
    tolerance = 0.25
    for measured, ok in ((1.5, True), (1.5 + 1e-9, False), (0.5, True), (0.0, False)):
        # deviation |m - 1| / (1 + 1): 0.25 at m = 1.5 and m = 0.5
        result = _claim(lambda p, m=measured: m, tolerance=tolerance).run("symbolic", {"K": 2})
        assert result.ok is ok
        assert result.deviation == pytest.approx(abs(measured - 1.0) / 2, rel=1e-12)
        assert (result.claim, result.route, result.point) == ("test.claim", "symbolic", {"K": 2})
        assert (result.measured, result.predicted, result.tolerance) == (measured, 1.0, tolerance)
        assert result.error is None and 0 <= result.seconds < 10  # a route of microseconds


def test_run_passes_the_point_and_the_route_relation():
    """Property: predict and measure both see the point; an 'upper' route passes a measurement
    below the prediction and fails one above (a dict prediction too, key by key)."""
    result = _claim(lambda p: p["K"] + 0.5, predicted=lambda p: p["K"]).run("symbolic", {"K": 3})
    assert (result.predicted, result.measured) == (3, 3.5) and result.deviation == 0.125
    for wrap in (lambda v: v, lambda v: {"value": v}):  # a number, and a dict of one key
        below = _claim(lambda p, w=wrap: w(0.5), predicted=wrap(1.0), relation="upper")
        above = _claim(lambda p, w=wrap: w(1.5), predicted=wrap(1.0), relation="upper")
        assert below.run("symbolic", {"K": 2}).ok
        assert above.run("symbolic", {"K": 2}).deviation == 0.25


def test_run_records_a_crash_as_a_failure():
    """Property: a route that raises is a failed check with an infinite deviation and the
    exception named, never an exception out of ``run`` (nor a pass)."""

    def crash(point):
        raise ZeroDivisionError("division by zero")

    result = _claim(crash).run("symbolic", {"K": 3})
    assert not result.ok and result.deviation == math.inf
    assert result.error == "ZeroDivisionError: division by zero"
    assert result.measured is None and result.predicted is None


def test_deviation_relations_on_hand_computed_cases():
    """Property: 'equal' is max |m - p| / (1 + |p|) over entries; 'upper' counts only m above p
    and 'lower' only m below; a non-finite measurement is infinitely far for every relation; a
    dict compares the common keys and takes the worst."""
    assert claim_deviation(3.0, 1.0) == 1.0
    assert claim_deviation(np.array([1.0, 4.0]), np.array([1.0, 1.0])) == 1.5
    assert claim_deviation(3.0, 1.0, "upper") == 1.0
    assert claim_deviation(-1.0, 1.0, "upper") == 0.0
    assert claim_deviation(-1.0, 1.0, "lower") == 1.0
    assert claim_deviation(3.0, 1.0, "lower") == 0.0
    assert claim_deviation(np.array([0.0, 5.0]), np.array([1.0, 1.0]), "upper") == 2.0
    for relation in ("equal", "upper", "lower"):
        assert claim_deviation(math.inf, 1.0, relation) == math.inf
        assert claim_deviation(math.nan, 1.0, relation) == math.inf
    measured = {"a": 3.0, "b": 1.0, "only_measured": 100.0}
    assert claim_deviation(measured, {"a": 1.0, "b": 1.0, "only_predicted": 0.0}) == 1.0
    assert claim_deviation({"a": 1.0}, {"a": 1.0, "b": 7.0}) == 0.0
    assert claim_deviation({"a": 0.5}, {"a": 1.0}, "upper") == 0.0
    assert claim_deviation({"a": 3.0}, {"a": 1.0}, "lower") == 0.0
    # an empty measurement (nothing to compare) deviates by nothing, for every relation
    for relation in ("equal", "upper", "lower"):
        assert claim_deviation(np.array([]), np.array([]), relation) == 0.0
    # a list of sympy numbers is an array like any other
    assert claim_deviation([sp.Integer(3), sp.Integer(1)], [1.0, 1.0], "upper") == 1.0
    assert claim_deviation([3.0, 1.0], [sp.Integer(1), sp.Integer(1)], "upper") == 1.0


def test_deviation_of_sympy_values():
    """Property: sympy against sympy is compared exactly for 'equal' (a matrix entrywise); for an
    inequality, and for sympy against a float, the values are evaluated to 17 digits."""
    half, tiny = sp.Rational(1, 2), sp.Rational(1, 10**30)
    assert claim_deviation(sp.Matrix([[1, half]]), sp.Matrix([[1, half + tiny]])) == math.inf
    assert claim_deviation(sp.Matrix([[1, half]]), sp.Matrix([[1, half]])) == 0.0
    assert claim_deviation(sp.sqrt(2), sp.Integer(1), "upper") == pytest.approx((2**0.5 - 1) / 2)
    assert claim_deviation(sp.Matrix([[3, 1]]), np.array([[1.0, 1.0]])) == 1.0
    assert claim_deviation(np.array([[3.0, 1.0]]), sp.Matrix([[1, 1]]), "upper") == 1.0


def test_deviation_refuses_incomparable_values():
    """Property: a dict prediction with a non-dict measurement, no common key, or arrays of
    different shapes are refused (never compared by broadcasting); a scalar against an array is
    compared entrywise."""
    with pytest.raises(InvalidParameter, match="^a dict prediction needs a dict measurement$"):
        claim_deviation(1.0, {"a": 1.0})
    with pytest.raises(InvalidParameter, match=r"measured \['b'\], none of the predicted \['a'\]"):
        claim_deviation({"b": 1.0}, {"a": 1.0})
    with pytest.raises(InvalidParameter, match=r"shape \(2,\) does not match predicted shape"):
        claim_deviation(np.zeros(2), np.zeros(3))
    assert claim_deviation(2.0, np.array([1.0, 3.0])) == 0.5
    assert claim_deviation(np.array([1.0, 3.0]), 1.0) == 1.0


def test_route_and_claim_declarations_are_validated():
    """Property: an unknown route kind or relation, a negative or non-finite tolerance, a claim
    without routes are refused by name; 'lower' and a key tolerance equal to the route's are
    valid."""
    with pytest.raises(InvalidParameter, match="^route kind must be one of .*got 'numeric'$"):
        Route("numeric", lambda p: 0.0, 0.0)
    with pytest.raises(InvalidParameter, match="^relation must be 'equal', 'upper' or 'lower'"):
        Route("symbolic", lambda p: 0.0, 0.0, relation="less")
    for tolerance in (-0.1, math.inf):
        with pytest.raises(InvalidParameter, match="^tolerance must be finite and >= 0"):
            Route("symbolic", lambda p: 0.0, tolerance)
    with pytest.raises(InvalidParameter, match="^claim 'x' needs at least one route$"):
        Claim("x", "c", "s", Domain({}), lambda p: 0.0, {})
    with pytest.raises(InvalidParameter, match="^a domain with regimes needs regime_of"):
        Domain({}, regime_of=lambda p: "a")
    assert Route("symbolic", lambda p: 0.0, 0.0, relation="lower").relation == "lower"
    assert Route("convex", lambda p: 0.0, 1e-3, key_tolerances={"value": 1e-3}).key_tolerances


def test_key_tolerances_scale_only_their_keys():
    """Property: with key tolerances, a key without its own tolerance keeps its deviation, the
    route's relation applies to every key, and sympy keys are still compared exactly."""
    route = Route("convex", lambda p: 0.0, 1e-3, key_tolerances={"objective": 1e-6})
    assert route.deviation({"objective": 0.0, "G": 5e-4}, {"objective": 0.0, "G": 0.0}) == 5e-4
    upper = Route("convex", lambda p: 0.0, 1e-3, relation="upper", key_tolerances={"v": 1e-6})
    assert upper.deviation({"v": -1.0, "G": -1.0}, {"v": 0.0, "G": 0.0}) == 0.0
    x = sp.Symbol("x")
    assert route.deviation({"objective": 0.0, "x": x}, {"objective": 0.0, "x": x}) == 0.0


def test_domain_sampling_rounds_and_fast_caps():
    """Property: a domain tries at most 1000 draws before refusing, and a fast draw applies each
    range's fast cap."""
    calls = []
    never = Domain({"K": IntRange(2, 3)}, where=lambda p: calls.append(p) and False)
    with pytest.raises(InvalidParameter, match="could not sample"):
        never.sample(np.random.default_rng(0), False)
    assert len(calls) == 1000
    capped = Domain({"K": IntRange(2, 9, fast_hi=2)})
    rng = np.random.default_rng(0)
    assert {capped.sample(rng, True)["K"] for _ in range(50)} == {2}


def test_check_rows_summarize_points_and_serialize():
    """Property: a row has the route's point count, worst deviation and tolerance, is ok iff every
    point is, keeps exactly the failing points, and serializes an infinite deviation as null."""
    # measured K against predicted 3: deviation |K - 3| / 4, zero only at K = 3
    claim = _claim(lambda p: float(p["K"]), predicted=3.0, tolerance=0.1)
    (row,) = check(claims=[claim], points=20, seed=1)
    assert row.points == 20 and row.tolerance == 0.1 and row.route == "symbolic"
    assert row.claim == "test.claim" and row.citation == "test citation"
    assert row.worst_deviation == 0.25 and not row.ok and row.verdict == "FAIL"
    assert row.failures and all(f.point["K"] != 3 and not f.ok for f in row.failures)
    assert 0 <= row.seconds < 10  # 20 constant routes
    data = row.to_dict()
    assert data["seconds"] == row.seconds
    assert {k: v for k, v in data.items() if k not in ("seconds", "failures")} == {
        "claim": "test.claim",
        "citation": "test citation",
        "route": "symbolic",
        "points": 20,
        "worst_deviation": 0.25,
        "tolerance": 0.1,
        "verdict": "FAIL",
    }
    assert {f["deviation"] for f in data["failures"]} == {0.25}
    assert [f["point"] for f in data["failures"]] == [f.point for f in row.failures]

    passing = _claim(lambda p: 1.0)
    (row,) = check(claims=[passing], points=3)
    assert row.ok and row.verdict == "pass" and row.failures == () and row.worst_deviation == 0
    assert row.to_dict()["failures"] == []

    def crash(point):
        raise RuntimeError("boom")

    (row,) = check(claims=[_claim(crash)], points=2)
    data = row.to_dict()
    assert data["worst_deviation"] is None
    assert [f["error"] for f in data["failures"]] == ["RuntimeError: boom"] * 2
    assert [f["deviation"] for f in data["failures"]] == [None, None]


def test_check_validates_seed_and_points():
    """Property: a negative seed or fewer than one point is refused, naming the argument; one
    point is valid."""
    claim = _claim(lambda p: 1.0)
    with pytest.raises(InvalidParameter, match="^seed must be an integer >= 0, got -1$"):
        check(claims=[claim], seed=-1)
    with pytest.raises(InvalidParameter, match="^points must be an integer >= 1, got 0$"):
        check(claims=[claim], points=0)
    assert check(claims=[claim], points=1)[0].points == 1


def _points(**kwargs) -> list[dict]:
    seen = []
    check(progress=seen.append, **kwargs)
    return [r.point for r in seen]


def test_check_selects_from_the_registry_with_defaults(monkeypatch):
    """Property: with no selection ``check`` runs every registered claim, ``claim_ids`` only those
    named; the default is a full run (DEFAULT_POINTS points per route) at seed 0; the points
    depend on the seed and on the claim id; an empty registry is refused."""
    from ufm.claims import _registry

    a = _claim(lambda p: 1.0)
    b = _claim(lambda p: 1.0, claim_id="test.other")
    monkeypatch.setattr(_registry, "_REGISTRY", {a.id: a, b.id: b})
    rows = check()
    assert [r.claim for r in rows] == ["test.claim", "test.other"]
    assert all(r.points == DEFAULT_POINTS for r in rows)
    assert [r.claim for r in check(["test.other"])] == ["test.other"]
    assert check(["test.other"], fast=True)[0].points == 1  # the route's fast_points
    assert _points(claim_ids=["test.claim"]) == _points(claim_ids=["test.claim"], seed=0)
    assert _points(claim_ids=["test.claim"]) != _points(claim_ids=["test.claim"], seed=1)
    assert _points(claim_ids=["test.claim"]) != _points(claim_ids=["test.other"])
    monkeypatch.setattr(_registry, "_REGISTRY", {})
    with pytest.raises(InvalidParameter, match="^no claims selected$"):
        check()


def test_check_reports_progress_for_every_point():
    """Property: ``progress`` receives every RouteResult, one per point and route, in order."""
    seen = []
    claim = _claim(lambda p: float(p["K"]), predicted=3.0, tolerance=1.0)
    (row,) = check(claims=[claim], points=4, seed=2, progress=seen.append)
    assert len(seen) == 4 and all(r.claim == "test.claim" for r in seen)
    assert max(r.deviation for r in seen) == row.worst_deviation


def _two_route_claim(max_points=None, fast_points=1, regimes=()) -> Claim:
    regime_of = (lambda p: ("low", "high")[p["K"] > 3]) if regimes else None
    domain = Domain(
        {"K": IntRange(2, 5)}, description="K in 2..5", regimes=regimes, regime_of=regime_of
    )
    routes = {
        "symbolic": Route("symbolic", lambda p: 0.0, 1.0, fast_points=fast_points),
        "convex": Route("convex", lambda p: 0.0, 1.0, max_points=max_points, fast_points=2),
    }
    return Claim("test.plan", "c", "s", domain, lambda p: 0.0, routes)


def test_sampling_plan_counts():
    """Property: a full run gives each route DEFAULT_POINTS points (5) capped by its max_points, a
    fast run its fast_points; an explicit ``points`` overrides both modes (still capped in a full
    run); the routes share the points drawn for the claim."""
    claim = _two_route_claim(max_points=3, fast_points=4)
    counts = {k: len(v) for k, v in sampling_plan(claim).items()}
    assert counts == {"symbolic": 5, "convex": 3}
    counts = {k: len(v) for k, v in sampling_plan(claim, fast=True).items()}
    assert counts == {"symbolic": 4, "convex": 2}
    counts = {k: len(v) for k, v in sampling_plan(claim, points=7).items()}
    assert counts == {"symbolic": 7, "convex": 3}
    counts = {k: len(v) for k, v in sampling_plan(claim, fast=True, points=7).items()}
    assert counts == {"symbolic": 7, "convex": 7}
    plan = sampling_plan(claim, seed=4)
    assert sampling_plan(claim) == sampling_plan(claim, seed=0)
    assert plan["convex"] == plan["symbolic"][:3]
    assert sampling_plan(claim, seed=4) == plan and sampling_plan(claim, seed=5) != plan


def test_sampling_plan_spreads_regimes_over_routes():
    """Property: with R = 2 regimes and 2 routes (s = ceil(R / routes) = 1), point i is of regime
    i mod 2 and route j starts at point j: in a fast run each route has one point, the two of
    different regimes; a full run has at least 2s points per route."""
    claim = _two_route_claim(regimes=("low", "high"))
    fast = sampling_plan(claim, fast=True, seed=0)
    assert [claim.domain.regime_of(p) for p in fast["symbolic"]] == ["low"]
    assert [claim.domain.regime_of(p) for p in fast["convex"]] == ["high", "low"]
    full = sampling_plan(claim, seed=0)
    assert [claim.domain.regime_of(p) for p in full["symbolic"]] == ["low", "high"] * 2 + ["low"]
    assert full["convex"] == full["symbolic"][1:] + [full["convex"][-1]]


def test_sampling_plan_widens_to_the_regimes():
    """Property: one route and R = 3 regimes (s = 3): a fast run draws 3 points (every regime
    once), a full run 6 (each twice), an explicit ``points`` is not widened; fast points respect
    the domain's fast caps."""
    regime_of = lambda p: ("two", "three", "big")[min(p["K"], 4) - 2]  # noqa: E731
    claim = Claim(
        "test.three",
        "c",
        "s",
        Domain(
            {"K": IntRange(2, 6, fast_hi=4)}, regimes=("two", "three", "big"), regime_of=regime_of
        ),  # fmt: skip
        lambda p: 0.0,
        {"symbolic": Route("symbolic", lambda p: 0.0, 1.0)},
    )
    fast = sampling_plan(claim, fast=True)["symbolic"]
    assert [regime_of(p) for p in fast] == ["two", "three", "big"]
    assert all(p["K"] <= 4 for p in fast)
    full = sampling_plan(claim)["symbolic"]
    assert [regime_of(p) for p in full] == ["two", "three", "big"] * 2
    assert len(sampling_plan(claim, points=1)["symbolic"]) == 1
