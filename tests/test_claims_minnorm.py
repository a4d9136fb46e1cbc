"""The claim mse.min-norm-interpolant and its library pieces.

Routes pass at several seeds, every regime is visited with non-trivial points, planted false
variants are caught in every regime by every route, the balanced values are the literal
sqrt(n)(K-1) and sqrt(n) K, the SDP's sample Grams are collapsed, and the small-initialization
phase of the flow is the linear closed form exp(tA).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.linalg

from ufm import Problem
from ufm import tolerances as tol
from ufm.claims import check, get_claim
from ufm.claims._check import sampling_plan
from ufm.claims.catalogue import _minnorm
from ufm.claims.catalogue._common import yhat
from ufm.dynamics import gradient_flow, initialize
from ufm.errors import InvalidParameter
from ufm.minimizers import min_norm_interpolant
from ufm.relaxations import min_norm_interpolation

ID = "mse.min-norm-interpolant"


@pytest.mark.parametrize("seed", [2, 3])
def test_routes_pass_at_several_seeds(seed):
    """Property: every route passes at the fast points of further seeds."""
    for row in check([ID], fast=True, seed=seed):
        assert row.ok, (row.route, [(f.point, f.deviation, f.error) for f in row.failures])


def test_fast_run_visits_every_regime_with_nontrivial_points():
    """Property: the --fast plan visits the four regimes; balanced points have equal sizes and the
    literal values sqrt(n)(K-1) (free, a simplex ETF) or sqrt(n) K (none, sqrt(n) I), imbalanced
    points have two different sizes and b = n/N is not 1/K."""
    claim = get_claim(ID)
    points = [p for pts in sampling_plan(claim, fast=True, seed=0).values() for p in pts]
    assert {claim.domain.regime_of(p) for p in points} == set(claim.domain.regimes)
    for p in points:
        sizes, K = p["class_sizes"], p["K"]
        pred = claim.predict(p)
        if p["sizes"] == "balanced":
            n = sizes[0]
            assert len(set(sizes)) == 1
            if p["bias"] == "free":
                assert math.isclose(pred["objective"], math.sqrt(n) * (K - 1), rel_tol=1e-14)
                etf = math.sqrt(n) * (np.eye(K) - 1 / K)
                assert np.allclose(pred["WWt"], etf, atol=1e-14) and np.allclose(pred["b"], 1 / K)
            else:
                assert math.isclose(pred["objective"], math.sqrt(n) * K, rel_tol=1e-14)
                assert np.allclose(pred["WWt"], math.sqrt(n) * np.eye(K), atol=1e-14)
        else:
            assert len(set(sizes)) > 1
            if p["bias"] == "free":
                assert np.ptp(pred["b"]) > 0.1 / K


def _swapped_bias(point, pred):
    """The other bias mode's interpolant (sqrt(n) K instead of sqrt(n)(K - 1) when balanced)."""
    other = {**point, "bias": "none" if point["bias"] == "free" else "free"}
    return {k: v for k, v in _minnorm.predict(other).items() if k in pred}


def _uniform_bias(point, pred):
    """Mixon's balanced bias b = 1/K taken for any class sizes (logits I - 11^T/K)."""
    K = point["K"]
    return {**pred, "b": np.full(K, 1 / K), "WM": np.eye(K) - 1 / K}


def _squared_gram(point, pred):
    """W W^T = Yhat Yhat^T (no square root): n (I - 11^T/K) for balanced classes."""
    Y = yhat(point["class_sizes"], point["bias"])
    return {**pred, "WWt": Y @ Y.T, "objective": float(np.sum(Y * Y))}


FALSE = [(regime, _swapped_bias) for regime in _minnorm.REGIMES] + [
    ("imbalanced, bias free", _uniform_bias),
    ("imbalanced, bias none", _squared_gram),
    ("imbalanced, bias free", _squared_gram),
]


