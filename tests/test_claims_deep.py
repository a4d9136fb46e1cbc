"""The deep linear claims: mse.deep-linear, mse.deep-linear-jump, landscape.deep-origin-minimum.

Routes pass at several seeds, every regime is visited with non-trivial points, a planted false
variant of each is caught in every regime by every route that measures it, the numba chain kernel
matches its numpy twin, and the exact minimizer is the best of several descents.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from ufm import Problem
from ufm import tolerances as tol
from ufm.claims import check, get_claim
from ufm.claims._check import sampling_plan
from ufm.claims.catalogue import _deep
from ufm.dynamics import chain_descend_to_stationary, chain_gradient_descent
from ufm.minimizers_deep import deep_linear_minimizer, singular_value_problem
from ufm.models import get_model

DEEP = ("mse.deep-linear", "mse.deep-linear-jump", "landscape.deep-origin-minimum")


@pytest.mark.parametrize("claim_id", DEEP)
@pytest.mark.parametrize("seed", [2, 3])
def test_routes_pass_at_several_seeds(claim_id, seed):
    """Property: every route of the deep claims passes at the fast points of further seeds."""
    for row in check([claim_id], fast=True, seed=seed):
        assert row.ok, (row.route, [(f.point, f.deviation, f.error) for f in row.failures])


@pytest.mark.parametrize("claim_id", DEEP)
def test_fast_run_visits_every_regime(claim_id):
    """Property: the --fast plan visits every declared regime, and the points are non-trivial:
    a 'collapsed' / 'below' point has positive logits, a 'zero' / 'above' one has none, and a
    'window' point has zero global but positive metastable logits."""
    claim = get_claim(claim_id)
    points = [p for pts in sampling_plan(claim, fast=True, seed=0).values() for p in pts]
    assert {claim.domain.regime_of(p) for p in points} == set(claim.domain.regimes)
    for p in points:
        if claim_id == "landscape.deep-origin-minimum":
            assert p["depth"] >= 2 and min(p["lambdas"]) > 0
            continue
        pred = claim.predict(p)
        regime = claim.domain.regime_of(p)
        if regime in ("collapsed", "below"):
            assert pred["s"][0] > 0.1
        if regime in ("zero", "above"):
            assert np.all(pred["s"] == 0)
        if regime == "window":
            assert np.all(pred["s"] == 0) and pred["s_local"][0] > 0.1


def _false(claim_id: str, wrong):
    """The claim with its prediction replaced by ``wrong(point, true_prediction)``."""
    claim = get_claim(claim_id)
    return dataclasses.replace(
        claim, id=claim_id + ".false", predict=lambda p: wrong(p, claim.predict(p))
    )


def _fa_criterion(point, pred):
    """Zero only where no positive stationary minimizer exists (a >= a_e): 'the largest real root
    of the stationarity equation, clipped at 0', wrong inside the window."""
    q = point["depth"] + 1
    _, sigma, _ = _deep.spectrum(point["class_sizes"], point["bias"])
    z_local = _deep.local_minimizer(point["a"], q)
    return {**pred, "s": sigma * z_local, "zero_global": float(z_local == 0)}


def _depth_one_law(point, pred):
    """The soft threshold of depth 1 (q = 2 instead of q = depth + 1)."""
    _, sigma, _ = _deep.spectrum(point["class_sizes"], point["bias"])
    z = [max(1 - a / 2, 0.0) for a in np.minimum(_deep.a_values(point), 1e300)]
    return {**pred, "s": np.sort(sigma * np.array(z))[::-1]}


def _missing_q(point, pred):
    """C = mu/2 instead of q mu/2 (a wrong constant): every a_i divided by q, positive logits in
    the 'zero' regime (2.4 a_e/q < a* for q = 3, 4)."""
    q = point["depth"] + 1
    _, sigma, _ = _deep.spectrum(point["class_sizes"], point["bias"])
    z = [_deep.scalar_law(a / q, q)[0] if np.isfinite(a) else 0.0 for a in _deep.a_values(point)]
    return {**pred, "s": np.sort(sigma * np.array(z))[::-1]}


def _strict_saddle(point, pred):
    """Depth 1's origin spectrum: lambda_min = min(lambda) - 1/(K sqrt n) < 0 (a saddle)."""
    return {
        **pred,
        "origin_lambda_min": min(point["lambdas"]) - 1 / (point["K"] * point["n"] ** 0.5),
    }


def _late_jump(point, pred):
    """The jump placed at 1.2 a_e instead of a*: predicts positive logits in the 'above' regime."""
    q = point["depth"] + 1
    _, sigma, _ = _deep.spectrum(point["class_sizes"], point["bias"])
    z = _deep.local_minimizer(point["a"] / 1.2, q)
    return {**pred, "s": sigma * z, "s_local": sigma * z, "zero_global": 0.0}


