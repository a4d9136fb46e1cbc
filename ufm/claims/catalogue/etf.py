"""Family ``etf``: the identities of the simplex equiangular tight frame (NC2's geometry)."""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from ...metrics import class_means, gram_invariants
from ...problem import Problem
from .._core import Claim, Domain, IntRange, Route
from .._registry import register


def _etf_predict(point):
    import sympy as sp

    K = point["K"]
    return {
        "gram": sp.Rational(K, K - 1) * (sp.eye(K) - sp.ones(K, K) / K),
        "column_sum": sp.zeros(point["d"], 1),
        "rank": K - 1,
        "max_cosine": sp.Rational(-1, K - 1),
    }


def _etf_symbolic(point):
    import sympy as sp

    from ...geometry import frame_rank, gram, simplex_etf

    K = point["K"]
    M = simplex_etf(K, point["d"], exact=True)
    G = gram(M).applyfunc(sp.expand)  # rational for the Helmert frame: exact and fast
    return {
        "gram": G,
        "column_sum": (M * sp.ones(K, 1)).applyfunc(sp.expand),
        "rank": frame_rank(M),
        "max_cosine": max(G[i, j] for i in range(K) for j in range(K) if i != j),
    }


def _etf_convex(point):
    from ...relaxations import max_min_angle

    res = max_min_angle(point["K"])
    # eigenvalues of an interior-point solution below CONVEX_ARGMIN (its argmin accuracy) are zeros
    rank = int(np.linalg.matrix_rank(res.G, tol.CONVEX_ARGMIN))
    return {"gram": res.G, "max_cosine": res.t, "rank": rank}


def _etf_dynamic(point):
    from ...dynamics import descend_to_stationary

    K = point["K"]
    p = Problem(
        loss="ce",
        K=K,
        d=point["d"],
        n=2,
        lambda_W=0.5 / K / math.sqrt(2),
        lambda_H=0.5 / K / math.sqrt(2),
        lambda_b=1e-2,
        bias="regularized",
    )
    r = descend_to_stationary(p, seed=point["seed"])
    M, _ = class_means(r.H, p.labels, K)
    G = gram_invariants(r.W, M, normalize=True)["WWt"]
    return {"gram": G, "max_cosine": G[~np.eye(K, dtype=bool)].max()}


register(
    Claim(
        id="etf.identities",
        citation="Papyan et al. 2020 (def. of NC2); Strohmer & Heath 2003",
        statement="K unit vectors of a simplex ETF have Gram matrix K/(K-1)(I - 11^T/K): "
        "equal norms, pairwise cosines -1/(K-1) (the largest possible minimal angle), sum zero, "
        "rank K-1.",
        domain=Domain(
            {
                "K": IntRange(2, 30, fast_hi=6),
                "extra_d": IntRange(0, 3),
                "seed": IntRange(0, 10**6),
            },
            derive=lambda p: {"d": p["K"] - 1 + p["extra_d"]},
            description="K >= 2, d >= K - 1",
        ),
        predict=_etf_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _etf_symbolic,
                tol.EXACT,
                description="exact sympy frame: Gram, column sum, rank, cosines",
            ),
            "convex": Route(
                "convex",
                _etf_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="SDP max-min-angle: min t s.t. G PSD, diag G = 1, G_ij <= t",
            ),
            "dynamic": Route(
                "dynamic",
                _etf_dynamic,
                tol.DESCENT_GRAM,
                max_points=3,
                description="classifier rows after gradient descent on the CE UFM",
            ),
        },
        proof="proofs/etf.py",
    )
)
