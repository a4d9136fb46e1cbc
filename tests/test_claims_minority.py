"""ce.imbalanced-minority-threshold: routes, regimes, planted false variants and the library.

The claim: in the two-group CE UFM the minority classes collapse iff
sqrt(lambda_W lambda_H) >= sqrt(n_B)/N. Its routes pass at a further seed, the fast run visits both
regimes with non-trivial points, a threshold off by a constant factor is caught by every route in
the regime it mislabels (and by the routes that measure the threshold everywhere), and the library
functions behind the routes are checked on their own.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from ufm.claims import check, get_claim
from ufm.claims._check import sampling_plan
from ufm.claims.catalogue import _minority
from ufm.errors import InvalidParameter
from ufm.minimizers import ce_minority_threshold_value
from ufm.relaxations import ce_minority_threshold, nuclear_relaxation
from ufm.relaxations._ce_minority import minority_certificate, two_group_problem
from ufm.relaxations._layer_peeled import certified_bisection
from ufm.relaxations._solve import resolve_tolerance

CLAIM_ID = "ce.imbalanced-minority-threshold"


def test_routes_pass_at_another_seed():
    """Property: every route passes at the fast points of seed 3."""
    for row in check([CLAIM_ID], fast=True, seed=3):
        assert row.ok, (row.route, [(f.point, f.deviation, f.error) for f in row.failures])


def test_fast_run_visits_both_regimes_with_nontrivial_points():
    """Property: the --fast plan visits 'below' and 'above'; below mu* the prediction is apart,
    above it collapsed while mu stays under sqrt(n_A)/N (the majority is not forced together)."""
    claim = get_claim(CLAIM_ID)
    points = [p for pts in sampling_plan(claim, fast=True, seed=0).values() for p in pts]
    assert {claim.domain.regime_of(p) for p in points} == {"below", "above"}
    for p in points:
        N = p["K_A"] * p["n_A"] + p["K_B"] * p["n_B"]
        collapsed = claim.predict(p)["minority_collapsed"]
        assert p["n_A"] >= 3 * p["n_B"] and p["mu"] < math.sqrt(p["n_A"]) / N
        assert collapsed == (1.0 if p["regime"] == "above" else 0.0)


def _scaled(point: dict, factor: float) -> dict:
    """The prediction with the threshold sqrt(n_B)/N multiplied by ``factor``."""
    wrong = factor * _minority.threshold(point)
    return {"minority_collapsed": float(point["mu"] >= wrong), "log_threshold": math.log(wrong)}


@pytest.mark.parametrize("regime, factor", [("above", 2.0), ("below", 0.25)])
def test_planted_false_threshold_is_caught_by_every_route(regime, factor):
    """Property: a threshold off by a factor (2: 'sqrt(4 n_B)/N'; 1/4) is rejected by every route
    at a point of the regime it mislabels, while the true prediction passes there."""
    claim = get_claim(CLAIM_ID)
    rng = np.random.default_rng(7)
    point = claim.domain.sample(rng, fast=True, regime=regime)
    truth = claim.predict(point)
    false = _scaled(point, factor)
    assert false["minority_collapsed"] != truth["minority_collapsed"]
    for name, route in claim.routes.items():
        measured = route.measure(point)
        assert route.deviation(measured, truth) <= route.tolerance, name
        assert route.deviation(measured, false) > route.tolerance, name


def test_symbolic_threshold_is_exact():
    assert ce_minority_threshold_value(2, 6, 2, 2) == sp.sqrt(2) / 16
    assert ce_minority_threshold_value(3, 4, 2, 1) == sp.Rational(1, 14)
    assert ce_minority_threshold_value(1, 9, 3, 3) == sp.sqrt(3) / 18


@pytest.mark.parametrize(
    "args", [(1, 2, 1, 1), (1, 2, 2, 2), (1, 2, 2, 3), (0, 2, 2, 1), (1, 2.5, 2, 1)]
)
def test_bad_sizes_are_refused(args):
    with pytest.raises(InvalidParameter):
        ce_minority_threshold_value(*args)
    with pytest.raises(InvalidParameter):
        ce_minority_threshold(*args)


def test_certified_bracket_contains_the_threshold_with_regularized_bias():
    """Property: with a regularized bias and lambda_W != lambda_H the bracket still contains
    sqrt(n_B)/N, is certified at both ends and is as narrow as asked."""
    th = ce_minority_threshold(3, 4, 2, 1, bias="regularized", lambda_b=0.1, ratio=2.0, xtol=1e-4)
    lo, hi = th.bracket
    assert lo < 1 / 14 <= hi and th.accuracy <= 1e-4 * hi
    assert th.certificate[0] < -th.certificate_error and th.certificate[1] > th.certificate_error


def test_certificate_sign_matches_the_unrestricted_program():
    """Property: where psi < 0 the unrestricted optimum separates the minority columns, where
    psi > 0 it merges them (the certificate is read off the restricted program only)."""
    solver, tol = resolve_tolerance("clarabel", None)
    mu_star = math.sqrt(2) / 16
    for factor, apart in ((0.8, True), (1.2, False)):
        p = two_group_problem(2, 6, 2, 2, factor * mu_star, bias="free")
        psi, error = minority_certificate(p, solver, tol)
        assert (psi < -error) == apart and (psi > error) == (not apart)
        assert math.isclose(psi, factor * mu_star - mu_star, rel_tol=1e-9)
        spread = _minority.minority_spread(nuclear_relaxation(p).Z, 2)
        assert (spread > 1e-2) == apart


def test_certified_bisection_keeps_certified_ends():
    """Property: with an uncertain band around x* the bracket stops at the band and keeps
    lo < x* <= hi; without one it shrinks to xtol."""

    def sign(x, band=0.0):
        return 0 if abs(x - 0.3) <= band else (1 if x > 0.3 else -1)

    lo, hi = certified_bisection(sign, 0.0, 1.0, 1e-6)
    assert lo < 0.3 <= hi and hi - lo <= 2e-6
    lo, hi = certified_bisection(lambda x: sign(x, 0.01), 0.0, 1.0, 1e-6)
    assert lo < 0.3 <= hi and 0.02 <= hi - lo <= 0.08
