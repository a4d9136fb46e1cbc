"""ce.label-smoothing-imbalanced: regimes, planted false variants, the proof's refusal, the library.

The claim: in the label-smoothed CE UFM with two class sizes the minority collapses iff
sqrt(lambda_W lambda_H) >= (1 - alpha) sqrt(n_B)/N and W = H = 0 iff it is >= (1 - alpha)
sigma_max(Yhat)/N. Its routes' measurements come from the session fixture ``catalogue_results``
(no recomputation); the fast plan visits every regime with non-trivial points; the CE constants
(no factor 1 - alpha) are rejected by every route (descent where they flip a verdict); the
proof script refuses a wrong constant; the library functions behind the routes agree with each
other on their own.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from ufm.claims import get_claim
from ufm.claims._check import sampling_plan
from ufm.claims.catalogue import _ls_imbalanced
from ufm.errors import InvalidParameter
from ufm.minimizers import ce_minority_threshold_value, ce_zero_threshold_value

CLAIM_ID = "ce.label-smoothing-imbalanced"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "proofs"))
import ce_label_smoothing_imbalanced as proof  # noqa: E402


def test_fast_plan_visits_every_regime_with_nontrivial_points():
    """Property: in --fast every route visits 'apart', 'minority collapsed' and 'zero'; the
    prediction there is (apart, nonzero), (collapsed, nonzero), (collapsed, zero); a collapsed
    point lies strictly between the thresholds (minority merged, majority apart, not zero)."""
    claim = get_claim(CLAIM_ID)
    expected = {"apart": (0.0, 0.0), "minority collapsed": (1.0, 0.0), "zero": (1.0, 1.0)}
    for points in sampling_plan(claim, fast=True, seed=0).values():
        assert {p["regime"] for p in points} == set(expected)
        for p in points:
            pred = claim.predict(p)
            assert (pred["minority_collapsed"], pred["zero"]) == expected[p["regime"]]
            mu_B, mu_0 = (
                math.exp(pred["log_minority_threshold"]),
                math.exp(pred["log_zero_threshold"]),
            )
            assert mu_0 > 1.1 * mu_B and p["n_A"] >= 3 * p["n_B"]


def _ce_constants(point: dict) -> dict:
    """The prediction without the factor 1 - alpha: the CE thresholds of the same sizes (the
    claim at alpha = 0, at the same mu)."""
    return get_claim(CLAIM_ID).predict({**point, "smoothing": 0.0})


def test_the_ce_constants_are_caught_by_the_threshold_routes(catalogue_results):
    """Property: the thresholds stated without the factor 1 - alpha fail the symbolic and convex
    routes at every session point (they measure both thresholds); the true prediction passes."""
    claim = get_claim(CLAIM_ID)
    rows = [r for r in catalogue_results if r.claim == CLAIM_ID and r.route != "dynamic"]
    assert {r.route for r in rows} == {"symbolic", "convex"}
    for r in rows:
        route = claim.routes[r.route]
        assert route.deviation(r.measured, r.predicted) <= route.tolerance
        assert route.deviation(r.measured, _ce_constants(r.point)) > route.tolerance, r.route


@pytest.mark.parametrize("regime", ["minority collapsed", "zero"])
def test_the_ce_constants_are_caught_by_descent_where_they_flip_a_verdict(regime):
    """Property: at alpha = 1/2 and mu just above a threshold (1.15 mu_B, 1.25 mu_0), below the CE
    threshold (twice as large), descent's verdict matches the claim and rejects the CE constants."""
    claim = get_claim(CLAIM_ID)
    point = {
        "K_A": 2, "K_B": 2, "n_B": 1, "imbalance": 4, "bias": "free", "ratio": 1.5,
        "smoothing": 0.5, "regime": regime, "position": 0, "seed": 5,
    }  # fmt: skip
    point.update(_ls_imbalanced.sample(point))
    truth, false = claim.predict(point), _ce_constants(point)
    key = "minority_collapsed" if regime == "minority collapsed" else "zero"
    assert truth[key] == 1.0 and false[key] == 0.0
    route = claim.routes["dynamic"]
    measured = route.measure(point)
    assert route.deviation(measured, truth) <= route.tolerance
    assert route.deviation(measured, false) > route.tolerance


