r"""The claim ``mse.min-norm-interpolant`` (registered from ``mse.py``).

Minimum-norm interpolation of the one-hot labels Y (K x N, classes of sizes n_k, N = sum n_k,
D = diag(n)) by the unregularized UFM (derived here, ``proofs/min_norm_interpolant.py``; consistent
with Mixon, Parshall & Pi 2020, whose gradient flow reaches "strong neural collapse"
W W^T = sqrt(n)(I - 11^T/K), b = 1/K for balanced classes):

.. math:: \min_{W,H,b}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\ WH + b\mathbf 1^\top = Y
          \;=\; \|\hat Y\|_*,\qquad \hat Y = (I - \mathbf n\mathbf 1^\top/N)D^{1/2}
          \ \text{(free bias)},\ D^{1/2}\ \text{(no bias)},

attained uniquely (up to rotation) with b = n/N, class logits W M = I - n 1^T/N (I without bias),
W W^T = (Yhat Yhat^T)^(1/2) and M^T M = D^(-1/2) (Yhat^T Yhat)^(1/2) D^(-1/2); for balanced
classes the value is sqrt(n)(K - 1) with a simplex ETF (free bias) and sqrt(n) K with an
orthogonal frame (no bias).
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from ...metrics import class_means, gram_invariants
from ...problem import Problem
from .._core import Choice, Claim, Domain, IntRange, Route
from ._common import yhat

REGIMES = tuple(f"{s}, bias {b}" for s in ("balanced", "imbalanced") for b in ("free", "none"))


def _sizes(point) -> dict:
    """Class sizes from the seed: one size 1..n_max for every class ('balanced'), or sizes
    1..n_max per class redrawn until two differ ('imbalanced'); d = K + extra_d."""
    rng = np.random.default_rng(point["seed"])
    K, hi = point["K"], point["n_max"]
    if point["sizes"] == "balanced":
        sizes = (int(rng.integers(1, hi + 1)),) * K
    else:
        sizes = (1,) * K
        while len(set(sizes)) == 1:
            sizes = tuple(int(x) for x in rng.integers(1, hi + 1, K))
    return {"class_sizes": sizes, "d": K + point["extra_d"]}


def _psd_sqrt(G: np.ndarray) -> np.ndarray:
    """G^(1/2) of a symmetric PSD matrix by its eigendecomposition. Eigenvalues below 1e-12 of
    the largest are the exact zeros of Yhat Yhat^T (the centred direction) left as rounding
    (~1e-16), set to 0 before the square root would blow them up to ~1e-8; the nonzero ones are
    sigma_i^2 >= n_min >= 1 against a largest <= N."""
    vals, vecs = np.linalg.eigh((G + G.T) / 2)
    vals[vals < 1e-12 * vals.max()] = 0.0
    return (vecs * np.sqrt(vals)) @ vecs.T


def predict(point) -> dict:
    """The theorem literally: value tr (Yhat Yhat^T)^(1/2), the two Gram square roots, W M =
    I - n 1^T/N (free) or I, b = n/N (free only)."""
    n = np.asarray(point["class_sizes"], dtype=float)
    K, N = n.size, n.sum()
    Y = yhat(point["class_sizes"], point["bias"])
    gram_W = _psd_sqrt(Y @ Y.T)
    Dmh = np.diag(1 / np.sqrt(n))
    out = {
        "objective": float(np.trace(gram_W)),
        "WWt": gram_W,
        "MtM": Dmh @ _psd_sqrt(Y.T @ Y) @ Dmh,
        "WM": np.eye(K) - (np.outer(n, np.ones(K)) / N if point["bias"] == "free" else 0.0),
    }
    if point["bias"] == "free":
        out["b"] = n / N
    return out


def _measured(point, objective, gram_W, gram_M, WM, b) -> dict:
    out = {"objective": objective, "WWt": gram_W, "MtM": gram_M, "WM": WM}
    if point["bias"] == "free":
        out["b"] = b
    return out


def _symbolic(point):
    """ufm.minimizers.min_norm_interpolant: the lambda -> 0 limit of global_minimizer."""
    from ...minimizers import min_norm_interpolant

    r = min_norm_interpolant(point["class_sizes"], point["bias"])
    return _measured(point, r.objective, r.gram_W, r.gram_M, r.WM, r.b)


def _convex(point):
    """The (K + N)-side SDP of the nuclear norm over the sample logits; W M = class means of Z."""
    from ...relaxations import min_norm_interpolation

    r = min_norm_interpolation(point["class_sizes"], point["bias"])
    n = np.asarray(point["class_sizes"], dtype=float)
    WM = r.Z @ np.eye(n.size)[np.repeat(np.arange(n.size), point["class_sizes"])] / n
    return _measured(point, r.objective, r.gram_W, r.gram_M, WM, r.b)


def _dynamic(point):
    """Unregularized gradient flow from W, H, b ~ N(0, eps^2) (eps = MIN_NORM_INIT_SCALE) up to
    T = 3 N log(1/eps)/sigma_min: the norm (||W||^2 + ||H||^2)/2 and the Grams at its end."""
    from ...dynamics import gradient_flow

    sizes = point["class_sizes"]
    p = Problem(
        loss="mse", K=len(sizes), d=point["d"], class_sizes=sizes, lambda_W=0.0, lambda_H=0.0,
        bias=point["bias"],
    )  # fmt: skip
    sigma = np.linalg.svd(yhat(sizes, point["bias"]), compute_uv=False)
    sigma_min = sigma[sigma > 1e-9 * sigma[0]].min()
    eps = tol.MIN_NORM_INIT_SCALE
    T = 3 * p.N * math.log(1 / eps) / sigma_min
    r = gradient_flow(
        p, time_horizon=T, seed=point["seed"], init_scale=eps, rtol=1e-10, atol=1e-14, records=2
    )
    M, _ = class_means(r.H, p.labels, p.K)
    g = gram_invariants(r.W, M)
    norm = 0.5 * (float(np.sum(r.W**2)) + float(np.sum(r.H**2)))
    return _measured(point, norm, g["WWt"], g["MtM"], g["WM"], r.b)


CLAIM = Claim(
    id="mse.min-norm-interpolant",
    citation="derived here (proofs/min_norm_interpolant.py); consistent with Mixon, Parshall & Pi "
    "2020 (strong neural collapse of the unregularized flow)",
    statement="The minimum of (||W||^2 + ||H||^2)/2 subject to W H + b 1^T = Y (one-hot labels, "
    "any class sizes, d >= K) is the nuclear norm of Yhat = (I - n 1^T/N) D^(1/2) (free bias) or "
    "D^(1/2) (no bias), attained with b = n/N, W M = Y's class logits minus b, "
    "W W^T = (Yhat Yhat^T)^(1/2), M^T M = D^(-1/2)(Yhat^T Yhat)^(1/2) D^(-1/2): for balanced "
    "classes sqrt(n)(K - 1) with a simplex ETF, or sqrt(n) K with an orthogonal frame; "
    "unregularized gradient flow from a small start converges to it.",
    domain=Domain(
        {
            "K": IntRange(2, 4, fast_hi=3),
            "n_max": IntRange(2, 4, fast_hi=3),
            "extra_d": IntRange(0, 1),
            "sizes": Choice(("balanced", "imbalanced")),
            "bias": Choice(("free", "none")),
            "seed": IntRange(0, 10**6),
        },
        derive=_sizes,
        description="K 2..4, class sizes 1..n_max (all equal, or at least two different), bias "
        "free or none, d = K + 0..1",
        regimes=REGIMES,
        regime_of=lambda p: f"{p['sizes']}, bias {p['bias']}",
    ),
    predict=predict,
    routes={
        "symbolic": Route(
            "symbolic",
            _symbolic,
            tol.CLOSED_FORM,
            description="min_norm_interpolant: Richardson limit lambda -> 0 of global_minimizer "
            "(exact: affine in lambda below the smallest singular value)",
        ),
        "convex": Route(
            "convex",
            _convex,
            tol.CONVEX_ARGMIN,
            max_points=4,
            key_tolerances={"objective": tol.CONVEX_CLARABEL},
            description="(K + N)-side SDP of the nuclear norm over the sample logits (Clarabel)",
        ),
        "dynamic": Route(
            "dynamic",
            _dynamic,
            tol.FLOW_INTERPOLANT,
            max_points=4,
            description="unregularized gradient flow (RK45) from scale MIN_NORM_INIT_SCALE",
        ),
    },
    proof="proofs/min_norm_interpolant.py",
)
