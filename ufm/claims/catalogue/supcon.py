"""Family ``supcon``: the full-batch supervised contrastive loss on a sphere of radius rho."""

from __future__ import annotations

import math

import numpy as np

from .._core import Claim, Domain, IntRange, LogRange
from .._registry import register
from ._common import etf_unit_gram, sphere_routes


def _labels(point):
    return np.repeat(np.arange(point["K"]), point["n"])


def _predict(point):
    K, n, rho = point["K"], point["n"], point["rho"]
    value = math.log((n - 1) + n * (K - 1) * math.exp(-(rho**2) * K / (K - 1)))
    labels = _labels(point)
    # class collapse onto a radius-rho simplex ETF: the N x N Gram of the features
    gram = rho**2 * etf_unit_gram(K)[np.ix_(labels, labels)]
    return {"objective": value, "lower_bound": value, "gram": gram}


def _symbolic(point):
    from ...spherical import supcon_optimum

    return supcon_optimum(point["K"], point["n"], point["rho"])


def _convex(point):
    from ...relaxations import supcon_sdp

    G = supcon_sdp(_labels(point), point["rho"])
    return {"lower_bound": G.lower_bound, "gram": G.gram}


def _dynamic(point):
    from ...dynamics import supcon_descent

    run = supcon_descent(point["d"], _labels(point), point["rho"], seed=point["seed"])
    return {"objective": run.objective, "gram": run.X.T @ run.X}


register(
    Claim(
        id="supcon.simplex",
        citation="Graf, Hofer, Niethammer & Kwitt 2021 (ICML); value derived here, consistent "
        "with their class-collapse statement",
        statement="The full-batch supervised contrastive loss of K balanced classes of n >= 2 "
        "features on the sphere of radius rho (d >= K-1) is minimized exactly by class collapse "
        "onto a simplex ETF, at value log((n-1) + n(K-1) exp(-rho^2 K/(K-1))).",
        domain=Domain(
            {
                "K": IntRange(2, 5, fast_hi=3),
                "n": IntRange(2, 3),
                "rho": LogRange(0.5, 1.5),
                "extra_d": IntRange(0, 2),
                "seed": IntRange(0, 10_000),
            },
            derive=lambda p: {"d": max(p["K"] - 1 + p["extra_d"], 2)},
            description="K balanced classes of n >= 2 samples, d >= max(K - 1, 2), radius rho "
            "in [0.5, 1.5] (temperature 1/rho^2 on unit features)",
        ),
        predict=_predict,
        routes=sphere_routes(
            _symbolic,
            _convex,
            _dynamic,
            describe={
                "symbolic": "sympy: SupCon of the exact collapsed ETF, and the Jensen lower "
                "bound (ufm.spherical.supcon_optimum)",
                "convex": "exponential-cone SDP over the feature Gram with diagonal rho^2: "
                "certified lower bound and its argmin, Clarabel",
                "dynamic": "Riemannian gradient descent on the spheres from a random start "
                "(ufm.dynamics.supcon_descent)",
            },
        ),
        proof="proofs/supcon_simplex.py",
    )
)
