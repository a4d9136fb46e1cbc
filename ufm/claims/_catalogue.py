r"""The built-in catalogue: every theorem of ufm, encoded once, with the routes that verify it.

Each ``predict`` encodes the published statement directly (its formula, written here once); the routes
measure the same quantities independently: ``symbolic`` through the sympy derivations of
:mod:`ufm.geometry`, :mod:`ufm.minimizers`, :mod:`ufm.landscape`; ``convex`` through the cvxpy programs of
:mod:`ufm.relaxations`; ``dynamic`` through :mod:`ufm.dynamics`. Matrices are compared rotation-free
(Gram matrices W W^T, M^T M, W M, K x K), in the conventions of :mod:`ufm.objectives`.
"""

from __future__ import annotations

import math

import numpy as np

from .. import tolerances as tol
from ..problem import Problem
from ._core import Choice, Claim, Domain, IntRange, LogRange, Route
from ._registry import register

# --------------------------------------------------------------------------------------------------
# Shared pieces


def _centring(K: int) -> np.ndarray:
    return np.eye(K) - 1.0 / K


def _unit_gram(V: np.ndarray) -> np.ndarray:
    """Gram matrix of the columns of V (d x K) scaled to unit norm."""
    U = V / np.linalg.norm(V, axis=0)
    return U.T @ U


def _etf_unit_gram(K: int) -> np.ndarray:
    """K/(K-1) (I - 11^T/K): the Gram matrix of K unit vectors of a simplex ETF."""
    return K / (K - 1) * _centring(K)


def _lambdas(point: dict) -> dict:
    """lambda_W, lambda_H from the threshold quantity kappa = K sqrt(n lambda_W lambda_H) and the ratio
    r = lambda_W / lambda_H, so that domains sample both sides of the threshold evenly."""
    prod = (point["kappa"] / point["K"]) ** 2 / point["n"]
    return {"lambda_W": math.sqrt(prod * point["ratio"]), "lambda_H": math.sqrt(prod / point["ratio"])}


def _problem(point: dict, loss: str, bias: str) -> Problem:
    return Problem(
        loss=loss, K=point["K"], d=point["d"], n=point["n"], lambda_W=point["lambda_W"],
        lambda_H=point["lambda_H"], lambda_b=point.get("lambda_b") if bias == "regularized" else None,
        bias=bias,
    )  # fmt: skip


def _grams(W: np.ndarray, M: np.ndarray) -> dict:
    return {"WWt": W @ W.T, "MtM": M.T @ M, "WM": W @ M}


def _class_means(H: np.ndarray, K: int) -> np.ndarray:
    return H.reshape(H.shape[0], K, -1).mean(axis=2)


def _descend(problem: Problem, *, seed: int, init_scale: float = 1.0, lr: float | None = None):
    """Gradient descent (numba kernel) run in chunks until the gradient is stationary to
    ``tol.STATIONARY`` relative to the objective's scale, or 4e6 steps.

    The default step 1/(1 + lambda_W + lambda_H + ||W_0||^2 + ||H_0||^2/N) bounds the curvature of
    f along the descent path (the data term's Hessian has norm <= max(||W||^2, ||H||^2/N) up to O(1)).
    """
    from ..dynamics import gradient_descent, initialize

    W, H, b = initialize(problem, seed, init_scale)
    if lr is None:
        lr = 1.0 / (
            1.0 + problem.lambda_W + problem.lambda_H + np.sum(W * W) + np.sum(H * H) / problem.N
            + 10 * max(problem.K / problem.N, 1.0) * min(1.0, 1 / (problem.lambda_W * problem.lambda_H) ** 0.25)
        )  # fmt: skip
    result = None
    for _ in range(40):
        result = gradient_descent(problem, steps=100_000, lr=lr, init=(W, H, b))
        W, H, b = result.W, result.H, result.b
        if result.gradient_norm[-1] <= tol.STATIONARY * (1.0 + abs(result.objective[-1])):
            break
    return result


# --------------------------------------------------------------------------------------------------
# 1. Simplex ETF identities


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

    from ..geometry import simplex_etf

    K = point["K"]
    M = simplex_etf(K, point["d"], exact=True)
    G = (M.T * M).applyfunc(sp.nsimplify)
    return {
        "gram": G,
        "column_sum": M * sp.ones(K, 1),
        "rank": M.rank(simplify=True),
        "max_cosine": max(G[i, j] for i in range(K) for j in range(K) if i != j),
    }


def _etf_convex(point):
    from ..relaxations import max_min_angle

    res = max_min_angle(point["K"])
    return {"gram": res.G, "max_cosine": res.t, "rank": int(np.linalg.matrix_rank(res.G, 1e-6))}


