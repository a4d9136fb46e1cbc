"""Family ``mse``: the global minimizers of the regularized MSE UFM, one claim per bias mode."""

from __future__ import annotations

import math

import numpy as np

from ._common import centring
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
