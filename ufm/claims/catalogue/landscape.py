"""Family ``landscape``: the benign landscape of the regularized UFM and its strict saddles."""

from __future__ import annotations

import functools
import math

from ... import tolerances as tol
from ...problem import Problem
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from .._registry import register
from . import ce, mse
from ._common import lambdas, ufm_problem
from ._minimizer import away_from_thresholds, ufm_domain

# --------------------------------------------------------------------------------------------------
# Benign landscape: gradient descent from random starts reaches the global optimum

_BENIGN_SEEDS = 3


def _benign_problem(point) -> Problem:
    return ufm_problem(point, point["loss"], point["bias"])


def _benign_theorem(point) -> dict:
    theorem = ce.theorem if point["loss"] == "ce" else mse.theorem
    return theorem(point, point["bias"])


def _benign_runs(point):
    """The descent runs of a point, shared by both routes (each point's runs are computed once)."""
    return _benign_runs_cached(tuple(sorted(point.items())))


@functools.lru_cache(maxsize=8)
def _benign_runs_cached(key):
    from ...dynamics import descend_to_stationary

    point = dict(key)
    p = _benign_problem(point)
    return p, [
        descend_to_stationary(p, seed=point["seed"] + i, init_scale=(1.0, 1e-3, 3.0)[i % 3])
        for i in range(_BENIGN_SEEDS)
    ]


def _benign_dynamic(point):
    _, runs = _benign_runs(point)
    f_star = _benign_theorem(point)["objective"]
    return {"worst_gap": max((float(r.objective[-1]) - f_star) / (1 + abs(f_star)) for r in runs)}


def _benign_convex(point):
    from ...relaxations import gap, nuclear_relaxation

    p, runs = _benign_runs(point)
    cert = nuclear_relaxation(p)
    worst = max(gap((r.W, r.H, r.b if p.has_bias else None), p, cert) for r in runs)
    return {"worst_gap": worst / (1 + abs(cert.objective))}


def _benign_domain() -> Domain:
    base = ufm_domain("ce", ("regularized", "free"), -1)

    def derive(p):
        # d >= K for the bias-free MSE (orthogonal frame), d >= K - 1 otherwise
        p = {
            **p,
            "bias": {"ce": p["bias"], "mse": ("none", "free")[p["bias"] == "free"]}[p["loss"]],
        }
        offset = 0 if p["bias"] == "none" else -1
        return {"bias": p["bias"], "d": p["K"] + offset + p["extra_d"], **lambdas(p)}

    return Domain(
        {**base.params, "loss": Choice(("ce", "mse"))},
        derive=derive,
        where=away_from_thresholds,
        description="balanced classes; CE (bias regularized/free, d >= K-1) or "
        "MSE (no bias, d >= K; free bias, d >= K-1); kappa outside [0.8, 1.2]",
        regimes=("ce, collapsed", "ce, zero", "mse, collapsed", "mse, zero"),
        regime_of=lambda p: f"{p['loss']}, {'zero' if p['kappa'] >= 1 else 'collapsed'}",
    )


register(
    Claim(
        id="landscape.benign",
        citation="Zhu et al. 2021 (landscape); Zhou et al. 2022",
        statement="Gradient descent from random initializations (three scales) reaches the global "
        "optimum of the regularized UFM: no spurious local minima.",
        domain=_benign_domain(),
        predict=lambda point: {"worst_gap": 0.0},
        routes={
            "convex": Route(
                "convex",
                _benign_convex,
                tol.CONVEX_CLARABEL,
                relation="upper",
                max_points=3,
                description="gap of every run to the nuclear-norm certificate",
            ),
            "dynamic": Route(
                "dynamic",
                _benign_dynamic,
                tol.DESCENT_OBJECTIVE,
                relation="upper",
                max_points=3,
                description="gap of every run to the closed-form optimum value",
            ),
        },
        proof="proofs/strict_saddle.py",
    )
)

