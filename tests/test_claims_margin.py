"""The max-margin claims: a planted false constant is caught by every route; the new public
functions refuse bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ufm.claims import check, get_claim
from ufm.dynamics import margin_descent, normalized_margin
from ufm.errors import InvalidParameter
from ufm.minimizers import max_margin_value
from ufm.problem import Problem


def _false_margin_claim():
    """The max-margin value stated with K in place of K - 1 (scaled by K/(K-1) for any sizes)."""
    true = get_claim("ce.implicit-max-margin")

    def predict(point):
        out = true.predict(point)
        K = len(point["class_sizes"])
        return {**out, "value": out["value"] * K / (K - 1)}

    return dataclasses.replace(true, id="false.max-margin-value", predict=predict)


def test_a_false_max_margin_value_is_caught_by_every_route():
    """Property: the value K sqrt(n) instead of (K-1) sqrt(n) fails on every route."""
    rows = check(claims=[_false_margin_claim()], fast=True, points=2, seed=0)
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    for row in rows:
        assert not row.ok and row.failures
        assert all(f.error is None for f in row.failures), "caught by the comparison, not a crash"


def test_normalized_margin_is_scale_invariant_and_bounded_by_the_max_margin_value():
    """Property: gamma(cW, cH) = gamma(W, H), and gamma <= 1/v* along descent."""
    p = Problem(loss="ce", K=3, d=3, class_sizes=(2, 1, 3), lambda_W=0.0, lambda_H=0.0, bias="none")
    run = margin_descent(p, seed=3)
    g = normalized_margin(run.W, run.H, p.labels)
    assert g == pytest.approx(normalized_margin(5 * run.W, 5 * run.H, p.labels), rel=1e-12)
    assert 0 < g <= 1 / max_margin_value((2, 1, 3))


def test_bad_input_is_refused():
    """Property: regularized / biased problems, W = H = 0 and bad class sizes are refused."""
    reg = Problem(loss="ce", K=2, d=2, n=1, lambda_W=1e-2, lambda_H=1e-2, bias="none")
    with pytest.raises(InvalidParameter, match="lambda_W = lambda_H = 0"):
        margin_descent(reg)
    with pytest.raises(InvalidParameter, match="W = H = 0"):
        normalized_margin(np.zeros((2, 2)), np.zeros((2, 2)), [0, 1])
    with pytest.raises(InvalidParameter, match="K >= 2"):
        max_margin_value((3,))
