r"""Exact optima of losses on spheres (sympy): normalized-feature CE and full-batch SupCon.

Both follow one lower-bound chain, derived here (consistent with Lu & Steinerberger 2020, Graf et
al. 2021 [2]_ and Yaras et al. 2022 [1]_, whose statements we could read only as abstracts):
Jensen's inequality inside each log-sum-exp (the exponential is convex), Jensen again across
samples (:math:`\phi(x) = \log(c + be^x)` is convex and increasing), and a norm bound on the
resulting linear function of the Gram matrix; equality holds exactly at a simplex ETF.

**Normalized CE** (W rows and features on the unit sphere, temperature tau, balanced classes,
:math:`a_k = s - Kw_k`, :math:`s = \sum_j w_j`, collapsed features h_k):

.. math:: \frac1K\sum_k\log\sum_j e^{(w_j - w_k)^\top h_k/\tau}
          \ \ge\ \phi\Big(\frac{\sum_k a_k^\top h_k}{K(K-1)\tau}\Big)
          \ \ge\ \phi\Big(\frac{-\sqrt{K(K^3 - K\|s\|^2)}}{K(K-1)\tau}\Big)
          \ \ge\ \phi\Big(-\frac{K}{(K-1)\tau}\Big),\quad \phi(x) = \log(1 + (K-1)e^x),

using :math:`\sum_k\|a_k\|^2 = K^3 - K\|s\|^2` and Cauchy-Schwarz. (Collapse is without loss:
for fixed W the samples' terms are separate.)

**SupCon** (radius rho, n >= 2 samples per class, class sums S_k, total S, :math:`T = \sum_k
\|S_k\|^2`): with :math:`x_i` the mean negative Gram entry minus the mean positive one of anchor i,

.. math:: \mathcal L_{SC} \ge \frac1N\sum_i\psi(x_i) \ge \psi\Big(\frac1N\sum_i x_i\Big),\quad
          \frac1N\sum_i x_i = \frac1N\Big(\frac{\|S\|^2 - T}{n(K-1)} - \frac{T - N\rho^2}{n-1}\Big),
          \quad \psi(x) = \log(n - 1 + n(K-1)e^x),

minimized over :math:`0 \le \|S\|^2 \le KT`, :math:`0 \le T \le Kn^2\rho^2` at
:math:`\|S\|^2 = 0, T = Kn^2\rho^2`: class collapse onto a centred, equal-norm frame.

The functions below return both sides of each claim as exact sympy numbers: the loss *at* the
simplex-ETF configuration (computed entry by entry from the exact ETF Gram matrix of
:func:`ufm.geometry.etf_gram`) and the *bound* from the chain; they coincide, which proves the ETF
optimal. The runnable derivations are ``proofs/sphere_normalized_ce.py`` and
``proofs/supcon_simplex.py``.

References
----------
.. [1] Yaras, Wang, Zhu, Balzano & Qu (2022), "Neural collapse with normalized features: a
   geometric analysis over the Riemannian manifold", NeurIPS.
.. [2] Graf, Hofer, Niethammer & Kwitt (2021), "Dissecting supervised contrastive learning", ICML.
"""

from __future__ import annotations

import sympy as sp

from ._validation import check_int, check_positive
from .geometry import etf_gram

__all__ = ["normalized_ce_optimum", "supcon_optimum"]


def _exact(name: str, value) -> sp.Rational:
    return sp.Rational(check_positive(name, value))


def normalized_ce_optimum(K: int, tau) -> dict[str, sp.Expr]:
    r"""Normalized-feature CE on unit spheres, balanced classes, d >= K - 1: the loss of the
    simplex ETF with :math:`h_{k,i} = w_k`, and the lower bound of the chain (module docstring).

    .. math:: \min\ \frac1N\sum_{k,i}\mathcal L_{CE}(Wh_{k,i}/\tau, k)
              = \log\big(1 + (K-1)e^{-K/((K-1)\tau)}\big)

    Parameters
    ----------
    K : int
        Number of classes, >= 2.
    tau : float or sympy number
        Temperature, > 0 (floats are taken as their exact binary value).

    Returns
    -------
    dict
        ``{'objective': loss at the ETF, 'lower_bound': end of the chain}``, exact.

    Raises
    ------
    InvalidParameter
        K < 2 or tau <= 0.

    Examples
    --------
    >>> out = normalized_ce_optimum(3, 1)
    >>> bool(sp.simplify(out['objective'] - out['lower_bound']) == 0)
    True
    """
    K = check_int("K", K, 2)
    tau = _exact("tau", tau)
    G = etf_gram(K, exact=True)
    # h_k = w_k: the logits of class k are column k of the unit ETF Gram over tau
    objective = (
        sum(sp.log(sum(sp.exp((G[j, k] - G[k, k]) / tau) for j in range(K))) for k in range(K)) / K
    )
    s2 = sp.Symbol("s2", nonnegative=True)  # ||sum_k w_k||^2, between 0 and K^2
    linear = -sp.sqrt(K * (K**3 - K * s2))
    smallest = sp.minimum(linear, s2, sp.Interval(0, K**2))
    bound = sp.log(1 + (K - 1) * sp.exp(smallest / (K * (K - 1) * tau)))
    return {"objective": sp.simplify(objective), "lower_bound": sp.simplify(bound)}


def supcon_optimum(K: int, n: int, rho) -> dict[str, sp.Expr]:
    r"""Full-batch SupCon on the sphere of radius rho, K classes of n >= 2 samples, d >= K - 1:
    the loss of class collapse onto a simplex ETF, and the lower bound of the chain (module
    docstring).

    .. math:: \min\ \mathcal L_{SC} = \log\big(n - 1 + n(K-1)e^{-\rho^2K/(K-1)}\big)

    Parameters
    ----------
    K : int
        Number of classes, >= 2.
    n : int
        Samples per class, >= 2.
    rho : float or sympy number
        Radius, > 0.

    Returns
    -------
    dict
        ``{'objective': loss at the collapsed ETF, 'lower_bound': end of the chain}``, exact.

    Raises
    ------
    InvalidParameter
        K < 2, n < 2 or rho <= 0.

    Examples
    --------
    >>> out = supcon_optimum(2, 2, 1)
    >>> bool(sp.simplify(out['objective'] - sp.log(1 + 2 * sp.exp(-2))) == 0)
    True
    """
    K = check_int("K", K, 2)
    n = check_int("n", n, 2)
    rho = _exact("rho", rho)
    N = K * n
    G = etf_gram(K, exact=True) * rho**2
    labels = [i // n for i in range(N)]
    # every anchor i: denominator over a != i, positives the n - 1 other samples of its class
    terms = []
    for i in range(N):
        others = [a for a in range(N) if a != i]
        lse = sp.log(sum(sp.exp(G[labels[i], labels[a]]) for a in others))
        positives = [G[labels[i], labels[p]] for p in others if labels[p] == labels[i]]
        terms.append(lse - sum(positives) / len(positives))
    objective = sum(terms) / N
    S2, T = sp.symbols("S2 T", nonnegative=True)
    mean_x = ((S2 - T) / (n * (K - 1)) - (T - N * rho**2) / (n - 1)) / N
    top = K * n**2 * rho**2
    # linear in (S2, T): its minimum over the polygon is at a vertex
    vertices = ((0, 0), (0, top), (K * top, top))
    smallest = sp.Min(*(mean_x.subs({S2: a, T: b}) for a, b in vertices))
    bound = sp.log(n - 1 + n * (K - 1) * sp.exp(smallest))
    return {"objective": sp.simplify(objective), "lower_bound": sp.simplify(bound)}
