"""mse.central-path: the least-squares classifier's loss, the closed form, the renormalized descent.

Routes pass at several seeds, every regime is visited with non-trivial points, a planted false
variant is caught in every regime by every route, and the library pieces agree with each other
(imbalanced classes included), keep their invariants and reject bad input.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ufm import tolerances as tol
from ufm.claims import check, get_claim
from ufm.claims._check import sampling_plan
from ufm.claims.catalogue import _central
from ufm.dynamics import central_path_descent, central_path_trace
from ufm.errors import AccuracyWarning, InvalidParameter
from ufm.metrics import feature_metrics
from ufm.minimizers import central_path_loss, least_squares_classifier
from ufm.relaxations import least_squares_program

CLAIM = "mse.central-path"


@pytest.mark.parametrize("seed", [2, 3])
def test_routes_pass_at_several_seeds(seed):
    """Property: every route passes at the fast points of further seeds."""
    for row in check([CLAIM], fast=True, seed=seed):
        assert row.ok, (row.route, [(f.point, f.deviation, f.error) for f in row.failures])


def test_fast_run_visits_every_regime_with_nontrivial_points():
    """Property: the --fast plan visits all four regimes; at every point the start is not yet on
    the limit (value above it by > 1e-3), NC1 is predicted (0) except at lambda = 0 with d >= K,
    and the start has within-class spread (its NC1 is positive)."""
    claim = get_claim(CLAIM)
    points = [p for pts in sampling_plan(claim, fast=True, seed=0).values() for p in pts]
    assert {claim.domain.regime_of(p) for p in points} == set(claim.domain.regimes)
    for p in points:
        pred = claim.predict(p)
        assert float(pred["value"]) > float(pred["limit"]) + 1e-3
        assert ("nc1" in pred) == (claim.domain.regime_of(p) != "ridgeless-wide")
        labels = np.repeat(np.arange(p["K"]), p["n"])
        assert feature_metrics(p["H0"], labels)["nc1"] > 1e-3


def _wrong_constant(point, pred):
    """(1/2K)[K - tr(...)] instead of [K - 1 - tr(...)] (the rank of Sigma_B miscounted), in the
    start value and in the limit."""
    shift = 1 / (2 * point["K"])
    return {**pred, "value": pred["value"] + shift, "limit": pred["limit"] + shift}


@pytest.mark.parametrize("regime", _central.REGIMES)
def test_planted_false_variant_is_caught_in_every_regime(regime):
    """Property: the false variant fails every route at a point of each regime, while the true
    claim passes there."""
    claim = get_claim(CLAIM)
    point = claim.domain.sample(np.random.default_rng(7), fast=True, regime=regime)
    false = dataclasses.replace(
        claim, id=CLAIM + ".false", predict=lambda p: _wrong_constant(p, claim.predict(p))
    )
    for route in claim.routes:
        assert claim.run(route, point).ok, (route, point)
        assert not false.run(route, point).ok, (route, point)


@pytest.mark.parametrize(
    ("sizes", "d", "lam"),
    [((2, 1, 3), 3, 0.0), ((2, 1, 3), 2, 0.375), ((4, 2), 5, 0.1), ((3, 3, 3), 7, 0.0)],
)
def test_closed_form_matches_the_solves_for_any_class_sizes(sizes, d, lam):
    """Property: the imbalanced closed form equals the float and the exact least-squares solves
    (FLOAT) and the cvxpy program (CONVEX_CLARABEL), singular Sigma_T (d > N - 1) included."""
    H = np.random.default_rng(d).integers(-4, 5, (d, sum(sizes))) / 2
    value = central_path_loss(H, sizes, lam)
    exact = float(least_squares_classifier(H, sizes, lam, exact=True)[2])
    assert tol.relative_deviation(value, exact) <= tol.FLOAT
    assert tol.relative_deviation(least_squares_classifier(H, sizes, lam)[2], exact) <= tol.FLOAT
    assert tol.relative_deviation(least_squares_program(H, sizes, lam), exact) <= (
        tol.CONVEX_CLARABEL
    )


def test_descent_keeps_its_invariants_and_decreases_the_loss():
    """Property: the renormalized descent keeps tr Sigma_T and the global mean, never raises the
    loss (beyond rounding), and ends with tr((Sigma_T + lambda I)^+ Sigma_B) at the bound
    r/(1 + lambda r/tau)."""
    rng = np.random.default_rng(5)
    H0 = rng.standard_normal((4, 9)) + 3.0
    run = central_path_descent(H0, (3, 3, 3), 0.3)
    Hc0 = H0 - H0.mean(axis=1, keepdims=True)
    assert tol.relative_deviation(run.tau, np.sum(Hc0**2) / 9) <= tol.FLOAT
    assert tol.relative_deviation(run.H.mean(axis=1), H0.mean(axis=1)) <= tol.FLOAT
    assert np.all(np.diff(run.objective) <= tol.FLOAT)
    bound = 2 / (1 + 0.3 * 2 / run.tau)
    assert tol.relative_deviation(run.trace, bound) <= tol.CENTRAL_PATH_DESCENT
    assert tol.relative_deviation(central_path_trace(run.H, (3, 3, 3), 0.3), run.trace) == 0


def test_bad_input_is_refused():
    """Property: wrong shapes, class sizes, lambda and constant features raise InvalidParameter."""
    H = np.ones((2, 4))
    with pytest.raises(InvalidParameter, match="N = sum"):
        central_path_loss(H, (2, 1), 0.0)
    with pytest.raises(InvalidParameter, match="K >= 2"):
        least_squares_classifier(H, (4,), 0.0)
    with pytest.raises(InvalidParameter, match="lambda_W"):
        least_squares_classifier(H, (2, 2), -0.1)
    with pytest.raises(InvalidParameter, match="all columns equal"):
        central_path_descent(H, (2, 2), 0.1)


def test_descent_warns_when_steps_run_out():
    """Property: stopping on the step budget, before the gradient is small, warns and names the
    remedy; the objective then has one entry per step taken plus the start."""
    H0 = np.random.default_rng(2).standard_normal((3, 6))
    with pytest.warns(AccuracyWarning, match="raise steps"):
        run = central_path_descent(H0, (2, 2, 2), 0.5, steps=3)
    assert run.steps == 3 and run.objective.shape == (4,)