def _etf_dynamic(point):
    K = point["K"]
    p = Problem(loss="ce", K=K, d=point["d"], n=2, lambda_W=0.5 / K / math.sqrt(2),
                lambda_H=0.5 / K / math.sqrt(2), lambda_b=1e-2, bias="regularized")  # fmt: skip
    r = _descend(p, seed=point["seed"])
    G = _unit_gram(r.W.T)
    return {"gram": G, "max_cosine": G[~np.eye(K, dtype=bool)].max()}


register(
    Claim(
        id="etf.identities",
        citation="Papyan et al. 2020 (def. of NC2); Strohmer & Heath 2003",
        statement="K unit vectors of a simplex ETF have Gram matrix K/(K-1)(I - 11^T/K): equal norms, "
        "pairwise cosines -1/(K-1) (the largest possible minimal angle), sum zero, rank K-1.",
        domain=Domain(
            {"K": IntRange(2, 30, fast_hi=6), "extra_d": IntRange(0, 3), "seed": IntRange(0, 10**6)},
            derive=lambda p: {"d": p["K"] - 1 + p["extra_d"]},
            description="K >= 2, d >= K - 1",
        ),
        predict=_etf_predict,
        routes={
            "symbolic": Route("symbolic", _etf_symbolic, tol.EXACT,
                              description="exact sympy frame: Gram, column sum, rank, cosines"),
            "convex": Route("convex", _etf_convex, tol.CONVEX_ARGMIN, max_points=3,
                            description="SDP max-min-angle: min t s.t. G PSD, diag G = 1, G_ij <= t"),
            "dynamic": Route("dynamic", _etf_dynamic, tol.DESCENT_GRAM, max_points=3,
                             description="classifier rows after gradient descent on the CE UFM"),
        },  # fmt: skip
        proof="proofs/etf_identities.py",
    )
)

# --------------------------------------------------------------------------------------------------
# 2-4. Global minimizers of the regularized UFM (CE; MSE without bias; MSE with free bias)


def _ce_theorem(point, bias):
    r"""Zhu et al. 2021, Thm 3.1, in ufm's normalization: kappa = K sqrt(n lambda_W lambda_H); the origin
    iff kappa >= 1, else a simplex ETF with s t = x* = ((K-1)/K) log((K - (K-1) kappa)/kappa),
    s^2 = x* sqrt(n lambda_H/lambda_W), h = t u_k, b = 0 (regularized) or any constant (free)."""
    K, n, lW, lH = point["K"], point["n"], point["lambda_W"], point["lambda_H"]
    kappa = K * math.sqrt(n * lW * lH)
    P = _etf_unit_gram(K)
    if kappa >= 1:
        x = s2 = t2 = 0.0
    else:
        x = (K - 1) / K * math.log((K - (K - 1) * kappa) / kappa)
        s2, t2 = x * math.sqrt(n * lH / lW), x * math.sqrt(lW / (n * lH))
    value = math.log1p((K - 1) * math.exp(-K * x / (K - 1))) + kappa * x
    return {"objective": value, "WWt": s2 * P, "MtM": t2 * P, "WM": x * P, "b_centred": np.zeros(K)}


def _mse_theorem(point, bias):
    r"""MSE: W M = (1 - kappa)_+ F with F = I (no bias; Tirer & Bruna 2022) or F = I - 11^T/K and
    b = 1/K (free bias; Zhou et al. 2022); balanced factors W W^T = rho W M, M^T M = W M / rho with
    rho = sqrt(n lambda_H / lambda_W); value (c/K)(kappa - kappa^2/2) below the threshold, c/(2K)
    above it, c = K (no bias) or K - 1 (free bias). Derived here in ufm's 1/(2N) normalization."""
    K, n, lW, lH = point["K"], point["n"], point["lambda_W"], point["lambda_H"]
    kappa = K * math.sqrt(n * lW * lH)
    rho = math.sqrt(n * lH / lW)
    F, c = (np.eye(K), K) if bias == "none" else (_centring(K), K - 1)
    shrink = max(1.0 - kappa, 0.0)
    value = c / K * (kappa - kappa**2 / 2) if kappa < 1 else c / (2 * K)
    out = {"objective": value, "WWt": rho * shrink * F, "MtM": shrink * F / rho, "WM": shrink * F}
    if bias == "free":
        out["b"] = np.full(K, 1.0 / K)
    return out