@pytest.mark.parametrize(("regime", "wrong"), FALSE)
def test_planted_false_variant_is_caught_by_every_route(regime, wrong):
    """Property: a planted false variant (the other bias mode's value and Grams; b = 1/K for
    imbalanced classes; W W^T without the square root) fails every route at a point of the
    regime (seed 7, the fast domain), while the true claim passes there."""
    claim = get_claim(ID)
    point = claim.domain.sample(np.random.default_rng(7), fast=True, regime=regime)
    if wrong is _squared_gram:  # n_k = 1 for all k would make the square root invisible
        assert max(point["class_sizes"]) > 1
    false = dataclasses.replace(
        claim, id=ID + ".false", predict=lambda p: wrong(p, claim.predict(p))
    )
    for route in claim.routes:
        assert claim.run(route, point).ok, (route, point)
        result = false.run(route, point)
        assert not result.ok and result.error is None, (route, point, result.deviation)


def test_literal_values_of_the_issue():
    """Property: K = 4, n = 3: 3 sqrt 3 = 5.19615242 (free bias) and 4 sqrt 3 = 6.92820323 (none),
    by the limit of the regularized minimizer and by the SDP (to its value accuracy)."""
    for bias, value in (("free", 3 * math.sqrt(3)), ("none", 4 * math.sqrt(3))):
        assert math.isclose(min_norm_interpolant((3,) * 4, bias).objective, value, rel_tol=1e-13)
        sdp = min_norm_interpolation((3,) * 4, bias)
        assert abs(sdp.objective - value) <= tol.CONVEX_CLARABEL * (1 + value)


def test_sdp_features_are_collapsed():
    """Property: the SDP, which does not assume collapse, returns H^T H constant on class blocks
    (= E M^T M E^T) and logits Z with equal columns within a class (to argmin accuracy)."""
    sizes = (3, 1, 2)
    r = min_norm_interpolation(sizes, "free")
    E = np.eye(3)[np.repeat(np.arange(3), sizes)]
    assert tol.relative_deviation(r.gram_H, E @ r.gram_M @ E.T) <= tol.CONVEX_ARGMIN
    assert tol.relative_deviation(r.Z, (np.eye(3) - np.outer(r.b, np.ones(3))) @ E.T) <= 1e-9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: min_norm_interpolant((3,), "free"), "K >= 2"),
        (lambda: min_norm_interpolant((3, 0), "free"), "class_sizes"),
        (lambda: min_norm_interpolant((3, 3), "regularized"), "bias"),
        (lambda: min_norm_interpolation((3, 3), "regularized"), "bias"),
        (lambda: min_norm_interpolation("33"), "sequence"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(InvalidParameter, match=message):
        call()


@pytest.mark.parametrize(("sizes", "bias"), [((2, 2, 2), "free"), ((3, 1, 2), "none")])
def test_small_initialization_phase_is_the_linear_closed_form(sizes, bias):
    """Property: from scale eps = 1e-6 with b(0) = n/N (free bias), the unregularized flow at
    t = 4 N/sigma_1 << N log(1/eps)/sigma_1 equals [W; H^T](t) = exp(tA)[W0; H0^T],
    A = [[0, Ytil/N], [Ytil^T/N, 0]], Ytil = Y - (n/N) 1^T (or Y), derived by linearizing at the
    origin (W H = O(eps^2), b stationary to O(eps^2)). The neglected cubic terms are relative
    O(|G(t)|^2) = O(eps^2 e^(8)) ~ 1e-9: 1e-7 leaves a factor 100."""
    K, N = len(sizes), sum(sizes)
    p = Problem(loss="mse", K=K, d=K, class_sizes=sizes, lambda_W=0.0, lambda_H=0.0, bias=bias)
    W0, H0, _ = initialize(p, seed=5, init_scale=1e-6)
    n = np.asarray(sizes, dtype=float)
    b0 = n / N if bias == "free" else np.zeros(K)
    Ytil = np.eye(K)[:, p.labels] - np.outer(b0, np.ones(N))
    A = np.block([[np.zeros((K, K)), Ytil / N], [Ytil.T / N, np.zeros((N, N))]])
    t = 4 * N / np.linalg.svd(Ytil, compute_uv=False)[0]
    G = scipy.linalg.expm(t * A) @ np.vstack([W0, H0.T])
    r = gradient_flow(p, time_horizon=t, init=(W0, H0, b0), rtol=1e-12, atol=1e-20, records=2)
    flow = np.vstack([r.W, r.H.T])
    assert np.linalg.norm(flow - G) <= 1e-7 * np.linalg.norm(G)
    # it grew (e^4 along the top direction, which holds part of the start): not trivial
    assert np.linalg.norm(G) > 10 * np.linalg.norm(np.vstack([W0, H0.T]))
