"""Family ``landscape``: the benign landscape of the regularized UFM and its strict saddles; at
depth (q >= 3 factors) the origin is a strict local minimizer (``landscape.deep-origin-minimum``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import tolerances as tol
from ...problem import Problem
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from .._registry import register
from . import _deep, ce, mse
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


# --------------------------------------------------------------------------------------------------
# The origin of the deep linear UFM: a strict local minimizer (q = depth + 1 >= 3 factors)


def _origin_sample(point) -> dict:
    """d, the bias (none for CE: its free-bias direction is flat at 0) and per-factor decays
    log-uniform in [1e-3, 1], drawn from the seed."""
    L = point["depth"]
    rng = np.random.default_rng(point["seed"])
    lam = np.exp(rng.uniform(np.log(1e-3), 0.0, L + 1))
    return {
        "d": point["K"] + point["extra_d"],
        "class_sizes": (point["n"],) * point["K"],
        "bias": point["bias"] if point["loss"] == "mse" else "none",
        "lambdas": tuple(float(x) for x in lam[:-1]),
        "lambda_H": float(lam[-1]),
    }


def _origin_predict(point):
    r"""The origin is a strict local minimizer (q >= 3 factors).

    :math:`\nabla f(0) = 0` and :math:`\nabla^2 f(0) = \operatorname{blockdiag}(\lambda_LI, \dots,
    \lambda_1I, \lambda_HI)` (:math:`\oplus I` for the free MSE bias, at b = n/N): the logits
    :math:`W_L\cdots W_1H` are homogeneous of degree q >= 3 in the factors, so the data term adds
    nothing to second order. Hence ``origin_lambda_min`` = min of the decays (and 1),
    ``origin_gradient_norm`` = 0, and descent started close enough stays (``descent_stays`` = 1).
    Contrast: at depth 1 (``landscape.strict-saddle``) the logits W H are of degree 2, their cross
    term in the Hessian has the singular values of :math:`\nabla L(0)`, and the origin is a strict
    saddle iff :math:`\kappa < 1`.
    """
    decays = [*point["lambdas"], point["lambda_H"]]
    if point["loss"] == "mse" and point["bias"] == "free":
        decays.append(1.0)
    return {"origin_lambda_min": min(decays), "origin_gradient_norm": 0.0, "descent_stays": 1.0}


def _origin_symbolic(point):
    r"""Exact Taylor expansion in a scaling variable t (sympy).

    Along any direction the logits at :math:`t\theta` are :math:`b_0 + t\,\delta b + t^qP` with P
    the product of the direction's factors (degree-q homogeneity, ``proofs/deep_origin.py``).
    Per class, with generic symbols for P's column and :math:`\delta b`, the t and t^2
    coefficients of the data term give the gradient and the data Hessian at the origin; the
    penalties add :math:`\lambda_x` per factor. Reports the gradient's norm (the coefficients of
    the t term) and the smallest Hessian eigenvalue.
    """
    import sympy as sp

    q, K = point["depth"] + 1, point["K"]
    free = point["bias"] == "free"
    t = sp.Symbol("t")
    P = sp.symbols(f"p0:{K}", real=True)
    db = sp.symbols(f"db0:{K}", real=True) if free else (0,) * K
    b0 = sp.Rational(1, K) if free else 0  # n/N for balanced classes
    data = 0
    for k in range(K):
        z = [b0 + t * db[j] + t**q * P[j] for j in range(K)]
        if point["loss"] == "mse":
            term = sum((z[j] - int(j == k)) ** 2 for j in range(K)) / 2
        else:
            term = sp.log(sum(sp.exp(zj) for zj in z)) - z[k]
        data += term / K  # n samples of class k, each of weight 1/N: n/N = 1/K
    c1 = sp.expand(sp.diff(data, t).subs(t, 0))  # = grad f(0) . v
    c2 = sp.expand(sp.diff(data, t, 2).subs(t, 0))  # = v^T (data Hessian at 0) v
    variables = [*P, *(db if free else ())]
    gradient = [sp.diff(c1, v) for v in variables]
    hessian = sp.hessian(c2, variables) / 2
    # degree q >= 3: the P rows of the data Hessian vanish; only the bias block remains
    structural = hessian[:K, :].is_zero_matrix
    bias_eigs = [float(e) for e in hessian[K:, K:].eigenvals()] if free else []
    eigs = [*point["lambdas"], point["lambda_H"], *bias_eigs]
    return {
        "origin_gradient_norm": float(sp.sqrt(sum(g**2 for g in gradient))),
        "origin_lambda_min": min(eigs) if structural else -math.inf,
    }


#: Step of the central differences that tol.GRADIENT_FD is derived for.
_FD_STEP = 1e-6


def _fd_hessian(p: Problem, blocks: dict) -> np.ndarray:
    """Central differences of the model's gradient (step _FD_STEP), symmetrized."""
    from ...models import get_model

    model = get_model(p.model)
    names = list(blocks)
    shapes = [blocks[k].shape for k in names]
    x0 = np.concatenate([blocks[k].ravel() for k in names])
    ends = np.cumsum([0, *(int(np.prod(sh)) for sh in shapes)])

    def grad(x):
        parts = {
            k: x[a:b].reshape(sh)
            for k, a, b, sh in zip(names, ends, ends[1:], shapes, strict=False)
        }
        g = model.gradient(p, parts)
        return np.concatenate([g[k].ravel() for k in names])

    h = _FD_STEP
    columns = []
    for j in range(x0.size):
        e = np.zeros_like(x0)
        e[j] = h
        columns.append((grad(x0 + e) - grad(x0 - e)) / (2 * h))
    A = np.array(columns)
    return (A + A.T) / 2


