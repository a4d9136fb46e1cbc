r"""The built-in catalogue: every theorem of ufm, encoded once, with the routes that verify it.

Each ``predict`` encodes the published statement directly (its formula, written here once); the
routes measure the same quantities independently: ``symbolic`` through the sympy derivations of
:mod:`ufm.geometry`, :mod:`ufm.minimizers`, :mod:`ufm.landscape`; ``convex`` through the cvxpy
programs of :mod:`ufm.relaxations`; ``dynamic`` through :mod:`ufm.dynamics`. Matrices are compared
rotation-free (Gram matrices W W^T, M^T M, W M, K x K), in the conventions of
:mod:`ufm.objectives`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import tolerances as tol
from ..metrics import class_means
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
    """lambda_W, lambda_H from kappa = K sqrt(n lambda_W lambda_H) and r = lambda_W / lambda_H.

    Sampling the threshold quantity kappa and the ratio r makes domains cover both sides of the
    threshold evenly.
    """
    prod = (point["kappa"] / point["K"]) ** 2 / point["n"]
    return {
        "lambda_W": math.sqrt(prod * point["ratio"]),
        "lambda_H": math.sqrt(prod / point["ratio"]),
    }


def _problem(point: dict, loss: str, bias: str) -> Problem:
    return Problem(
        loss=loss,
        K=point["K"],
        d=point["d"],
        n=point["n"],
        lambda_W=point["lambda_W"],
        lambda_H=point["lambda_H"],
        lambda_b=point.get("lambda_b") if bias == "regularized" else None,
        bias=bias,
    )


def _grams(W: np.ndarray, M: np.ndarray) -> dict:
    return {"WWt": W @ W.T, "MtM": M.T @ M, "WM": W @ M}


#: Headroom for the growth of the iterates from the random start to the minimizer's scale: in the
#: claims' domains (kappa >= 0.05) the minimizer has ||W||^2, ||H||^2/N <= K x* <= K log(K/kappa),
#: below 10 for the sizes sampled, so the step keeps lr * L < 1 along the whole path.
_DESCENT_HEADROOM = 10.0

#: Chunks of 100,000 steps before a run that is still not stationary is reported as not converged.
_DESCENT_CHUNKS = 40


def _descend(problem: Problem, *, seed: int, init_scale: float = 1.0):
    """Gradient descent (the numba kernel) run in chunks until stationary.

    Stationary means a gradient norm <= ``tol.STATIONARY`` (1 + |f|). The step is 1/L with
    L = lambda_W + lambda_H + (||W_0||_2 + ||H_0||_2)^2/N + headroom (spectral norms): the data
    term (CE or MSE, curvature <= 1 per logit, weight 1/N per sample) has Hessian blocks of norm
    <= ||H||_2^2/N (in W), <= ||W||_2^2/N (in H) and ||W||_2 ||H||_2/N plus the residual (cross
    term), the regularizer adds lambda, and ``_DESCENT_HEADROOM`` covers the growth of the iterates
    to the minimizer's scale.

    Raises
    ------
    NotConverged
        If the gradient is not stationary after ``_DESCENT_CHUNKS`` x 100,000 steps.
    """
    from ..dynamics import gradient_descent, initialize
    from ..errors import NotConverged

    W, H, b = initialize(problem, seed, init_scale)
    spectral = np.linalg.norm(W, 2) + np.linalg.norm(H, 2)
    curvature = problem.lambda_W + problem.lambda_H + spectral**2 / problem.N
    lr = 1.0 / (curvature + _DESCENT_HEADROOM)
    for _ in range(_DESCENT_CHUNKS):
        result = gradient_descent(problem, steps=100_000, lr=lr, init=(W, H, b))
        W, H, b = result.W, result.H, result.b
        if result.gradient_norm[-1] <= tol.STATIONARY * (1.0 + abs(result.objective[-1])):
            return result
    raise NotConverged(
        f"gradient descent (lr={lr:.3g}) is not stationary after {_DESCENT_CHUNKS * 100_000} steps "
        f"(gradient norm {result.gradient_norm[-1]:.3g}); the point lies too close to a threshold"
    )


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

    from ..geometry import frame_rank, gram, simplex_etf

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
    from ..relaxations import max_min_angle

    res = max_min_angle(point["K"])
    # eigenvalues of an interior-point solution below CONVEX_ARGMIN (its argmin accuracy) are zeros
    rank = int(np.linalg.matrix_rank(res.G, tol.CONVEX_ARGMIN))
    return {"gram": res.G, "max_cosine": res.t, "rank": rank}


def _etf_dynamic(point):
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
    r = _descend(p, seed=point["seed"])
    G = _unit_gram(r.W.T)
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

# --------------------------------------------------------------------------------------------------
# 2-5. Global minimizers of the regularized UFM (CE; MSE without, with free, with regularized bias)


def _ce_theorem(point, bias):
    r"""Zhu et al. 2021, Thm 3.1, in ufm's normalization.

    With kappa = K sqrt(n lambda_W lambda_H): the origin iff kappa >= 1, else a simplex ETF with
    s t = x* = ((K-1)/K) log((K - (K-1) kappa)/kappa), s^2 = x* sqrt(n lambda_H/lambda_W),
    h = t u_k, b = 0 (regularized) or any constant (free).
    """
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
    r"""MSE minimizer: class logits W M = alpha P + gamma J, b = beta 1.

    Here P = I - 11^T/K, J = 11^T, alpha = (1 - kappa)_+ and

    * no bias (Tirer & Bruna 2022): gamma = alpha/K, beta = 0 (W M = alpha I, an orthogonal frame);
    * free bias (Zhou et al. 2022): gamma = 0, beta = 1/K (a simplex ETF);
    * regularized bias (derived here; it interpolates the two as lambda_b runs from 0 to infinity):
      with c = lambda_b/(1 + lambda_b), gamma = 0 and beta = 1/(K(1 + lambda_b)) if kappa >= c, else
      beta = kappa/(K lambda_b) and gamma = (1 - kappa)/K - kappa/(K lambda_b) > 0;

    balanced factors W W^T = rho W M, M^T M = W M / rho with rho = sqrt(n lambda_H / lambda_W). The
    value is the minimum of the separable problem on the P and J components (derived here in ufm's
    1/(2N) normalization, by the nuclear-norm reduction
    ||alpha P + gamma J||_* = (K-1) alpha + K gamma).
    """
    K, n, lW, lH = point["K"], point["n"], point["lambda_W"], point["lambda_H"]
    kappa = K * math.sqrt(n * lW * lH)
    rho = math.sqrt(n * lH / lW)
    alpha = max(1.0 - kappa, 0.0)
    p_part = (K - 1) / K * (kappa - kappa**2 / 2) if kappa < 1 else (K - 1) / (2 * K)
    if bias == "none":
        gamma, beta = alpha / K, 0.0
        j_part = (kappa - kappa**2 / 2) / K if kappa < 1 else 1 / (2 * K)
    elif bias == "free":
        gamma, beta, j_part = 0.0, 1.0 / K, 0.0
    else:
        lb = point["lambda_b"]
        if kappa >= lb / (1 + lb):
            gamma, beta, j_part = 0.0, 1 / (K * (1 + lb)), lb / (2 * K * (1 + lb))
        else:
            gamma, beta = (1 - kappa) / K - kappa / (K * lb), kappa / (K * lb)
            j_part = (kappa - kappa**2 / 2) / K - kappa**2 / (2 * K * lb)
    Z = alpha * _centring(K) + gamma * np.ones((K, K))
    out = {"objective": p_part + j_part, "WWt": rho * Z, "MtM": Z / rho, "WM": Z}
    if bias != "none":
        out["b"] = np.full(K, beta)
    return out


def _minimizer_symbolic(loss, bias):
    def measure(point):
        from ..minimizers import global_minimizer
        from ..objectives import gradient

        p = _problem(point, loss, bias)
        cf = global_minimizer(p)
        g = gradient(p, cf.W, cf.H, cf.b if p.has_bias else None)
        out = {
            "objective": cf.objective,
            **_grams(cf.W, cf.M),
            "gradient_norm": math.sqrt(sum(float(np.sum(x * x)) for x in g)),
        }
        out["b_centred" if loss == "ce" else "b"] = cf.b - cf.b.mean() if loss == "ce" else cf.b
        return out

    return measure


def _minimizer_convex(loss, bias):
    def measure(point):
        from ..relaxations import nuclear_relaxation

        cert = nuclear_relaxation(_problem(point, loss, bias))
        out = {"objective": cert.objective, **_grams(cert.W, cert.M)}
        out["b_centred" if loss == "ce" else "b"] = (
            cert.b - cert.b.mean() if loss == "ce" else cert.b
        )
        return out

    return measure


def _minimizer_dynamic(loss, bias):
    def measure(point):
        p = _problem(point, loss, bias)
        r = _descend(p, seed=point["seed"])
        M, _ = class_means(r.H, p.labels, p.K)
        out = {"objective": float(r.objective[-1]), **_grams(r.W, M)}
        out["b_centred" if loss == "ce" else "b"] = r.b - r.b.mean() if loss == "ce" else r.b
        return out

    return measure


def _away_from_thresholds(p) -> bool:
    """True if the point is away from the thresholds between minimizer regimes.

    That is, kappa is outside [0.8, 1.2] and, for the regularized-bias MSE, 20% away from
    lambda_b/(1+lambda_b).
    """
    c = p["lambda_b"] / (1 + p["lambda_b"])
    return abs(p["kappa"] - 1.0) > 0.2 and not (
        p.get("loss", "mse") == "mse"
        and p["bias"] == "regularized"
        and abs(p["kappa"] / c - 1) < 0.2
    )


def _ufm_domain(loss: str, bias_choices: tuple, d_min_offset: int) -> Domain:
    params = {
        "K": IntRange(2, 8, fast_hi=4),
        "extra_d": IntRange(0, 3),
        "n": IntRange(1, 10, fast_hi=4),
        "kappa": LogRange(0.05, 3.0),
        "ratio": LogRange(0.2, 5.0),
        "bias": Choice(bias_choices),
        "lambda_b": LogRange(1e-3, 1e-1) if loss == "ce" else LogRange(1e-2, 1e2),
        "seed": IntRange(0, 10**6),
    }
    return Domain(
        params,
        derive=lambda p: {"d": p["K"] + d_min_offset + p["extra_d"], **_lambdas(p)},
        # a band around the threshold kappa = 1 is left out: there the minimizer is degenerate and
        # gradient descent converges sublinearly; the proofs verify the threshold itself exactly
        where=lambda p: _away_from_thresholds({"loss": loss, **p}),
        description=f"balanced classes, d >= K{d_min_offset:+d}, "
        "kappa = K sqrt(n lambda_W lambda_H) outside [0.8, 1.2]"
        + (" and 20% away from lambda_b/(1+lambda_b)" if loss == "mse" else ""),
    )


def _register_minimizer(claim_id, citation, statement, loss, bias, d_min_offset, theorem, proof):
    biases = ("regularized", "free") if bias == "any" else (bias,)
    routes = {}
    for kind, factory, tolerance, cap in (
        ("symbolic", _minimizer_symbolic, tol.CLOSED_FORM, None),
        ("convex", _minimizer_convex, tol.CONVEX_ARGMIN, 3),
        ("dynamic", _minimizer_dynamic, tol.DESCENT_GRAM, 3),
    ):

        def measure(point, factory=factory):
            return factory(loss, point["bias"])(point)

        routes[kind] = Route(kind, measure, tolerance, max_points=cap)
    register(
        Claim(
            id=claim_id,
            citation=citation,
            statement=statement,
            domain=_ufm_domain(loss, biases, d_min_offset),
            predict=lambda point: {**theorem(point, point["bias"]), "gradient_norm": 0.0},
            routes=routes,
            proof=proof,
        )
    )


_register_minimizer(
    "ce.global-minimizer",
    "Zhu et al. 2021, Thm 3.1",
    "Every global minimizer of the regularized CE UFM (balanced, d >= K-1) is collapsed onto a "
    "simplex ETF with self-dual classifier, of the stated scale and value, and is W = H = 0 iff "
    "K sqrt(n lambda_W lambda_H) >= 1.",
    "ce",
    "any",
    -1,
    _ce_theorem,
    "proofs/ce_global_minimizer.py",
)
_register_minimizer(
    "mse.no-bias-orthogonal-frame",
    "Tirer & Bruna 2022; Zhou et al. 2022",
    "Without bias, the regularized MSE UFM (balanced, d >= K) is minimized by collapsed features "
    "with W M = (1 - kappa)_+ I: an orthogonal frame.",
    "mse",
    "none",
    0,
    _mse_theorem,
    "proofs/mse_global_minimizer.py",
)
_register_minimizer(
    "mse.free-bias-etf",
    "Zhou et al. 2022",
    "With an unregularized bias, the regularized MSE UFM (balanced, d >= K-1) is minimized by "
    "collapsed features with W M = (1 - kappa)_+ (I - 11^T/K), a simplex ETF, and b = 1/K.",
    "mse",
    "free",
    -1,
    _mse_theorem,
    "proofs/mse_global_minimizer.py",
)
_register_minimizer(
    "mse.regularized-bias",
    "derived here; interpolates Zhou et al. 2022 (lambda_b -> 0) and "
    "Tirer & Bruna 2022 (-> infinity)",
    "With a regularized bias, the regularized MSE UFM (balanced, d >= K) is minimized by "
    "W M = (1 - kappa)_+ P + gamma J and b = beta 1: a simplex ETF with b = 1/(K(1+lambda_b)) "
    "when kappa >= lambda_b/(1+lambda_b), else an ETF plus a mean component gamma > 0 with "
    "b = kappa/(K lambda_b).",
    "mse",
    "regularized",
    0,
    _mse_theorem,
    "proofs/mse_global_minimizer.py",
)

# --------------------------------------------------------------------------------------------------
# 6. Benign landscape: gradient descent from random starts reaches the global optimum

_BENIGN_SEEDS = 3


def _benign_problem(point) -> Problem:
    return _problem(point, point["loss"], point["bias"])


def _benign_theorem(point) -> dict:
    theorem = _ce_theorem if point["loss"] == "ce" else _mse_theorem
    return theorem(point, point["bias"])


def _benign_runs(point):
    """The descent runs of a point, shared by both routes (each point's runs are computed once)."""
    return _benign_runs_cached(tuple(sorted(point.items())))


@functools.lru_cache(maxsize=8)
def _benign_runs_cached(key):
    point = dict(key)
    p = _benign_problem(point)
    return p, [
        _descend(p, seed=point["seed"] + i, init_scale=(1.0, 1e-3, 3.0)[i % 3])
        for i in range(_BENIGN_SEEDS)
    ]


def _benign_dynamic(point):
    _, runs = _benign_runs(point)
    f_star = _benign_theorem(point)["objective"]
    return {"worst_gap": max((float(r.objective[-1]) - f_star) / (1 + abs(f_star)) for r in runs)}


def _benign_convex(point):
    from ..relaxations import gap, nuclear_relaxation

    p, runs = _benign_runs(point)
    cert = nuclear_relaxation(p)
    worst = max(gap((r.W, r.H, r.b if p.has_bias else None), p, cert) for r in runs)
    return {"worst_gap": worst / (1 + abs(cert.objective))}


def _benign_domain() -> Domain:
    base = _ufm_domain("ce", ("regularized", "free"), -1)

    def derive(p):
        # d >= K for the bias-free MSE (orthogonal frame), d >= K - 1 otherwise
        p = {
            **p,
            "bias": {"ce": p["bias"], "mse": ("none", "free")[p["bias"] == "free"]}[p["loss"]],
        }
        offset = 0 if p["bias"] == "none" else -1
        return {"bias": p["bias"], "d": p["K"] + offset + p["extra_d"], **_lambdas(p)}

    return Domain(
        {**base.params, "loss": Choice(("ce", "mse"))},
        derive=derive,
        where=_away_from_thresholds,
        description="balanced classes; CE (bias regularized/free, d >= K-1) or "
        "MSE (no bias, d >= K; free bias, d >= K-1); kappa outside [0.8, 1.2]",
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
# 7. Norm-constrained layer-peeled model, balanced classes: simplex ETF


def _lpm_predict(point):
    K, E_W, E_H = point["K"], point["E_W"], point["E_H"]
    G = _etf_unit_gram(K)
    value = math.log1p((K - 1) * math.exp(-K * math.sqrt(E_W * E_H) / (K - 1)))
    return {"objective": value, "WWt": E_W * G, "MtM": E_H * G, "WM": math.sqrt(E_W * E_H) * G}


def _lpm_symbolic(point):
    from ..minimizers import layer_peeled_optimum

    cf = layer_peeled_optimum(point["K"], point["E_W"], point["E_H"])
    return {"objective": cf.objective, **_grams(cf.W, cf.M)}


def _lpm_convex(point):
    from ..relaxations import layer_peeled_sdp

    K = point["K"]
    res = layer_peeled_sdp(K, (point["n"],) * K, point["E_W"], point["E_H"])
    return {"objective": res.objective, **_grams(res.W, res.M)}


register(
    Claim(
        id="lpm.balanced-etf",
        citation="Fang et al. 2021; Lu & Steinerberger 2020; Graf et al. 2021",
        statement="In the norm-constrained layer-peeled model with CE and balanced classes, the "
        "optimum is log(1 + (K-1) exp(-K sqrt(E_W E_H)/(K-1))), attained by a self-dual simplex "
        "ETF with ||w_k||^2 = E_W and ||h||^2 = E_H.",
        domain=Domain(
            {
                "K": IntRange(2, 10, fast_hi=4),
                "n": IntRange(1, 20),
                "E_W": LogRange(0.1, 10.0),
                "E_H": LogRange(0.1, 10.0),
            },
            description="balanced classes, d >= K - 1, energy budgets E_W, E_H > 0",
        ),
        predict=_lpm_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _lpm_symbolic,
                tol.CLOSED_FORM,
                description="sympy derivation (ufm.minimizers.layer_peeled_optimum)",
            ),
            "convex": Route(
                "convex",
                _lpm_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="SDP over the Gram matrix of (W, M), Clarabel",
            ),
        },
        proof="proofs/layer_peeled.py",
    )
)

