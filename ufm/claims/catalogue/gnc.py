r"""Family ``gnc``: generalized neural collapse, K > d + 1 (softmax codes).

``gnc.softmax-code``: the largest minimal one-versus-rest margin of K unit classifiers in R^d,

.. math:: m^\star(K, d) = \max_{\|w_k\| = 1}\ \min_k\ \operatorname{dist}\big(w_k,
          \operatorname{conv}\{w_j : j\ne k\}\big),

is K/(K-1) for K <= d + 1 (simplex ETF), 1 - cos(2 pi/K) for d = 2 (regular K-gon) and 1 for
K = 2d (cross-polytope). The prediction is written here literally; the routes certify the margin of
the predicted code exactly (sympy, :func:`ufm.codes.exact_margin`), by the QP
(:func:`ufm.codes.one_vs_rest_margins`), and that no better code exists in the search of
:func:`ufm.codes.max_min_margin_ascent` (which reaches the value from random starts).
"""

from __future__ import annotations

import sympy as sp

from ... import tolerances as tol
from .._core import Choice, Claim, Domain, IntRange, Route
from .._registry import register

#: The codes of the claim: the case and its (K, d) from the size parameter s.
CASES = ("simplex", "polygon", "cross-polytope")


def _dims(point: dict) -> dict:
    s = point["s"]
    K, d = {"simplex": (s + 1, s), "polygon": (s + 2, 2), "cross-polytope": (2 * s, s)}[
        point["case"]
    ]
    return {"K": K, "d": d}


def _predict(point):
    K = sp.Integer(point["K"])
    if point["case"] == "simplex":
        return {"margin": K / (K - 1)}
    if point["case"] == "polygon":
        return {"margin": 1 - sp.cos(2 * sp.pi / K)}
    return {"margin": sp.Integer(1)}


def _code(point, exact: bool):
    """The predicted code (K x d rows) and the face of the hull nearest to w_0."""
    from ...codes import cross_polytope, polygon
    from ...geometry import simplex_etf

    K, d = point["K"], point["d"]
    if point["case"] == "simplex":
        return simplex_etf(K, d, exact=exact).T, tuple(range(1, K))
    if point["case"] == "polygon":
        return polygon(K, exact=exact), (1, K - 1)
    return cross_polytope(d, exact=exact), (2, 3)


def _symbolic(point):
    from ...codes import exact_margin

    # The symmetry group of each code acts transitively on its rows and maps the hull of the others
    # to itself, so every class has the margin of class 0.
    W, face = _code(point, exact=True)
    return {"margin": exact_margin(W, 0, face)}


def _convex(point):
    from ...codes import one_vs_rest_margins

    return {"margin": one_vs_rest_margins(_code(point, exact=False)[0]).margin}


def _dynamic(point):
    from ...codes import max_min_margin_ascent

    return {"margin": max_min_margin_ascent(point["K"], point["d"], seed=point["seed"]).margin}


register(
    Claim(
        id="gnc.softmax-code",
        citation="derived here; consistent with Jiang, Zhou, Wang, Balzano, Zhu & Qu 2023 "
        "(generalized neural collapse, softmax codes) and Alcala et al. 2026 (orthoplex regime)",
        statement="The largest minimal one-versus-rest margin min_k dist(w_k, conv{w_j}_{j!=k}) of "
        "K unit vectors in R^d is K/(K-1) for K <= d+1 (simplex ETF), 1 - cos(2 pi/K) for d = 2 "
        "(regular K-gon) and 1 for K = 2d (cross-polytope).",
        domain=Domain(
            {
                "case": Choice(CASES),
                "s": IntRange(2, 5, fast_hi=3),
                "seed": IntRange(0, 10**6),
            },
            derive=_dims,
            description="simplex: d = 2..5, K = d + 1; polygon: d = 2, K = 4..7; "
            "cross-polytope: d = 2..5, K = 2d",
        ),
        predict=_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _symbolic,
                tol.EXACT,
                fast_points=2,
                description="exact margin of the predicted code: nearest face by KKT, certified "
                "by the separating direction (sympy)",
            ),
            "convex": Route(
                "convex",
                _convex,
                tol.CONVEX_CLARABEL,
                max_points=4,
                description="one QP (Clarabel) for the distance of each row to the hull of the "
                "others, at the predicted code",
            ),
            "dynamic": Route(
                "dynamic",
                _dynamic,
                tol.SOFTMAX_CODE_ASCENT,
                max_points=4,
                description="Riemannian ascent on the smoothed minimal margin (tau annealed to "
                "1e-4), best of 4 random starts",
            ),
        },
        proof="proofs/softmax_code.py",
    )
)
