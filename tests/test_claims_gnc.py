"""The softmax-code claim: a planted false constant is caught by every route; the library refuses
bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from ufm.claims import check, get_claim
from ufm.codes import cross_polytope, one_vs_rest_margins, polygon
from ufm.errors import InvalidParameter


def _false_code_claim():
    """The K-gon's margin stated as 1 - cos(pi/K) (half the angle), the others 5% too large."""
    true = get_claim("gnc.softmax-code")

    def predict(point):
        if point["case"] == "polygon":
            return {"margin": 1 - sp.cos(sp.pi / point["K"])}
        return {"margin": true.predict(point)["margin"] * sp.Rational(21, 20)}

    return dataclasses.replace(true, id="false.softmax-code", predict=predict)


def test_a_false_margin_is_caught_by_every_route():
    """Property: a wrong constant in the margin fails every route at every point."""
    results = []
    rows = check(claims=[_false_code_claim()], fast=True, points=3, seed=0,
                 progress=results.append)  # fmt: skip
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    assert results and all(not r.ok and r.error is None for r in results)


def test_qp_margins_of_the_codes():
    """Property: the QP's bracket [lower, upper] contains the exact margin 1 of every row of the
    square (K = 4 gon: 1 - cos(pi/2)) and of the octahedron (cross-polytope, d = 3), and is
    narrow (solver accuracy, CONVEX_CLARABEL)."""
    for W in (polygon(4), cross_polytope(3)):
        r = one_vs_rest_margins(W)
        assert np.all(r.lower <= 1.0 + 1e-12) and np.all(r.upper >= 1.0 - 1e-12)
        assert np.all(r.upper - r.lower <= 1e-6)


def test_bad_input_is_refused():
    """Property: too few vertices and a non-matrix classifier are refused by name."""
    with pytest.raises(InvalidParameter):
        polygon(2)
    with pytest.raises(InvalidParameter):
        one_vs_rest_margins(np.ones(3))