# --------------------------------------------------------------------------------------------------
# 8. Minority Collapse


def _minority_convex(point):
    from ..relaxations import minority_collapse_sweep, minority_threshold

    args = (point["K_A"], point["K_B"], point["E_W"], point["E_H"])
    located = minority_threshold(*args)
    R_star = located.threshold
    sweep = minority_collapse_sweep(*args, ((1 + R_star) / 2, 2 * R_star), locate=False)
    return {
        # below the threshold the minority classifiers are spread out, above they coincide
        "spread_below_positive": float(sweep.minority_spread[0] > tol.COLLAPSE_SPREAD),
        "spread_above": sweep.minority_spread[1],
    }


register(
    Claim(
        id="lpm.minority-collapse",
        citation="Fang et al. 2021 (Minority Collapse)",
        statement="With K_A majority classes of size n_A and K_B minority classes of size n_B in "
        "the layer-peeled model, the minority classifiers coincide once n_A/n_B exceeds a finite "
        "threshold.",
        domain=Domain(
            {
                "K_A": IntRange(1, 5, fast_hi=3),
                "K_B": IntRange(2, 5, fast_hi=3),
                "E_W": LogRange(0.5, 2.0),
                "E_H": LogRange(0.5, 2.0),
            },
            description="K_A >= 1, K_B >= 2, energy budgets in [0.5, 2]",
        ),
        predict=lambda point: {"spread_below_positive": 1.0, "spread_above": 0.0},
        routes={
            "convex": Route(
                "convex",
                _minority_convex,
                tol.COLLAPSE_SPREAD,
                max_points=2,
                description="bisection for R*, then spreads of the minority rows at "
                "(1 + R*)/2 and 2R* (layer-peeled SDP)",
            ),
        },
    )
)

