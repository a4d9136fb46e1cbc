"""Family ``mse``: the global minimizers of the regularized MSE UFM.

* ``mse.no-bias-orthogonal-frame``, ``mse.free-bias-etf``, ``mse.regularized-bias``: balanced
  classes, one claim per bias mode;
* ``mse.imbalanced-svt``: any class sizes, free or no bias: the class-collapsed logits are a
  singular-value soft threshold (``proofs/mse_imbalanced_svt.py``);
* ``mse.deep-linear``, ``mse.deep-linear-jump``: the deep linear UFM, one scalar problem per
  singular value, and its discontinuous jump to zero with a metastable window
  (``proofs/deep_linear.py``; shared pieces in ``_deep.py``);
* ``mse.central-path``: the loss at the least-squares classifier of any features in closed form,
  and renormalized descent of the features on that central path (``proofs/central_path.py``;
  pieces in ``_central.py``).
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from ...metrics import class_means, gram_invariants
from ...problem import Problem
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from .._registry import register
from . import _central, _deep
from ._common import centring, yhat
from ._minimizer import register_minimizer


def theorem(point: dict, bias: str) -> dict:
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
    Z = alpha * centring(K) + gamma * np.ones((K, K))
    out = {"objective": p_part + j_part, "WWt": rho * Z, "MtM": Z / rho, "WM": Z}
    if bias != "none":
        out["b"] = np.full(K, beta)
    return out


register_minimizer(
    "mse.no-bias-orthogonal-frame",
    "Tirer & Bruna 2022; Zhou et al. 2022",
    "Without bias, the regularized MSE UFM (balanced, d >= K) is minimized by collapsed features "
    "with W M = (1 - kappa)_+ I: an orthogonal frame.",
    "mse",
    "none",
    0,
    theorem,
    "proofs/mse_global_minimizer.py",
)
register_minimizer(
    "mse.free-bias-etf",
    "Zhou et al. 2022",
    "With an unregularized bias, the regularized MSE UFM (balanced, d >= K-1) is minimized by "
    "collapsed features with W M = (1 - kappa)_+ (I - 11^T/K), a simplex ETF, and b = 1/K.",
    "mse",
    "free",
    -1,
    theorem,
    "proofs/mse_global_minimizer.py",
)
register_minimizer(
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
    theorem,
    "proofs/mse_global_minimizer.py",
)


# --------------------------------------------------------------------------------------------------
# mse.imbalanced-svt


def _svt_sizes(point) -> dict:
    """Class sizes from the seed, then lambda_W, lambda_H placing t = N sqrt(lambda_W lambda_H).

    ``position`` in 0..100 (percent) puts t log-uniformly in [1.2 sigma_(j+1), sigma_j/1.2] for the
    widest ratio sigma_j/sigma_(j+1) of consecutive nonzero singular values of Yhat (regime 'some
    zeroed'; sizes redrawn while no ratio exceeds 1.5, and t = nan, rejected, if none of 50 draws
    has one; K = 2 with a free bias never does), or below the smallest one by the factor
    0.05..0.8 ('none zeroed'): both sides of the class thresholds are sampled, 20% away from them.
    """
    q = point["position"] / 100
    # class sizes drawn from seed, seed + 1, ... until the regime exists for them (at most 50)
    for offset in range(50):
        rng = np.random.default_rng(point["seed"] + offset)
        sizes = tuple(int(x) for x in rng.integers(1, point["n_max"] + 1, point["K"]))
        sigma = np.linalg.svd(yhat(sizes, point["bias"]), compute_uv=False)
        sigma = sigma[sigma > 1e-9]
        if point["regime"] == "none zeroed":
            t = sigma.min() * 0.05 ** (1 - q) * 0.8**q
            break
        ratios = sigma[:-1] / sigma[1:]
        t = math.nan
        if ratios.size and ratios.max() >= 1.5:
            j = int(np.argmax(ratios))
            t = (1.2 * sigma[j + 1]) ** (1 - q) * (sigma[j] / 1.2) ** q
            break
    N = sum(sizes)
    prod = (t / N) ** 2
    return {
        "class_sizes": sizes,
        "t": t,
        "lambda_W": math.sqrt(prod * point["ratio"]),
        "lambda_H": math.sqrt(prod / point["ratio"]),
    }


def _svt_where(point) -> bool:
    """A regime that exists for these class sizes (gradient descent slows at a threshold)."""
    return math.isfinite(point["t"])


def _svt_problem(point) -> Problem:
    K = len(point["class_sizes"])
    return Problem(
        loss="mse",
        K=K,
        d=K + point["extra_d"],
        class_sizes=point["class_sizes"],
        lambda_W=point["lambda_W"],
        lambda_H=point["lambda_H"],
        bias=point["bias"],
    )


def _svt_predict(point):
    r"""The soft threshold, literally.

    Yhat = U diag(sigma) V^T, t = N sqrt(lambda_W lambda_H), Zbar D^(1/2) = U diag((sigma-t)_+) V^T,
    b = (n - Zbar n)/N (free bias) or 0, f* = (1/2N) sum min(sigma, t)^2
    + sqrt(lambda_W lambda_H) sum (sigma - t)_+, W W^T = sqrt(lambda_H/lambda_W) U S U^T,
    M^T M = sqrt(lambda_W/lambda_H) D^(-1/2) V S V^T D^(-1/2), S = diag((sigma - t)_+).
    """
    sizes = point["class_sizes"]
    n = np.asarray(sizes, dtype=float)
    N = n.sum()
    lW, lH = point["lambda_W"], point["lambda_H"]
    U, sigma, Vt = np.linalg.svd(yhat(sizes, point["bias"]))
    t = N * math.sqrt(lW * lH)
    S = np.diag(np.maximum(sigma - t, 0.0))
    Dmh = np.diag(1 / np.sqrt(n))
    Zbar = U @ S @ Vt @ Dmh
    value = np.sum(np.minimum(sigma, t) ** 2) / (2 * N) + math.sqrt(lW * lH) * np.sum(
        np.maximum(sigma - t, 0.0)
    )
    out = {
        "objective": value,
        "WWt": math.sqrt(lH / lW) * U @ S @ U.T,
        "MtM": math.sqrt(lW / lH) * Dmh @ Vt.T @ S @ Vt @ Dmh,
        "WM": Zbar,
        "gradient_norm": 0.0,
        # without bias: class k is zeroed iff n_k <= N^2 lambda_W lambda_H
        "zeroed": np.array([float(m <= N**2 * lW * lH) for m in n]),
    }
    if point["bias"] == "free":
        out["b"] = (n - Zbar @ n) / N
    return out


def _zeroed(WM: np.ndarray, point) -> np.ndarray:
    """Classes whose logit vector vanishes, read off a measured W M (no-bias case only)."""
    scale = 1 + np.abs(WM).max()
    return (np.linalg.norm(WM, axis=0) <= tol.DESCENT_GRAM * scale).astype(float)


def _svt_measured(point, W, M, b, objective) -> dict:
    out = {"objective": objective, **gram_invariants(W, M)}
    if point["bias"] == "free":
        out["b"] = b
    else:
        out["zeroed"] = _zeroed(W @ M, point)
    return out


def _svt_symbolic(point):
    """ufm.minimizers.global_minimizer (exact-rational input, 30 digits) and its gradient norm."""
    from ...minimizers import global_minimizer
    from ...objectives import gradient

    p = _svt_problem(point)
    cf = global_minimizer(p)
    g = gradient(p, cf.W, cf.H, cf.b if p.has_bias else None)
    out = _svt_measured(point, cf.W, cf.M, cf.b, cf.objective)
    out["gradient_norm"] = math.sqrt(sum(float(np.sum(x * x)) for x in g))
    return out


def _svt_convex(point):
    from ...relaxations import nuclear_relaxation

    cert = nuclear_relaxation(_svt_problem(point))
    return _svt_measured(point, cert.W, cert.M, cert.b, cert.objective)


def _svt_dynamic(point):
    p = _svt_problem(point)
    from ...dynamics import descend_to_stationary

    r = descend_to_stationary(p, seed=point["seed"])
    M, _ = class_means(r.H, p.labels, p.K)
    return _svt_measured(point, r.W, M, r.b, float(r.objective[-1]))


register(
    Claim(
        id="mse.imbalanced-svt",
        citation="derived here (proofs/mse_imbalanced_svt.py); consistent with Liu 2024 "
        "(arXiv 2411.17278) and Dang et al. 2023 (ICML)",
        statement="For the regularized MSE UFM with any class sizes, free or no bias and d >= K, "
        "the optimal class logits are Zbar D^(1/2) = U diag((sigma - t)_+) V^T for the SVD of "
        "Yhat = (I - n 1^T/N) D^(1/2) (free bias) or D^(1/2) (no bias) and t = "
        "N sqrt(lambda_W lambda_H), with value (1/2N) sum min(sigma, t)^2 + "
        "sqrt(lambda_W lambda_H) sum (sigma - t)_+; without bias class k is zeroed iff "
        "n_k <= N^2 lambda_W lambda_H.",
        domain=Domain(
            {
                "K": IntRange(2, 5, fast_hi=3),
                "n_max": IntRange(2, 8, fast_hi=5),
                "extra_d": IntRange(0, 2),
                "bias": Choice(("free", "none")),
                "regime": Choice(("some zeroed", "none zeroed")),
                "position": IntRange(0, 100),
                "ratio": LogRange(0.2, 5.0),
                "seed": IntRange(0, 10**6),
            },
            derive=_svt_sizes,
            where=_svt_where,
            description="class sizes 1..n_max drawn per class, bias free or none, d >= K; "
            "t = N sqrt(lambda_W lambda_H) below all singular values of Yhat ('none zeroed') or "
            "among them ('some zeroed'), 20% away from each",
            regimes=tuple(
                f"{r}, bias {b}" for r in ("some zeroed", "none zeroed") for b in ("free", "none")
            ),
            regime_of=lambda p: f"{p['regime']}, bias {p['bias']}",
        ),
        predict=_svt_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _svt_symbolic,
                tol.CLOSED_FORM,
                description="ufm.minimizers.global_minimizer (eigenpairs of the rational "
                "Yhat Yhat^T at 30 digits): value, Grams, bias, gradient norm",
            ),
            "convex": Route(
                "convex",
                _svt_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="nuclear-norm relaxation with the class sizes (Clarabel)",
            ),
            "dynamic": Route(
                "dynamic",
                _svt_dynamic,
                tol.DESCENT_GRAM,
                max_points=3,
                description="gradient descent on (W, H, b) until stationary",
            ),
        },
        proof="proofs/mse_imbalanced_svt.py",
    )
)


# --------------------------------------------------------------------------------------------------
# mse.deep-linear and mse.deep-linear-jump (q = depth + 1 factors; "depth >= 3 factors" in the
# literature's count is ufm depth >= 2)


def _deep_symbolic(point):
    """ufm.minimizers_deep.deep_linear_minimizer (exact roots), measured through the model."""
    from ...minimizers_deep import deep_linear_minimizer
    from ...models import get_model

    p = _deep.deep_problem(point)
    cf = deep_linear_minimizer(p, seed=point["seed"])
    g = get_model(p.model).gradient(p, cf.blocks)
    return {
        **_deep.measure(p, cf.blocks),
        "gradient_norm": math.sqrt(sum(float(np.sum(x * x)) for x in g.values())),
    }


def _deep_dynamic(point):
    p, r = _deep.descend(point)
    return _deep.measure(p, r.blocks)


register(
    Claim(
        id="mse.deep-linear",
        citation="derived here (proofs/deep_linear.py); consistent with Tirer & Bruna 2022 (ICML), "
        "Dang et al. 2023 (ICML), Liu 2024 (arXiv 2411.17278)",
        statement="For the deep linear MSE UFM with L = depth weight layers (q = L + 1 factors), "
        "per-layer decays, any class sizes and free or no bias, every layer's features collapse "
        "and the class logits X = Zbar D^(1/2) share the singular vectors of Yhat; each singular "
        "value is s_i = sigma_i z_i, z_i the global minimizer of (z - 1)^2 + a_i z^(2/q) over "
        "z >= 0, a_i = q N mu sigma_i^(2/q - 2), mu = (lambda_L...lambda_1 lambda_H)^(1/q); the "
        "factors are balanced.",
        domain=Domain(
            {
                "depth": IntRange(2, 3, fast_hi=2),
                "K": IntRange(2, 4, fast_hi=3),
                "extra_d": IntRange(0, 1),
                "bias": Choice(("none", "free")),
                "sizes": Choice(("balanced", "imbalanced")),
                "regime": Choice(("collapsed", "zero")),
                "position": IntRange(0, 100),
                "seed": IntRange(0, 10**6),
            },
            derive=_deep.sample_point,
            where=_deep.outside_window,
            description="depth 2..3 weight layers, K 2..4, d = rank + 0..1, bias none/free, "
            "balanced or imbalanced sizes; decays mu r_x (seeded ratios, geometric mean 1) with "
            "a_1 in [0.1, 0.8 a*] ('collapsed') or [1.2 a_e, 2.4 a_e] ('zero'), every a_i outside "
            "[0.8 a*, 1.2 a_e]",
            regimes=("collapsed", "zero"),
            regime_of=lambda p: p["regime"],
        ),
        predict=_deep.predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _deep_symbolic,
                tol.FLOAT,
                description="ufm.minimizers_deep.deep_linear_minimizer (exact real roots of the "
                "stationarity polynomial vs 0) through the model: value, s, Grams, bias, gradient",
            ),
            "dynamic": Route(
                "dynamic",
                _deep_dynamic,
                tol.DEEP_DESCENT,
                max_points=3,
                description="numba chain descent from a seeded large start until stationary",
            ),
        },
        proof="proofs/deep_linear.py",
    )
)


def _jump_symbolic(point):
    """ufm.minimizers_deep.jump_thresholds (sympy solve) and deep_linear_minimizer's global and
    metastable singular values."""
    from ...minimizers_deep import deep_linear_minimizer, jump_thresholds

    q = point["depth"] + 1
    exact = jump_thresholds(q)
    cf = deep_linear_minimizer(_deep.deep_problem(point))
    local = np.where(cf.s > 0, cf.s, np.nan_to_num(cf.metastable, nan=0.0))
    return {
        **{k: float(exact[k]) for k in ("z_star", "a_star", "a_e")},
        "s": np.sort(cf.s)[::-1],
        "s_local": np.sort(local)[::-1],
        "zero_global": float(cf.zero_solution),
    }


def _jump_dynamic(point):
    """Descent from a large start: where it lands (s_local), and whether the origin beats it."""
    p, r = _deep.descend(point)
    f_end, f_zero = float(r.objective[-1]), _deep.origin_value(p)
    return {
        "s_local": _deep.end_to_end_s(p, r.blocks),
        "zero_global": float(f_zero <= f_end + tol.FLOAT * (1 + abs(f_end))),
    }


register(
    Claim(
        id="mse.deep-linear-jump",
        citation="derived here (proofs/deep_linear.py); consistent with Ziyin, Li & Meng 2022 "
        "(bad minima at zero with weight decay)",
        statement="For q = depth + 1 >= 3 factors and balanced classes the zero solution takes "
        "over discontinuously: with a = q N mu n^(1/q - 1), the logits jump from "
        "z* sqrt(n), z* = (q-2)/(q-1), to 0 at a* = q(1 - z*) z*^(1-2/q), and a positive local "
        "minimizer survives up to a_e = q(1 - z_e) z_e^(1-2/q), z_e = (q-2)/(2(q-1)): in "
        "(a*, a_e) descent from a large start is caught in it.",
        domain=Domain(
            {
                "depth": IntRange(2, 3, fast_hi=2),
                "K": IntRange(2, 4, fast_hi=3),
                "n": IntRange(1, 3),
                "extra_d": IntRange(0, 1),
                "bias": Choice(("none", "free")),
                "regime": Choice(_deep.JUMP_REGIMES),
                "position": IntRange(0, 100),
                "seed": IntRange(0, 10**6),
            },
            derive=_deep.jump_sample,
            description="balanced (sigma = sqrt(n)), depth 2..3, K 2..4, bias none/free; a in "
            "[0.85, 0.97] a* ('below'), a* + [0.15, 0.85](a_e - a*) ('window'), "
            "[1.03, 1.2] a_e ('above')",
            regimes=_deep.JUMP_REGIMES,
            regime_of=lambda p: p["regime"],
        ),
        predict=_deep.jump_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _jump_symbolic,
                tol.FLOAT,
                description="jump_thresholds (sympy) and deep_linear_minimizer's global and "
                "metastable singular values",
            ),
            "dynamic": Route(
                "dynamic",
                _jump_dynamic,
                tol.DEEP_DESCENT,
                max_points=3,
                description="descent from a large start (caught in the metastable minimizer "
                "inside the window); f(origin) vs f(end) within FLOAT (1 + |f|)",
            ),
        },
        proof="proofs/deep_linear.py",
    )
)


register(
    Claim(
        id="mse.central-path",
        citation="Han, Papyan & Donoho 2022 (ICLR), the central path (abstract read); the closed "
        "form and the limit derived here (proofs/central_path.py)",
        statement="For balanced classes and any features H, the loss at the least-squares "
        "classifier is (1/2K)[K - 1 - tr((Sigma_T + lambda I)^+ Sigma_B)] (covariances 1/N about "
        "the global mean); renormalized descent of H on this central path (tr Sigma_T = tau "
        "fixed) drives the trace to r/(1 + lambda r/tau), r = min(d, K-1), and NC1 to 0 (unless "
        "lambda = 0 and d >= K, where exact fit needs no collapse).",
        domain=Domain(
            {
                "K": IntRange(2, 4, fast_hi=3),
                "n": IntRange(2, 3),
                "width": Choice(("wide", "narrow")),
                "ridge": Choice(("ridgeless", "ridge")),
                "lam": LogRange(0.1, 1.0),
                "extra": IntRange(0, 2),
                "seed": IntRange(0, 10**6),
            },
            derive=_central.sample,
            where=_central.nontrivial,
            description="balanced, K 2..4, n 2..3, d = K..K+2 (wide) or 1..K-1 (narrow), "
            "lambda_W = 0 or in [0.1, 1]; H0 seeded half-integers, N - 1 > d",
            regimes=_central.REGIMES,
            regime_of=_central.regime_of,
        ),
        predict=_central.predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _central.symbolic,
                tol.EXACT,
                description="exact rational least-squares solve over [W b] vs the exact formula",
            ),
            "convex": Route(
                "convex",
                _central.convex,
                tol.CONVEX_CLARABEL,
                max_points=4,
                description="cvxpy least-squares program over (W, b) (Clarabel)",
            ),
            "dynamic": Route(
                "dynamic",
                _central.dynamic,
                tol.CENTRAL_PATH_DESCENT,
                max_points=8,
                description="renormalized descent of H with (W, b) re-solved each step: start "
                "value, end value, trace and NC1",
            ),
        },
        proof="proofs/central_path.py",
    )
)

# --------------------------------------------------------------------------------------------------
# mse.min-norm-interpolant: the minimum-norm interpolant of the labels (claim in _minnorm.py)

from . import _minnorm  # noqa: E402 - appended registration, kept apart from the other claims

register(_minnorm.CLAIM)
