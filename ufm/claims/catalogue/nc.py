"""Family ``nc``: NC1-NC3 imply NC4 (the classifier is the nearest-class-mean rule)."""

from __future__ import annotations

import math

from ... import tolerances as tol
from ...problem import Problem
from .._core import Claim, Domain, IntRange, Route
from .._registry import register


def _nc4_symbolic(point):
    r"""The identity behind NC4 (derived here; consistent with Papyan et al. 2020, Sec. 'NC4').

    With w_j = c (mu_j - mu_G) and b_j = -c <mu_j - mu_G, mu_G>,

    (W h + b)_j - (W h + b)_k = (c/2)(||h - mu_k||^2 - ||h - mu_j||^2)
                                + (c/2)(||mu~_j||^2 - ||mu~_k||^2),

    so under equinorm (NC2) the classifier decision is the nearest class mean, for every h.
    """
    import sympy as sp

    d = point["d"]
    h, g, u, v = (sp.Matrix(sp.symbols(f"{name}0:{d}", real=True)) for name in "hguv")
    c = sp.Symbol("c", positive=True)

    def sq(x):
        return (x.T * x)[0]

    logit = lambda m: c * (m.T * h)[0] - c * (m.T * g)[0]  # noqa: E731
    lhs = logit(u) - logit(v)
    rhs = c / 2 * (sq(h - g - v) - sq(h - g - u)) + c / 2 * (sq(u) - sq(v))
    return {"ncc_identity": sp.expand(lhs - rhs)}


def _nc4_dynamic(point):
    from ...dynamics import descend_to_stationary
    from ...metrics import nc_metrics

    K = point["K"]
    kappa = 0.5
    p = Problem(
        loss="ce",
        K=K,
        d=point["d"],
        n=point["n"],
        lambda_W=kappa / K / math.sqrt(point["n"]),
        lambda_H=kappa / K / math.sqrt(point["n"]),
        lambda_b=1e-2,
        bias="regularized",
    )
    r = descend_to_stationary(p, seed=point["seed"])
    return {"nc4": nc_metrics(r.W, r.H, r.b, p.labels)["nc4"]}


register(
    Claim(
        id="nc.nc4-from-nc1-nc3",
        citation="Papyan et al. 2020 (NC4); identity derived here",
        statement="When the classifier is self-dual to equinorm centred class means (NC2, NC3), "
        "its decision equals the nearest class mean for every feature (NC4): the logit differences "
        "are differences of squared distances.",
        domain=Domain(
            {
                "K": IntRange(2, 8, fast_hi=4),
                "extra_d": IntRange(0, 3),
                "n": IntRange(1, 10, fast_hi=4),
                "seed": IntRange(0, 10**6),
            },
            derive=lambda p: {"d": p["K"] - 1 + p["extra_d"]},
            description="K >= 2, d >= K - 1; dynamics on a balanced CE UFM below the threshold",
        ),
        predict=lambda point: {"ncc_identity": _sympy_zero(), "nc4": 0.0},
        routes={
            "symbolic": Route(
                "symbolic",
                _nc4_symbolic,
                tol.EXACT,
                description="sympy: logit differences = squared-distance differences",
            ),
            "dynamic": Route(
                "dynamic",
                _nc4_dynamic,
                tol.EXACT,
                max_points=3,
                description="NC4 mismatch at the end of gradient descent",
            ),
        },
        proof="proofs/nc4_identity.py",
    )
)


def _sympy_zero():
    import sympy as sp

    return sp.Integer(0)