# --------------------------------------------------------------------------------------------------
# 9. SELI geometry of the max-margin limit


def _seli_predict(point):
    r"""The SVD factors of the simplex-encoded label matrix (Thrampoulidis et al. 2022), per class.

    W W^T = (P D P)^{1/2}, M^T M = D^{-1/2}(D^{1/2} P D^{1/2})^{1/2} D^{-1/2}, logits Z = P.
    """
    sizes = np.asarray(point["class_sizes"], dtype=float)
    K = sizes.size
    P = _centring(K)

    def psd_sqrt(A):
        vals, vecs = np.linalg.eigh(A)
        return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T

    import sympy as sp

    Dh = np.diag(np.sqrt(sizes))
    return {
        "WWt": psd_sqrt(P @ np.diag(sizes) @ P),
        "MtM": np.linalg.inv(Dh) @ psd_sqrt(Dh @ P @ Dh) @ np.linalg.inv(Dh),
        "WM": sp.eye(K) - sp.ones(K, K) / K,
        "margins": sp.ones(K * (K - 1), 1),
    }


def _seli_convex(point):
    from ..relaxations import max_margin

    res = max_margin(point["class_sizes"])
    return {"WWt": res.gram_W, "MtM": res.gram_M, "WM": res.W @ res.M}


def _seli_symbolic(point):
    import sympy as sp

    sizes = point["class_sizes"]
    K = len(sizes)
    P = sp.eye(K) - sp.ones(K, K) / K
    # exact margins of the SEL logits: z_kk - z_jk = 1 for every class k and j != k
    margins = [P[k, k] - P[j, k] for k in range(K) for j in range(K) if j != k]
    return {"WM": P, "margins": sp.Matrix(margins)}


