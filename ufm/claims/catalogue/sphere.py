"""Family ``sphere``: normalized features and classifiers (unit spheres, temperature tau)."""

from __future__ import annotations

import math

import numpy as np

from ...metrics import class_means, gram_invariants
from .._core import Claim, Domain, IntRange, LogRange
from .._registry import register
from ._common import etf_unit_gram, sphere_routes


def _predict(point):
    K, tau = point["K"], point["tau"]
    value = math.log(1 + (K - 1) * math.exp(-K / ((K - 1) * tau)))
    G = etf_unit_gram(K)
    return {"objective": value, "lower_bound": value, "WWt": G, "MtM": G, "WM": G}


def _symbolic(point):
    from ...spherical import normalized_ce_optimum

    return normalized_ce_optimum(point["K"], point["tau"])


def _convex(point):
    from ...relaxations import normalized_ce_sdp

    K = point["K"]
    X = normalized_ce_sdp(K, point["tau"])
    return {
        "lower_bound": X.lower_bound,
        "WWt": X.gram[:K, :K],
        "MtM": X.gram[K:, K:],
        "WM": X.gram[:K, K:],
    }


def _dynamic(point):
    from ...dynamics import normalized_ce_descent
    from ...problem import Problem

    K = point["K"]
    problem = Problem(
        loss="ce", K=K, d=point["d"], n=point["n"], model="sphere",
        model_params={"tau": point["tau"]},
    )  # fmt: skip
    run = normalized_ce_descent(problem, seed=point["seed"])
    W, H = np.ascontiguousarray(run.X[:, :K].T), run.X[:, K:]
    return {"objective": run.objective, **gram_invariants(W, class_means(H, problem.labels, K)[0])}


register(
    Claim(
        id="sphere.normalized-ce",
        citation="Yaras, Wang, Zhu, Balzano & Qu 2022 (NeurIPS); value derived here, consistent "
        "with Lu & Steinerberger 2020 and Graf et al. 2021",
        statement="With unit classifier rows, unit features, temperature tau and balanced "
        "classes (d >= K-1), the cross-entropy is minimized by a simplex ETF with h_{k,i} = w_k, "
        "at value log(1 + (K-1) exp(-K/((K-1) tau))).",
        domain=Domain(
            {
                "K": IntRange(2, 6, fast_hi=4),
                "n": IntRange(1, 3),
                "tau": LogRange(0.5, 4.0),
                "extra_d": IntRange(0, 2),
                "seed": IntRange(0, 10_000),
            },
            derive=lambda p: {"d": max(p["K"] - 1 + p["extra_d"], 2)},
            description="balanced classes, d >= max(K - 1, 2), temperature tau in [0.5, 4]",
        ),
        predict=_predict,
        routes=sphere_routes(
            _symbolic,
            _convex,
            _dynamic,
            describe={
                "symbolic": "sympy: CE of the exact ETF, and the Jensen/Cauchy-Schwarz lower "
                "bound (ufm.spherical.normalized_ce_optimum)",
                "convex": "SDP over the Gram of (W, M) with unit diagonal: certified lower "
                "bound (dual objective) and its argmin, Clarabel",
                "dynamic": "Riemannian gradient descent on the product of spheres from a random "
                "start (ufm.dynamics.normalized_ce_descent)",
            },
        ),
        proof="proofs/sphere_normalized_ce.py",
    )
)
