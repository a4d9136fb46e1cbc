"""The sphere and supcon claims: a planted false constant is caught by every route; the SupCon
loss's gradient is its derivative; the new public functions refuse bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ufm.claims import check, get_claim
from ufm.contrastive import supcon_loss
from ufm.dynamics import normalized_ce_descent, sphere_descent, supcon_descent
from ufm.errors import InvalidParameter
from ufm.models import get_model
from ufm.problem import Problem
from ufm.relaxations import normalized_ce_sdp, supcon_sdp
from ufm.spherical import normalized_ce_optimum, supcon_optimum
from ufm.tolerances import GRADIENT_FD


def _false(claim_id, value):
    """The claim with its predicted value (and bound) replaced by ``value(point)``."""
    true = get_claim(claim_id)

    def predict(point):
        v = value(point)
        return {**true.predict(point), "objective": v, "lower_bound": v}

    return dataclasses.replace(true, id=f"false.{claim_id}", predict=predict)


FALSE = {
    # K/((K-1) tau) with K + 1 in place of K in the exponent
    "sphere.normalized-ce": lambda p: math.log(
        1 + (p["K"] - 1) * math.exp(-(p["K"] + 1) / ((p["K"] - 1) * p["tau"]))
    ),
    # rho^2 K/(K-1) with K + 1 in place of K in the exponent
    "supcon.simplex": lambda p: math.log(
        p["n"]
        - 1
        + p["n"] * (p["K"] - 1) * math.exp(-(p["rho"] ** 2) * (p["K"] + 1) / (p["K"] - 1))
    ),
}


@pytest.mark.parametrize("claim_id", sorted(FALSE))
def test_a_false_constant_is_caught_by_every_route(claim_id):
    """Property: the value with K + 1 in place of K in the exponent fails on every route."""
    rows = check(claims=[_false(claim_id, FALSE[claim_id])], fast=True, points=2, seed=0)
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    for row in rows:
        assert not row.ok and row.failures
        assert all(f.error is None for f in row.failures), "caught by the comparison, not a crash"


@pytest.mark.parametrize("claim_id", sorted(FALSE))
def test_the_true_claims_pass_every_route(claim_id):
    """Property: the claims as stated pass symbolic, convex and dynamic routes at two points."""
    rows = check(claims=[get_claim(claim_id)], fast=True, points=2, seed=1)
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    assert all(r.ok for r in rows), [r.failures for r in rows if not r.ok]


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(2, 4), st.integers(2, 3), st.integers(1, 4), st.integers(0, 2**16))
def test_supcon_gradient_is_the_derivative(K, n, d, seed):
    """Property: <grad L, D> equals the central difference of L along Z + tD (L extended off the
    sphere by its Gram formula), to GRADIENT_FD."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(K), n)
    Z = rng.standard_normal((d, K * n))
    Z /= np.linalg.norm(Z, axis=0)
    D = rng.standard_normal(Z.shape)
    value, grad = supcon_loss(Z, labels, 1.0)

    def raw(Y):  # the loss's Gram formula, written out here (no radius check)
        G = Y.T @ Y
        total = np.log(np.sum(np.exp(G) * (1 - np.eye(len(labels))), axis=1))
        same = (labels[:, None] == labels[None, :]) & ~np.eye(len(labels), dtype=bool)
        return float(np.mean(total - np.sum(G * same, axis=1) / (n - 1)))

    h = 1e-6
    fd = (raw(Z + h * D) - raw(Z - h * D)) / (2 * h)
    assert abs(value - raw(Z)) <= GRADIENT_FD
    assert abs(np.sum(grad * D) - fd) <= GRADIENT_FD * (1 + abs(fd))


def test_the_relaxations_bound_every_feasible_point():
    """Property: the certified lower bounds do not exceed the losses of random feasible points."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 2)
    Z = rng.standard_normal((4, 6))
    Z *= 1.2 / np.linalg.norm(Z, axis=0)
    assert supcon_sdp(labels, 1.2).lower_bound <= supcon_loss(Z, labels, 1.2)[0]
    p = Problem(loss="ce", K=3, d=2, n=2, model="sphere", model_params={"tau": 0.7})
    model = get_model("sphere")
    value = model.objective(p, model.initialize(p, seed=3))
    assert normalized_ce_sdp(3, 0.7).lower_bound <= value


def test_bad_input_is_refused():
    """Property: bad radius, lonely samples, off-sphere starts and wrong models are refused with
    the argument's name."""
    with pytest.raises(InvalidParameter, match="rho"):
        supcon_loss(np.ones((1, 4)), [0, 0, 1, 1], -1.0)
    with pytest.raises(InvalidParameter, match=">= 2 samples"):
        supcon_loss(np.ones((1, 3)), [0, 0, 1], 1.0)
    with pytest.raises(InvalidParameter, match="norm rho"):
        supcon_loss(2 * np.ones((1, 4)), [0, 0, 1, 1], 1.0)
    with pytest.raises(InvalidParameter, match="one entry per column"):
        supcon_loss(np.ones((1, 6)), [0, 0, 1, 1], 1.0)
    with pytest.raises(InvalidParameter, match="X0"):
        sphere_descent(lambda X: (0.0, X), np.ones((2, 2)))
    with pytest.raises(InvalidParameter, match="model='sphere'"):
        normalized_ce_descent(
            Problem(loss="ce", K=2, d=2, n=1, lambda_W=0.1, lambda_H=0.1, bias="free")
        )
    with pytest.raises(InvalidParameter, match="tau"):
        normalized_ce_sdp(3, 0.0)
    with pytest.raises(InvalidParameter, match="class_sizes"):
        normalized_ce_sdp(3, 1.0, class_sizes=(1, 2))
    with pytest.raises(InvalidParameter, match=">= 2 samples"):
        supcon_sdp([0, 1, 1], 1.0)
    with pytest.raises(InvalidParameter, match="d must be"):
        supcon_descent(0, [0, 0, 1, 1], 1.0)
    with pytest.raises(InvalidParameter, match="n must be"):
        supcon_optimum(2, 1, 1.0)
    with pytest.raises(InvalidParameter, match="tau"):
        normalized_ce_optimum(2, -1)