register(
    Claim(
        id="seli.max-margin",
        citation="Thrampoulidis et al. 2022 (SELI); Ji et al. 2021",
        statement="The max-margin (vanishing-regularization) UFM has logits equal to the "
        "simplex-encoded labels (margins exactly 1) and W, H given by their SVD (SELI); for "
        "balanced classes a simplex ETF.",
        domain=Domain(
            {
                "K": IntRange(2, 6, fast_hi=4),
                "n_lo": IntRange(1, 5),
                "n_hi": IntRange(1, 20),
                "seed": IntRange(0, 10**6),
            },
            derive=lambda p: {
                "class_sizes": tuple(
                    int(x)
                    for x in np.random.default_rng(p["seed"]).integers(
                        min(p["n_lo"], p["n_hi"]), max(p["n_lo"], p["n_hi"]) + 1, p["K"]
                    )
                )
            },
            description="any class sizes, d >= K",
        ),
        predict=_seli_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _seli_symbolic,
                tol.EXACT,
                description="exact SEL matrix and its margins (sympy)",
            ),
            "convex": Route(
                "convex",
                _seli_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="min ||Z D^(1/2)||_* s.t. margins >= 1, Clarabel",
            ),
        },
        proof="proofs/seli.py",
    )
)


# --------------------------------------------------------------------------------------------------
# 10. NC1-NC3 imply NC4


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
    from ..metrics import nc_metrics

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
    r = _descend(p, seed=point["seed"])
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


