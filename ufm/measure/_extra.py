r"""Metrics beyond :func:`ufm.nc_metrics`, each with its formula, source and convention.

Notation as in :mod:`ufm.metrics`: class means :math:`\mu_k`, centred means
:math:`\tilde\mu_k = \mu_k - \mu_G` (global mean per the ``global_mean`` convention), unit vectors
:math:`u_k = \tilde\mu_k/\|\tilde\mu_k\|`, classifier rows :math:`w_k`. Pairwise quantities over
classes are reduced tile by tile (:func:`ufm.metrics.upper_products`,
:func:`ufm.metrics.pair_sq_distances`): memory O(K d) plus one tile, so K = 10^4 classes fit.
Every function returns ``None`` where the quantity is undefined (a zero norm, a zero mean in a
ratio, an overflow), never NaN.

References
----------
.. [1] Liu, Yu, Weller & Schoelkopf (2023), "Generalizing and decoupling neural collapse via
   hyperspherical uniformity gap", ICLR. GNC2, hyperspherical uniformity with the log and Riesz
   kernels; computed as in rhubarbwu/neural-collapse (``kernel_stats``): the mean or the variance
   of the kernel over pairs k < k', unit-normalized centred means, Riesz exponent s = d - 2.
.. [2] Wu & Papyan (2024), "Linguistic collapse: neural collapse in (large) language models",
   NeurIPS, Sec. 3.6 (uniform duality, UNC3). Two published computations disagree:
   rhubarbwu/neural-collapse takes the variance (torch's default, 1/(K-1)) of the dot products
   :math:`w_k^\top\tilde\mu_k`; felixsh/nc-toolbox (``unc3_uniform_duality``) takes the coefficient
   of variation (std/mean, 1/P) of the cosines :math:`\cos(w_k, \tilde\mu_{k'})` over k < k'.
.. [3] Ammar, Belkhir, Popescu, Manzanera & Franchi (2024), "NECO: neural collapse based
   out-of-distribution detection", ICLR. NC5, computed as in rhubarbwu/neural-collapse
   (``orthogonality_deviation``): :math:`\operatorname{avg}_k|\cos(\mu_k, \mu_G^{ood})|` with
   uncentred class means and the OOD global mean.
.. [4] Roy & Vetterli (2007), "The effective rank: a measure of effective dimensionality",
   EUSIPCO. :math:`\operatorname{erank} = \exp(-\sum_i p_i\log p_i)`, :math:`p_i =
   \sigma_i/\sum_j\sigma_j` over the singular values.
.. [5] Galanti, Gyorgy & Hutter (2022), "On the role of neural collapse in transfer learning",
   ICLR. CDNV on held-out classes (Def. 1, Prop. 5).
"""

from __future__ import annotations

import numpy as np

from ..geometry import helmert_basis
from ..metrics import RANK_RTOL, pair_sq_distances, upper_products

__all__ = [
    "effective_rank",
    "hyperspherical_uniformity",
    "unc3_dot_variance",
    "unc3_cosine_cov",
    "ood_orthogonality",
    "etf_procrustes_distance",
    "procrustes_distance",
    "GNC2_KERNELS",
    "GNC2_REDUCTIONS",
]

GNC2_KERNELS = ("log", "riesz")
GNC2_REDUCTIONS = ("variance", "mean")


def _unit_columns(X: np.ndarray) -> np.ndarray | None:
    norms = np.linalg.norm(X, axis=0)
    if norms.min() <= RANK_RTOL * norms.max(initial=0.0) or norms.max(initial=0.0) == 0:
        return None
    return X / norms


