"""The builder of the global-minimizer claims, shared by the CE and MSE families.

A minimizer claim states, for balanced classes, the minimal value of the regularized UFM and its
minimizer up to rotation: the Gram invariants W W^T, M^T M, W M
(:func:`ufm.metrics.gram_invariants`) and the bias. It is checked on three routes: the sympy
closed form (:mod:`ufm.minimizers`), the nuclear-norm certificate (:mod:`ufm.relaxations`) and
gradient descent run until stationary (:func:`ufm.dynamics.descend_to_stationary`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ... import tolerances as tol
from ...losses import loss_class
from ...metrics import class_means, gram_invariants
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from .._registry import register
from ._common import lambdas, ufm_problem


def _with_bias(out: dict, loss: str, b: np.ndarray) -> dict:
    """Add the bias a theorem fixes: a softmax loss is invariant under b -> b + c 1, so for it only
    b - mean(b) (``b_centred``)."""
    if loss_class(loss).link == "softmax":
        out["b_centred"] = b - b.mean()
    else:
        out["b"] = b
    return out


def _minimizer_symbolic(loss, bias):
    def measure(point):
        from ...minimizers import global_minimizer
        from ...objectives import gradient

        p = ufm_problem(point, loss, bias)
        cf = global_minimizer(p)
        g = gradient(p, cf.W, cf.H, cf.b if p.has_bias else None)
        out = {
            "objective": cf.objective,
            **gram_invariants(cf.W, cf.M),
            "gradient_norm": math.sqrt(sum(float(np.sum(x * x)) for x in g)),
        }
        return _with_bias(out, loss, cf.b)

    return measure


def _minimizer_convex(loss, bias):
    def measure(point):
        from ...relaxations import nuclear_relaxation

        cert = nuclear_relaxation(ufm_problem(point, loss, bias))
        out = {"objective": cert.objective, **gram_invariants(cert.W, cert.M)}
        return _with_bias(out, loss, cert.b)

    return measure


def _minimizer_dynamic(loss, bias):
    def measure(point):
        from ...dynamics import descend_to_stationary

        p = ufm_problem(point, loss, bias)
        r = descend_to_stationary(p, seed=point["seed"])
        M, _ = class_means(r.H, p.labels, p.K)
        out = {"objective": float(r.objective[-1]), **gram_invariants(r.W, M)}
        return _with_bias(out, loss, r.b)

    return measure


def away_from_thresholds(p) -> bool:
    """True if the point is away from the thresholds between minimizer regimes.

    That is, kappa + alpha is outside [0.8, 1.2] (alpha the label smoothing of ``ce-ls``, 0 for the
    other losses: the zero solution takes over at kappa = 1 - alpha) and, for the regularized-bias
    MSE, kappa is 20% away from lambda_b/(1+lambda_b).
    """
    c = p["lambda_b"] / (1 + p["lambda_b"])
    return abs(p["kappa"] + p.get("smoothing", 0.0) - 1.0) > 0.2 and not (
        p.get("loss", "mse") == "mse"
        and p["bias"] == "regularized"
        and abs(p["kappa"] / c - 1) < 0.2
    )


#: How the claims sample each loss parameter (by name, as in :mod:`ufm.losses`).
LOSS_PARAMETER_RANGES = {"smoothing": LogRange(0.02, 0.8)}


def ufm_domain(loss: str, bias_choices: tuple, d_min_offset: int) -> Domain:
    """Balanced UFMs with d >= K + d_min_offset, sampled by kappa and lambda_W/lambda_H, and the
    loss's own parameters (:data:`LOSS_PARAMETER_RANGES`).

    Regimes (sampled in turn by :func:`ufm.claims.check`): collapsed or zero minimizer, for each
    bias mode; for the regularized-bias MSE the collapsed side splits at kappa = lambda_b/(1 +
    lambda_b) into a minimizer with a zero (``J = 0``) and a positive all-ones component.
    """
    softmax = loss_class(loss).link == "softmax"
    split = loss == "mse" and "regularized" in bias_choices
    kinds = ("zero", "collapsed, J = 0", "collapsed, J > 0") if split else ("zero", "collapsed")
    params = {
        "K": IntRange(2, 8, fast_hi=4),
        "extra_d": IntRange(0, 3),
        "n": IntRange(1, 10, fast_hi=4),
        "kappa": LogRange(0.05, 3.0),
        "ratio": LogRange(0.2, 5.0),
        "bias": Choice(bias_choices),
        "lambda_b": LogRange(1e-3, 1e-1) if softmax else LogRange(1e-2, 1e2),
        "seed": IntRange(0, 10**6),
        **{name: LOSS_PARAMETER_RANGES[name] for name in loss_class(loss).parameters},
    }
    return Domain(
        params,
        derive=lambda p: {"d": p["K"] + d_min_offset + p["extra_d"], **lambdas(p)},
        # a band around the threshold kappa = 1 is left out: there the minimizer is degenerate and
        # gradient descent converges sublinearly; the proofs verify the threshold itself exactly
        where=lambda p: away_from_thresholds({"loss": loss, **p}),
        description=f"balanced classes, d >= K{d_min_offset:+d}, "
        + (
            "alpha + kappa outside [0.8, 1.2]"
            if "smoothing" in loss_class(loss).parameters
            else "kappa = K sqrt(n lambda_W lambda_H) outside [0.8, 1.2]"
        )
        + (" and 20% away from lambda_b/(1+lambda_b)" if loss == "mse" else ""),
        regimes=tuple(f"{kind}, bias {bias}" for kind in kinds for bias in bias_choices),
        regime_of=lambda p: f"{_minimizer_regime(p, split)}, bias {p['bias']}",
    )


def _minimizer_regime(p: dict, split: bool) -> str:
    """Zero iff kappa + alpha >= 1; the regularized-bias MSE's J part is zero iff kappa >= c."""
    if p["kappa"] + p.get("smoothing", 0.0) >= 1:
        return "zero"
    if not split:
        return "collapsed"
    c = p["lambda_b"] / (1 + p["lambda_b"])
    return "collapsed, J = 0" if p["kappa"] >= c else "collapsed, J > 0"