# --------------------------------------------------------------------------------------------------
# 11. The LE-SDE phase transition


def _lesde_point(p):
    beta = p["alpha"] * (p["ratio"] if p["regime"] == "locally elastic" else 1 / p["ratio"])
    return {"beta": beta}


def _lesde_predict(point):
    return {"separable": float(point["alpha"] > point["beta"])}


def _lesde_symbolic(point):
    r"""Exact drift of the linearized LE-ODE at M = 0 for balanced classes: class k moves along
    (alpha - beta)(e_k - 1/K)/K, so the readout margin of its mean grows like (alpha - beta)t/K."""
    import sympy as sp

    K = point["K"]
    alpha, beta = sp.nsimplify(point["alpha"]), sp.nsimplify(point["beta"])
    E = (alpha - beta) * sp.eye(K) + beta * sp.ones(K, K)
    P = sp.eye(K) - sp.ones(K, K) / K
    drift = P * E / K  # column k: d m_k / dt at M = 0 in logit coordinates (balanced, W_0 = I)
    margins = [drift[k, k] - drift[j, k] for k in range(K) for j in range(K) if j != k]
    return {"separable": sp.Integer(int(all(m > 0 for m in margins)))}


#: Noise of the LE-SDE paths in the claim's check. The readout margin grows like (alpha - beta) t/K
#: until cross-entropy saturates (margin ~ log K) and then only logarithmically, while the noise
#: spreads the features like sigma sqrt(2t): the transition is sharp in the window where the drift
#: dominates, which the horizon below and this noise level keep (margin ~ 2 at the horizon against a
#: noise of at most 0.2 in the domain).
_LESDE_NOISE = 0.01


