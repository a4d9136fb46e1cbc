r"""Pieces of ``mse.central-path`` (Han, Papyan & Donoho 2022), registered from ``mse.py``.

The claim (balanced classes, n per class, N = nK; covariances normalized by 1/N about the global
mean :math:`\mu_G`: :math:`\Sigma_T = \frac1N\sum_i(h_i - \mu_G)(h_i - \mu_G)^\top
= \Sigma_W + \Sigma_B`, :math:`\Sigma_B = \frac1K\sum_k(\mu_k - \mu_G)(\mu_k - \mu_G)^\top`):

1. for any features H, :math:`\min_{W,b}\frac1{2N}\|WH + b\mathbf 1^\top - Y\|_F^2
   + \frac\lambda2\|W\|_F^2 = \frac1{2K}[K - 1 - \mathrm{tr}((\Sigma_T + \lambda I)^{+}\Sigma_B)]`
   (``proofs/central_path.py``; imbalanced classes: :func:`ufm.minimizers.central_path_loss`);
2. on the sphere :math:`\mathrm{tr}\,\Sigma_T = \tau` (the renormalized flow keeps it),
   :math:`\mathrm{tr}((\Sigma_T + \lambda I)^{+}\Sigma_B) \le r/(1 + \lambda r/\tau)`,
   :math:`r = \min(d, K - 1)` (derived here: :math:`(\Sigma_T + \lambda I)^{-1/2}\Sigma_B
   (\Sigma_T + \lambda I)^{-1/2}` has rank <= r and lies below
   :math:`(\Sigma_T + \lambda I)^{-1/2}\Sigma_T(\Sigma_T + \lambda I)^{-1/2}`, so its trace is at
   most the sum of the r largest :math:`t_j/(t_j + \lambda)`, :math:`t_j` the eigenvalues of
   :math:`\Sigma_T`, and by concavity :math:`\le r\,\frac{\tau/r}{\tau/r + \lambda}`), with
   equality iff :math:`\Sigma_W = 0` and :math:`\Sigma_B` has r eigenvalues :math:`\tau/r` when
   lambda > 0. At lambda = 0 the bound r is attained iff :math:`\Sigma_W = 0` when d <= K - 1,
   but when d >= K also by features whose within-class variation is annihilated by the
   least-squares W (no NC1 is predicted there);
3. the renormalized descent of :func:`ufm.dynamics.central_path_descent` reaches that bound
   (measured from every sampled start; the landscape is not proved benign here): the value tends to
   :math:`\frac1{2K}[K - 1 - r/(1 + \lambda r/\tau)]` and NC1 to 0.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

#: Regimes: no weight decay / weight decay, times d >= K ('wide') / d <= K - 1 ('narrow').
REGIMES = ("ridgeless-wide", "ridgeless-narrow", "ridge-wide", "ridge-narrow")


def sample(point: dict) -> dict:
    """d (K..K+2 wide, 1..K-1 narrow), lambda_W (0 or ``lam``), class sizes and the seeded start
    H0: integers in [-4, 4] halved (exact in binary, so sympy sees the same features)."""
    K = point["K"]
    wide = point["width"] == "wide"
    d = K + point["extra"] if wide else 1 + point["extra"] % (K - 1)
    H0 = np.random.default_rng(point["seed"]).integers(-4, 5, (d, point["n"] * K)) / 2
    return {
        "d": d,
        "class_sizes": (point["n"],) * K,
        "lambda_W": 0.0 if point["ridge"] == "ridgeless" else point["lam"],
        "H0": H0,
    }


def nontrivial(point: dict) -> bool:
    """N - 1 > d (a generic start does not already fit the labels exactly at lambda = 0) and the
    class means of the start are distinct."""
    H0, K = point["H0"], point["K"]
    means = H0.reshape(point["d"], K, point["n"]).mean(axis=2)
    return point["n"] * K - 1 > point["d"] and np.linalg.matrix_rank(means - means[:, :1]) > 0


def regime_of(point: dict) -> str:
    return f"{point['ridge']}-{point['width']}"


def predict(point: dict) -> dict:
    r"""Exact (sympy, rational H0 and lambda): ``value`` the formula at H0, ``limit`` and
    ``trace`` the end of the renormalized flow, :math:`\frac1{2K}[K - 1 - t]` and
    :math:`t = r/(1 + \lambda r/\tau)`, ``nc1`` 0 (left out at lambda = 0, d >= K)."""
    K, n = point["K"], point["n"]
    N = n * K
    H = sp.Matrix(point["H0"]).applyfunc(sp.Rational)
    lam = sp.Rational(point["lambda_W"])
    mu_G = H * sp.ones(N, 1) / N
    Hc = H - mu_G * sp.ones(1, N)
    sigma_T = Hc * Hc.T / N
    sigma_B = sp.zeros(point["d"], point["d"])
    for k in range(K):
        m = Hc[:, k * n : (k + 1) * n] * sp.ones(n, 1) / n
        sigma_B += m * m.T / K
    ridge = sigma_T + lam * sp.eye(point["d"])
    A = ridge.pinv() if lam == 0 else ridge.inv()
    tau = sigma_T.trace()
    r = min(point["d"], K - 1)
    t = r / (1 + lam * r / tau)
    out = {
        "value": sp.nsimplify((K - 1 - (A * sigma_B).trace()) / (2 * K)),
        "limit": (K - 1 - t) / (2 * K),
        "trace": t,
    }
    if regime_of(point) != "ridgeless-wide":
        out["nc1"] = sp.Integer(0)
    return out


def symbolic(point: dict) -> dict:
    """The exact rational least-squares solve of :func:`ufm.minimizers.least_squares_classifier`
    (normal equations in [W b], pseudo-inverse), its objective value."""
    from ...minimizers import least_squares_classifier

    args = (point["H0"], point["class_sizes"], point["lambda_W"])
    return {"value": least_squares_classifier(*args, exact=True)[2]}


def convex(point: dict) -> dict:
    """The cvxpy least-squares program over (W, b) (Clarabel)."""
    from ...relaxations import least_squares_program

    return {"value": least_squares_program(point["H0"], point["class_sizes"], point["lambda_W"])}


def dynamic(point: dict) -> dict:
    """Renormalized descent on the central path from H0: the start value, the end value, the
    trace tr((Sigma_T + lambda I)^+ Sigma_B) and NC1 at the end."""
    from ...dynamics import central_path_descent

    r = central_path_descent(point["H0"], point["class_sizes"], point["lambda_W"])
    return {"value": r.objective[0], "limit": r.objective[-1], "trace": r.trace, "nc1": r.nc1}