def effective_rank(sigma: np.ndarray) -> float | None:
    r"""Effective rank of a matrix from its singular values ([4]_).

    .. math:: \operatorname{erank} = \exp\Big(-\sum_i p_i\log p_i\Big),\qquad
              p_i = \frac{\sigma_i}{\sum_j \sigma_j}\quad(0\log 0 = 0)

    Between 1 (rank one) and the number of non-zero singular values (all equal).

    Parameters
    ----------
    sigma : array_like
        Singular values (>= 0).

    Returns
    -------
    float or None
        None for a zero matrix.

    Examples
    --------
    >>> round(effective_rank([1.0, 1.0, 1.0, 0.0]), 12)
    3.0
    """
    sigma = np.asarray(sigma, dtype=float)
    total = sigma.sum()
    if total <= 0:
        return None
    p = sigma[sigma > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def hyperspherical_uniformity(Mc: np.ndarray, kernel: str, reduction: str) -> float | None:
    r"""GNC2: hyperspherical uniformity of the centred class means ([1]_).

    .. math::
       \kappa_{\log}(u, v) = \log\frac{1}{\|u - v\|},\qquad
       \kappa_{\text{Riesz}}(u, v) = \operatorname{sign}(s)\,\|u - v\|^{-s},\ s = d - 2,

    over the unit vectors :math:`u_k = \tilde\mu_k/\|\tilde\mu_k\|`, reduced over the K(K-1)/2
    pairs k < k' to their mean or their (population) variance (``reduction``), as
    rhubarbwu/neural-collapse's ``kernel_stats``. Lower variance: more uniform.

    Parameters
    ----------
    Mc : ndarray, shape (d, K)
        Centred class means.
    kernel : {'log', 'riesz'}
    reduction : {'variance', 'mean'}

    Returns
    -------
    float or None
        None when two means coincide in direction or a Riesz value overflows float64.
    """
    U = _unit_columns(Mc)
    if U is None:
        return None
    d, K = Mc.shape
    s = d - 2
    pairs = K * (K - 1) // 2

    def values(dist2):
        if kernel == "log":
            return -0.5 * np.log(dist2)
        with np.errstate(over="ignore"):
            return np.sign(s) * dist2 ** (-s / 2) if s != 0 else np.ones_like(dist2)

    total = 0.0
    for _, _, D, mask in pair_sq_distances(U):
        dist2 = D[mask]
        if np.any(dist2 <= 0):
            return None
        v = values(dist2)
        if not np.all(np.isfinite(v)):
            return None
        total += float(v.sum())
    mean = total / pairs
    if reduction == "mean":
        return mean
    spread = sum(
        float(np.sum((values(D[mask]) - mean) ** 2)) for _, _, D, mask in pair_sq_distances(U)
    )
    return spread / pairs


def unc3_dot_variance(W: np.ndarray, Mc: np.ndarray) -> float:
    r"""UNC3, uniform duality as computed by rhubarbwu/neural-collapse ([2]_).

    .. math:: \mathrm{UNC3}_{\text{dot}} = \frac{1}{K-1}\sum_k (a_k - \bar a)^2,\qquad
              a_k = w_k^\top\tilde\mu_k

    In the units of W and the features (not scale-free: rescale both to compare runs).

    Parameters
    ----------
    W : ndarray, shape (K, d)
    Mc : ndarray, shape (d, K)
    """
    a = np.einsum("kj,jk->k", W, Mc)
    return float(np.var(a, ddof=1))


def unc3_cosine_cov(W: np.ndarray, Mc: np.ndarray) -> float | None:
    r"""UNC3, uniform duality as computed by felixsh/nc-toolbox ([2]_).

    .. math:: \mathrm{UNC3}_{\cos} = \frac{\operatorname{std}_{k<k'} c_{kk'}}
              {\operatorname{mean}_{k<k'} c_{kk'}},\qquad
              c_{kk'} = \cos(w_k, \tilde\mu_{k'})

    (population std over the K(K-1)/2 pairs). None when a norm or the mean cosine vanishes.

    Parameters
    ----------
    W : ndarray, shape (K, d)
    Mc : ndarray, shape (d, K)
    """
    A, B = _unit_columns(W.T), _unit_columns(Mc)
    if A is None or B is None:
        return None
    K = W.shape[0]
    pairs = K * (K - 1) // 2
    mean = sum(float(G[mask].sum()) for _, _, G, mask in upper_products(A, B)) / pairs
    spread = (
        sum(float(np.sum((G[mask] - mean) ** 2)) for _, _, G, mask in upper_products(A, B)) / pairs
    )
    if abs(mean) <= RANK_RTOL:
        return None
    return float(np.sqrt(spread) / mean)


def ood_orthogonality(M: np.ndarray, mean_ood: np.ndarray) -> float | None:
    r"""NC5: average absolute cosine between the class means and the OOD global mean ([3]_).

    .. math:: \mathrm{NC5} = \frac1K\sum_k |\cos(\mu_k, \mu_G^{ood})|

    Parameters
    ----------
    M : ndarray, shape (d, K)
        Uncentred class means of the in-distribution features.
    mean_ood : ndarray, shape (d,)
        Mean of the out-of-distribution features.
    """
    U = _unit_columns(M)
    norm = np.linalg.norm(mean_ood)
    if U is None or norm <= RANK_RTOL * np.abs(M).max(initial=0.0):
        return None
    return float(np.mean(np.abs(U.T @ (mean_ood / norm))))


def procrustes_distance(X: np.ndarray, Y: np.ndarray) -> float | None:
    r"""Distance from X to Y up to scale and an orthogonal embedding (orthogonal Procrustes).

    .. math::
       \min_{Q^\top Q = I_r}\Big\|\frac{X}{\|X\|_F} - Q\frac{Y}{\|Y\|_F}\Big\|_F
       = \sqrt{2 - 2\,\frac{\|XY^\top\|_*}{\|X\|_F\,\|Y\|_F}}

    over the d x r matrices Q with orthonormal columns (d >= r): expanding the square leaves
    :math:`\max_Q\operatorname{tr}(Q^\top XY^\top) = \|XY^\top\|_*`, attained at
    :math:`Q = UV^\top` from the SVD :math:`XY^\top = U\Sigma V^\top` (Schoenemann 1966; derived
    here for the rectangular case). Between 0 (same vectors up to scale and rotation) and
    :math:`\sqrt 2`. Near zero the square root amplifies rounding to ~1e-8.

    Parameters
    ----------
    X : ndarray, shape (d, K)
        Measured vectors as columns.
    Y : ndarray, shape (r, K)
        Reference vectors as columns, in their own r-dimensional coordinates.

    Returns
    -------
    float or None
        None if d < r or either matrix is zero.
    """
    d, r = X.shape[0], Y.shape[0]
    nX, nY = np.linalg.norm(X), np.linalg.norm(Y)
    if d < r or nX == 0 or nY == 0:
        return None
    nuclear = float(np.linalg.svd((X / nX) @ (Y / nY).T, compute_uv=False).sum())
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * nuclear)))


def etf_procrustes_distance(X: np.ndarray) -> float | None:
    r"""Distance from X to the nearest simplex ETF, up to scale and rotation (derived here).

    .. math::
       \min_{Q^\top Q = I_{K-1}} \Big\|\frac{X}{\|X\|_F} - QE\Big\|_F
       = \sqrt{2 - \frac{2}{\sqrt{K-1}}\,\|X P\|_*\,/\,\|X\|_F},\qquad P = I - \tfrac1K\mathbf 1
       \mathbf 1^\top,

    :func:`procrustes_distance` to the unit-Frobenius ETF :math:`E/\sqrt{K-1}` with E the Helmert
    basis (:func:`ufm.geometry.helmert_basis`, :math:`E^\top E = P`), since
    :math:`XE^\top EX^\top = XPX^\top`. Needs d >= K - 1. Unlike ``etf_distance_*`` (which
    compares Gram matrices) this compares the vectors themselves, up to a rotation.

    Parameters
    ----------
    X : ndarray, shape (d, K)
        Class means (centred or not: the centring matrix P is applied) or classifier rows as
        columns.

    Returns
    -------
    float or None
        None if d < K - 1 or X = 0.
    """
    return procrustes_distance(X, helmert_basis(X.shape[1]))