def register_minimizer(
    claim_id: str,
    citation: str,
    statement: str,
    loss: str,
    bias: str,
    d_min_offset: int,
    theorem: Callable[[dict, str], dict],
    proof: str,
) -> Claim:
    """Register the minimizer claim of ``theorem(point, bias)`` with its three routes.

    ``bias`` is one bias mode, or ``'any'`` for both ``'regularized'`` and ``'free'``.
    """
    biases = ("regularized", "free") if bias == "any" else (bias,)
    routes = {}
    # the optimal value is compared to the method's value accuracy (solver gap; descent run to a
    # vanishing gradient), the argmin's Grams to its first-order accuracy (sqrt(gap); distance)
    for kind, factory, tolerance, value_tolerance, cap in (
        ("symbolic", _minimizer_symbolic, tol.CLOSED_FORM, None, None),
        ("convex", _minimizer_convex, tol.CONVEX_ARGMIN, tol.CONVEX_CLARABEL, 3),
        ("dynamic", _minimizer_dynamic, tol.DESCENT_GRAM, tol.DESCENT_OBJECTIVE, 3),
    ):

        def measure(point, factory=factory):
            return factory(loss, point["bias"])(point)

        routes[kind] = Route(
            kind, measure, tolerance, max_points=cap,
            key_tolerances=None if value_tolerance is None else {"objective": value_tolerance},
        )  # fmt: skip
    return register(
        Claim(
            id=claim_id,
            citation=citation,
            statement=statement,
            domain=ufm_domain(loss, biases, d_min_offset),
            predict=lambda point: {**theorem(point, point["bias"]), "gradient_norm": 0.0},
            routes=routes,
            proof=proof,
        )
    )