# --------------------------------------------------------------------------------------------------
# Strict saddles


def _saddle_problem(point) -> Problem:
    bias = {"ce": point["bias"], "mse": ("none", "free")[point["bias"] == "free"]}[point["loss"]]
    return ufm_problem(point, point["loss"], bias)


def _saddle_predict(point):
    r"""Strict saddles below the threshold (kappa < 1).

    The origin has the smallest Hessian eigenvalue

        lambda_min = (lambda_W + lambda_H)/2 - sqrt(((lambda_W - lambda_H)/2)^2 + 1/(K^2 n)) < 0,

    and every constructed non-global critical point is a strict saddle from which gradient descent
    escapes.
    """
    lW, lH = point["lambda_W"], point["lambda_H"]
    lam = (lW + lH) / 2 - math.sqrt(((lW - lH) / 2) ** 2 + 1 / (point["K"] ** 2 * point["n"]))
    return {"origin_lambda_min": lam, "strict_saddle_fraction": 1.0, "escape_fraction": 1.0}


def _saddle_symbolic(point):
    from ...landscape import origin_spectrum

    return {"origin_lambda_min": float(origin_spectrum(_saddle_problem(point)).min())}


def _saddle_dynamic(point):
    from ...dynamics import gradient_descent
    from ...landscape import classify_critical_point, critical_points
    from ...objectives import objective

    p = _saddle_problem(point)
    points = critical_points(p)
    saddles = escapes = 0
    origin_min = None
    for name, W, H, b in points:
        report = classify_critical_point(p, W, H, b)
        saddles += report.verdict == "strict saddle"
        if name == "origin":
            origin_min = report.lambda_min
        D = report.direction
        # without a bias (MSE's 'none' mode) the direction has no b part and descent takes none
        start = (W + 1e-3 * D.W, H + 1e-3 * D.H, None if D.b is None else b + 1e-3 * D.b)
        end = gradient_descent(p, steps=2000, lr=0.05, init=start)
        escapes += float(end.objective[-1]) < objective(p, W, H, b) - tol.NEGATIVE_CURVATURE
    out = {
        "strict_saddle_fraction": saddles / len(points),
        "escape_fraction": escapes / len(points),
    }
    if origin_min is not None:
        out["origin_lambda_min"] = origin_min
    return out


register(
    Claim(
        id="landscape.strict-saddle",
        citation="Zhu et al. 2021 (CE); Zhou et al. 2022 (MSE); spectra derived here",
        statement="Below the threshold, every non-global critical point of the regularized UFM "
        "(the origin, rank-deficient sub-frames) has a direction of negative curvature, and "
        "gradient descent started next to it escapes.",
        domain=Domain(
            {
                "K": IntRange(2, 5, fast_hi=3),
                "extra_d": IntRange(1, 3),
                "n": IntRange(1, 4),
                "kappa": LogRange(0.05, 0.8),
                "ratio": LogRange(0.2, 5.0),
                "loss": Choice(("ce", "mse")),
                "bias": Choice(("regularized", "free")),
                "lambda_b": LogRange(1e-3, 1e-1),
            },
            derive=lambda p: {"d": p["K"] + p["extra_d"], **lambdas(p)},
            description="balanced classes, d > K, kappa < 0.8",
            regimes=("ce", "mse"),
            regime_of=lambda p: p["loss"],
        ),
        predict=_saddle_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _saddle_symbolic,
                tol.CLOSED_FORM,
                description="closed-form Hessian spectrum at the origin "
                "(proofs/strict_saddle.py derives it in sympy)",
            ),
            "dynamic": Route(
                "dynamic",
                _saddle_dynamic,
                tol.NEGATIVE_CURVATURE,
                max_points=3,
                description="numeric Hessian eigenpairs at each critical point, then "
                "gradient descent from a step along the escape direction",
            ),
        },
        proof="proofs/strict_saddle.py",
    )
)