def _minimizer_symbolic(loss, bias):
    def measure(point):
        from ..minimizers import global_minimizer
        from ..objectives import gradient

        p = _problem(point, loss, bias)
        cf = global_minimizer(p)
        g = gradient(p, cf.W, cf.H, cf.b if p.has_bias else None)
        out = {"objective": cf.objective, **_grams(cf.W, cf.M),
               "gradient_norm": math.sqrt(sum(float(np.sum(x * x)) for x in g))}  # fmt: skip
        out["b_centred" if loss == "ce" else "b"] = cf.b - cf.b.mean() if loss == "ce" else cf.b
        return out

    return measure


def _minimizer_convex(loss, bias):
    def measure(point):
        from ..relaxations import nuclear_relaxation

        cert = nuclear_relaxation(_problem(point, loss, bias))
        out = {"objective": cert.objective, **_grams(cert.W, cert.M)}
        out["b_centred" if loss == "ce" else "b"] = cert.b - cert.b.mean() if loss == "ce" else cert.b
        return out

    return measure


def _minimizer_dynamic(loss, bias):
    def measure(point):
        p = _problem(point, loss, bias)
        r = _descend(p, seed=point["seed"])
        out = {"objective": float(r.objective[-1]), **_grams(r.W, _class_means(r.H, p.K))}
        out["b_centred" if loss == "ce" else "b"] = r.b - r.b.mean() if loss == "ce" else r.b
        return out

    return measure


def _ufm_domain(loss: str, bias_choices: tuple, d_min_offset: int) -> Domain:
    params = {
        "K": IntRange(2, 8, fast_hi=4),
        "extra_d": IntRange(0, 3),
        "n": IntRange(1, 10, fast_hi=4),
        "kappa": LogRange(0.05, 3.0),
        "ratio": LogRange(0.2, 5.0),
        "bias": Choice(bias_choices),
        "lambda_b": LogRange(1e-3, 1e-1),
        "seed": IntRange(0, 10**6),
    }
    return Domain(
        params,
        derive=lambda p: {"d": p["K"] + d_min_offset + p["extra_d"], **_lambdas(p)},
        # a band around the threshold kappa = 1 is left out: there the minimizer is degenerate and gradient
        # descent converges sublinearly; the threshold itself is verified exactly in the proofs
        where=lambda p: abs(p["kappa"] - 1.0) > 0.2,
        description=f"balanced classes, d >= K{d_min_offset:+d}, kappa = K sqrt(n lambda_W lambda_H) "
        "outside [0.8, 1.2]",
    )


def _register_minimizer(claim_id, citation, statement, loss, bias, d_min_offset, theorem, proof):
    biases = ("regularized", "free") if bias == "any" else (bias,)
    routes = {}
    for kind, factory, tolerance, cap in (
        ("symbolic", _minimizer_symbolic, tol.FLOAT * 1e3, None),
        ("convex", _minimizer_convex, tol.CONVEX_ARGMIN, 3),
        ("dynamic", _minimizer_dynamic, tol.DESCENT_GRAM, 3),
    ):
        def measure(point, factory=factory):
            return factory(loss, point["bias"])(point)

        routes[kind] = Route(kind, measure, tolerance, max_points=cap)
    register(
        Claim(
            id=claim_id, citation=citation, statement=statement,
            domain=_ufm_domain(loss, biases, d_min_offset),
            predict=lambda point: {**theorem(point, point["bias"]), "gradient_norm": 0.0},
            routes=routes, proof=proof,
        )  # fmt: skip
    )


_register_minimizer(
    "ce.global-minimizer",
    "Zhu et al. 2021, Thm 3.1",
    "Every global minimizer of the regularized CE UFM (balanced, d >= K-1) is collapsed onto a simplex "
    "ETF with self-dual classifier, of the stated scale and value, and is W = H = 0 iff "
    "K sqrt(n lambda_W lambda_H) >= 1.",
    "ce", "any", -1, _ce_theorem, "proofs/ce_global_minimizer.py",
)  # fmt: skip
_register_minimizer(
    "mse.no-bias-orthogonal-frame",
    "Tirer & Bruna 2022; Zhou et al. 2022",
    "Without bias, the regularized MSE UFM (balanced, d >= K) is minimized by collapsed features with "
    "W M = (1 - kappa)_+ I: an orthogonal frame.",
    "mse", "none", 0, _mse_theorem, "proofs/mse_no_bias.py",
)  # fmt: skip
_register_minimizer(
    "mse.free-bias-etf",
    "Zhou et al. 2022",
    "With an unregularized bias, the regularized MSE UFM (balanced, d >= K-1) is minimized by collapsed "
    "features with W M = (1 - kappa)_+ (I - 11^T/K), a simplex ETF, and b = 1/K.",
    "mse", "free", -1, _mse_theorem, "proofs/mse_free_bias.py",
)  # fmt: skip