def _early_jump(point, pred):
    """The jump placed at 0.8 a*: predicts zero in the 'below' regime."""
    return {**pred, "s": 0 * pred["s"], "zero_global": 1.0}


FALSE = [
    ("mse.deep-linear", "collapsed", _depth_one_law, ("symbolic", "dynamic")),
    ("mse.deep-linear", "zero", _missing_q, ("symbolic", "dynamic")),
    ("mse.deep-linear-jump", "window", _fa_criterion, ("symbolic", "dynamic")),
    ("mse.deep-linear-jump", "above", _late_jump, ("symbolic", "dynamic")),
    ("mse.deep-linear-jump", "below", _early_jump, ("symbolic", "dynamic")),
    ("landscape.deep-origin-minimum", "mse, none", _strict_saddle, ("symbolic", "dynamic")),
    ("landscape.deep-origin-minimum", "mse, free", _strict_saddle, ("symbolic", "dynamic")),
    ("landscape.deep-origin-minimum", "ce, none", _strict_saddle, ("symbolic", "dynamic")),
]


@pytest.mark.parametrize(("claim_id", "regime", "wrong", "routes"), FALSE)
def test_planted_false_variant_is_caught_in_every_regime(claim_id, regime, wrong, routes):
    """Property: a planted false variant (depth 1's law, a missing factor q, the FA code's
    clipped-root criterion, a jump at the wrong place, depth 1's saddle) fails every route at a
    point of each regime, while the true claim passes there."""
    claim = get_claim(claim_id)
    point = claim.domain.sample(np.random.default_rng(7), fast=True, regime=regime)
    false = _false(claim_id, wrong)
    for route in routes:
        assert claim.run(route, point).ok, (route, point)
        result = false.run(route, point)
        assert not result.ok, (route, point, result.deviation)


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("bias", ["none", "free", "regularized"])
@pytest.mark.parametrize("depth", [2, 3])
def test_chain_kernel_gradient_equals_the_model_gradient(loss, bias, depth):
    """Property: one step of the numba chain kernel with lr = 1 moves every block by exactly
    the numpy twin's gradient (Model.gradient of 'deep-linear'): the same sums in another order,
    so the difference is rounding (KERNEL_TWIN)."""
    p = Problem(
        loss=loss, K=3, d=4, class_sizes=(2, 3, 1), lambda_H=0.03, bias=bias,
        lambda_b=0.02 if bias == "regularized" else None, model="deep-linear",
        model_params={"depth": depth, "lambdas": [0.05, 0.01, 0.2][:depth],
                      "widths": [5, 3][: depth - 1]},
    )  # fmt: skip
    model = get_model("deep-linear")
    start = model.initialize(p, seed=depth, init_scale=0.7)
    if p.has_bias:
        start["b"] = np.random.default_rng(1).standard_normal(p.K)
    moved = chain_gradient_descent(p, steps=1, lr=1.0, init=start).blocks
    grad = model.gradient(p, start)
    for name, g in grad.items():
        assert tol.relative_deviation(start[name] - moved[name], g) <= tol.KERNEL_TWIN, name


@pytest.mark.parametrize("sizes", [(2, 2, 2), (3, 1, 2)])
@pytest.mark.parametrize("bias", ["none", "free"])
def test_exact_minimizer_is_the_best_of_several_descents(sizes, bias):
    """Property: deep_linear_minimizer's value equals the best of four descents (large starts with
    different seeded perturbations) to DEEP_DESCENT, and no descent ends below it."""
    p = Problem(
        loss="mse", K=3, d=3, class_sizes=sizes, lambda_H=0.02, bias=bias, model="deep-linear",
        model_params={"depth": 2, "lambdas": [0.01, 0.03]},
    )  # fmt: skip
    best = deep_linear_minimizer(p).objective
    ends = [
        float(chain_descend_to_stationary(p, init=_deep.large_start(p, s)).objective[-1])
        for s in range(4)
    ]
    assert tol.relative_deviation(min(ends), best) <= tol.DEEP_DESCENT
    assert min(ends) >= best - tol.FLOAT * (1 + abs(best))


@pytest.mark.parametrize("q", [2, 3, 4])
def test_scalar_law_matches_the_exact_roots(q):
    """Property: the claims' own scalar law (brentq on phi') and singular_value_problem (exact
    roots of the stationarity polynomial) give the same global and metastable minimizers."""
    sigma, N = 1.7, 5
    t = _deep.thresholds(q)
    for a in np.linspace(0.05, 1.6 * t["a_e"], 37):
        C = a * sigma ** (2 - 2 / q) / (2 * N)
        sol = singular_value_problem(sigma, C, q, N)
        z_global, z_local = _deep.scalar_law(float(a), q)
        assert math.isclose(sol.s, sigma * z_global, rel_tol=1e-12, abs_tol=1e-12), a
        local = sol.local_minimizers[-1] if sol.local_minimizers else 0.0
        assert math.isclose(local, sigma * z_local, rel_tol=1e-12, abs_tol=1e-12), a