def _origin_dynamic(point):
    r"""Finite-difference Hessian of the model's gradient at the origin (its smallest eigenvalue),
    the gradient there, and descent from radius :math:`r_0`.

    Basin (derived here, ``proofs/deep_origin.py``): the data term is convex in the logits with
    gradient of norm :math:`\le N^{-1/2}` at the origin, and :math:`\|W_L\cdots H\|_F \le
    (\|\theta\|^2/q)^{q/2}` (AM-GM), so :math:`f(\theta) - f(0) \ge \rho^2(\lambda_{\min}/2
    - c\rho^{q-2})`, :math:`c = N^{-1/2}q^{-q/2}`, :math:`\rho = \|\theta\|`: positive up to
    :math:`r = (\lambda_{\min}/(4c))^{1/(q-2)}` (there :math:`\ge\lambda_{\min}\rho^2/4`).
    Started at :math:`r_0 = 0.1r\sqrt{\lambda_{\min}/\lambda_{\max}}`, :math:`f - f(0) \le
    0.006\lambda_{\min}r^2`, so descent never leaves :math:`\rho \le 0.16r`, where
    :math:`\langle\nabla f, \theta\rangle \ge 0.8\lambda_{\min}\rho^2`: it ends at
    :math:`\rho \le 2\|\nabla f\|/\lambda_{\min}` with :math:`f \ge f(0)` (``descent_stays``).
    """
    from ...dynamics import chain_descend_to_stationary
    from ...models import get_model
    from ...objectives import objective

    p = _deep.deep_problem(point, point["loss"])
    origin = _deep.origin_blocks(p)
    g0 = get_model(p.model).gradient(p, origin)
    eigs = np.linalg.eigvalsh(_fd_hessian(p, origin))
    lam_min, lam_max = float(eigs[0]), float(eigs[-1])
    q = point["depth"] + 1
    c = p.N**-0.5 * q ** (-q / 2)
    r = (lam_min / (4 * c)) ** (1 / (q - 2))
    r0 = 0.1 * r * math.sqrt(lam_min / lam_max)
    rng = np.random.default_rng(point["seed"])
    step = {k: rng.standard_normal(v.shape) for k, v in origin.items()}
    scale = r0 / math.sqrt(sum(float(np.sum(v * v)) for v in step.values()))
    run = chain_descend_to_stationary(p, init={k: origin[k] + scale * step[k] for k in origin})
    rho = math.sqrt(sum(float(np.sum((run.blocks[k] - origin[k]) ** 2)) for k in origin))
    f0, f_end = objective(p, origin), float(run.objective[-1])
    stays = rho <= 2 * run.gradient_norm[-1] / lam_min and f_end >= f0 - tol.FLOAT * (1 + abs(f0))
    return {
        "origin_lambda_min": lam_min,
        "origin_gradient_norm": math.sqrt(sum(float(np.sum(v * v)) for v in g0.values())),
        "descent_stays": float(stays),
    }


register(
    Claim(
        id="landscape.deep-origin-minimum",
        citation="Ziyin, Li & Meng 2022 (abstract: weight decay creates bad minima at zero with "
        "more than one hidden layer); Hessian and basin derived here (proofs/deep_origin.py)",
        statement="For the deep linear UFM with q = depth + 1 >= 3 factors (ufm depth >= 2) and "
        "every decay > 0 the origin (a free MSE bias at n/N) is a strict local minimizer: "
        "gradient 0 and Hessian blockdiag(lambda_L I, ..., lambda_1 I, lambda_H I) (+ I for the "
        "free MSE bias), unlike the strict saddle at depth 1; descent started within "
        "0.1 r sqrt(lambda_min/lambda_max), r = (lambda_min/(4c))^(1/(q-2)), "
        "c = N^(-1/2) q^(-q/2), returns to it.",
        domain=Domain(
            {
                "depth": IntRange(2, 3, fast_hi=2),
                "K": IntRange(2, 3),
                "n": IntRange(1, 3),
                "extra_d": IntRange(0, 1),
                "loss": Choice(("mse", "ce")),
                "bias": Choice(("none", "free")),
                "seed": IntRange(0, 10**6),
            },
            derive=_origin_sample,
            description="deep linear UFM, depth 2..3, balanced, d = K + 0..1; MSE (bias none or "
            "free) or CE (no bias); every decay log-uniform in [1e-3, 1]",
            regimes=("mse, none", "mse, free", "ce, none"),
            regime_of=lambda p: f"{p['loss']}, {p['bias']}",
        ),
        predict=_origin_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _origin_symbolic,
                tol.FLOAT,
                description="exact Taylor coefficients of t and t^2 of the data term at "
                "b0 + t db + t^q P (sympy), plus the decays",
            ),
            "dynamic": Route(
                "dynamic",
                _origin_dynamic,
                tol.GRADIENT_FD,
                max_points=3,
                description="finite-difference Hessian of the model gradient at the origin; "
                "chain descent from radius r0 returns to it",
            ),
        },
        proof="proofs/deep_origin.py",
    )
)