@pytest.mark.parametrize(
    "shrink",
    [sp.Integer(1), 1 - proof.alpha / 2, 1 - proof.alpha + proof.alpha / proof.K_],
    ids=["ce-constant", "half-alpha", "own-target"],
)
def test_the_proof_refuses_a_wrong_constant(shrink, capsys):
    """Property: the proof's steps with a wrong factor in place of 1 - alpha (CE's 1, 1 - alpha/2,
    the own-class target 1 - alpha + alpha/K) fail, in both halves of the theorem."""
    for steps in (proof.zero_steps, proof.minority_steps):
        with pytest.raises(SystemExit, match="failed"):
            steps(shrink)
    assert "FAILED" in capsys.readouterr().out


def test_exact_thresholds():
    """Property: the sympy thresholds are the closed forms, exactly: (1 - alpha) sqrt(n_B)/N,
    and for K_A >= 2 (1 - alpha) sqrt(n_A)/N with either bias; alpha = 0 is the CE threshold."""
    half = sp.Rational(1, 2)
    assert ce_minority_threshold_value(2, 6, 2, 2, half) == sp.sqrt(2) / 32
    assert ce_minority_threshold_value(2, 6, 2, 2, 0) == ce_minority_threshold_value(2, 6, 2, 2)
    for bias in ("none", "free"):
        assert ce_zero_threshold_value((6, 6, 2, 2), bias, half) == sp.sqrt(6) / 32
    assert ce_zero_threshold_value((3, 3, 3), "free", sp.Rational(1, 4)) == sp.sqrt(3) / 12


@pytest.mark.parametrize("smoothing", [-0.1, 1.0, float("nan"), sp.Integer(2)])
def test_bad_smoothing_is_refused(smoothing):
    with pytest.raises(InvalidParameter, match="smoothing"):
        ce_minority_threshold_value(2, 6, 2, 2, smoothing)
    with pytest.raises(InvalidParameter, match="smoothing"):
        ce_zero_threshold_value((6, 2, 2), "none", smoothing)


def test_zero_threshold_refuses_a_square_loss_and_matches_sympy():
    """Property: the convex zero certificate agrees with the exact value (free bias, solved by
    Clarabel at CLARABEL_EPS: the bias error is O(eps), 1e-7 leaves a margin), and refuses MSE."""
    from ufm import Problem
    from ufm.relaxations._ce_minority import two_group_problem, zero_threshold

    p = two_group_problem(1, 3, 3, 1, 1.0, bias="free", smoothing=0.2)
    exact = float(ce_zero_threshold_value((3, 1, 1, 1), "free", 0.2))
    assert abs(zero_threshold(p) - exact) <= 1e-7 * exact
    mse = Problem(loss="mse", K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias="none")
    with pytest.raises(InvalidParameter, match="softmax loss"):
        zero_threshold(mse)


@pytest.mark.parametrize(
    "mu, rank, collapsed", [(0.03, 3, False), (0.07, 2, True), (0.12, 0, True)],
    ids=["apart", "minority-collapsed", "zero"],
)  # fmt: skip
def test_cli_relax_nuclear_with_smoothing_and_class_sizes(mu, rank, collapsed, capsys):
    """Property: ``ufm relax nuclear --loss ce-ls --smoothing 0.5 --class-sizes 4,4,1,1`` (where
    ``ufm minimizer`` sends imbalanced ce-ls) shows the claim's three regimes: mu_B = 0.05 and
    mu_0 = 0.1 (half the CE thresholds); at the zero solution the value is log K exactly (the
    smoothed loss at zero logits), up to the certificate's tolerance."""
    from ufm.cli import main
    from ufm.tolerances import CONVEX_ARGMIN, CONVEX_CLARABEL

    argv = ["relax", "nuclear", "--loss", "ce-ls", "--smoothing", "0.5", "--class-sizes",
            "4,4,1,1", "--bias", "none", "--d", "3", "--lambda-w", str(mu), "--lambda-h", str(mu),
            "--json"]  # fmt: skip
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0 and out["exact"] and out["rank"] == rank
    Z = np.asarray(out["Z"])
    assert (np.linalg.norm(Z[:, 2] - Z[:, 3]) <= CONVEX_ARGMIN) == collapsed
    if rank == 0:
        assert abs(out["objective"] - math.log(4)) <= CONVEX_CLARABEL * (1 + math.log(4))