def _lesde_horizon(point) -> float:
    """4K/|alpha - beta|: where the linearized margin (alpha - beta) t/K reaches 4."""
    return 4 * point["K"] / abs(point["alpha"] - point["beta"])


def _lesde_dynamic(point):
    from ..dynamics import simulate_lesde

    K = point["K"]
    res = simulate_lesde(
        K,
        point["n"],
        K,
        point["alpha"],
        point["beta"],
        noise=_LESDE_NOISE,
        time=_lesde_horizon(point),
        paths=point["paths"],
        seed=point["seed"],
    )
    return {"separable": res.separability().probability}


register(
    Claim(
        id="lesde.phase-transition",
        citation="Zhang, Wang & Su 2021 (LE-SDE); model and linearization derived here",
        statement="Under the locally elastic SDE the features become separable by the readout "
        "(vanishing training loss) when the intra-class impact alpha exceeds the inter-class "
        "impact beta, and not when alpha < beta (checked while the drift dominates the noise: "
        "noise 0.01 up to time 4K/|alpha - beta|).",
        domain=Domain(
            {
                "K": IntRange(2, 5, fast_hi=3),
                "n": IntRange(3, 10, fast_hi=5),
                "alpha": LogRange(0.5, 2.0),
                "ratio": LogRange(0.1, 0.5),
                "regime": Choice(("locally elastic", "inelastic")),
                "paths": IntRange(40, 40),
                "seed": IntRange(0, 10**6),
            },
            derive=_lesde_point,
            description="features = logits (d = K), noise 0.01, horizon 4K/|alpha - beta|, "
            "beta/alpha in [0.1, 0.5] or [2, 10]",
        ),
        predict=_lesde_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _lesde_symbolic,
                tol.EXACT,
                fast_points=2,
                description="exact sign of the LE-ODE drift margins (sympy)",
            ),
            "dynamic": Route(
                "dynamic",
                _lesde_dynamic,
                tol.LESDE_PROBABILITY,
                max_points=4,
                fast_points=2,
                description="Euler-Maruyama paths, fraction separable at the final time",
            ),
        },
        proof="proofs/le_ode.py",
    )
)

# --------------------------------------------------------------------------------------------------
# 12. Strict saddles


def _saddle_problem(point) -> Problem:
    bias = {"ce": point["bias"], "mse": ("none", "free")[point["bias"] == "free"]}[point["loss"]]
    return _problem(point, point["loss"], bias)


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
    from ..landscape import origin_spectrum

    return {"origin_lambda_min": float(origin_spectrum(_saddle_problem(point)).min())}


def _saddle_dynamic(point):
    from ..dynamics import gradient_descent
    from ..landscape import classify_critical_point, critical_points
    from ..objectives import objective

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
        start = (
            W + 1e-3 * D.W,
            H + 1e-3 * D.H,
            (b if b is not None else np.zeros(p.K)) + 1e-3 * D.b,
        )
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
            derive=lambda p: {"d": p["K"] + p["extra_d"], **_lambdas(p)},
            description="balanced classes, d > K, kappa < 0.8",
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
from .catalogue import margin as _margin  # noqa: E402,F401
