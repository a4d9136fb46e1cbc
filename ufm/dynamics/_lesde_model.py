r"""The linear locally elastic SDE of Zhang, Wang & Su [1]_: the model and its modal coordinates.

What is the paper's, what was read where
-----------------------------------------
The paper's text was not readable from this project (only its abstract). The model below follows
the authors' public code ``zjiayao/le_sde`` [2]_, read for this module: ``src/utils.py``
``fwd_euler`` steps the class-mean logits (K = 3) by

.. math:: \bar X_c \leftarrow \bar X_c + \tfrac1K\Big[\hat a\,\Pi_c\bar X_c
          + \hat b\sum_{c'\ne c}\Pi_{c'}\bar X_{c'}\Big],\qquad
          \Pi_c = \frac{u_cu_c^\top}{\|u_c\|^2},\quad u_c = e_c - \tfrac1K\mathbf 1,

(the "L" model), and ``src/data_analyzer.py`` ``estimate_AB_I`` inverts the same recursion with
:math:`\Pi_c = I` (the "I" model: the class average grows like :math:`e^{(A + (K-1)B)/K}`, the
deviations of the class means from it like :math:`e^{(A-B)/K}`), ``estimate_AB_L`` inverts the L
model along :math:`\sum_c u_c\otimes u_c` and one contrast direction. Both drifts are **linear and
homogeneous** in the features. The per-sample SDE with Brownian noise, general K and d, and the
learning-rate scaling are *derived here* from that drift (issue 10's statement of the model):

.. math::
   dx_i = \frac1N\sum_{j=1}^N E_{y_iy_j}(t)\,\Pi_{y_j}x_j\,dt + \sqrt\eta\,\sigma(t)\,dB_i,
   \qquad E(t) = (\alpha(t)-\beta(t))I + \beta(t)\mathbf 1\mathbf 1^\top,
   \qquad x_i(0)\sim\mathcal N(0, s^2 I_d)\ \text{i.i.d.}

with :math:`x_i\in\mathbb R^d`, K balanced classes of n samples (N = Kn), :math:`B_i` independent
standard Brownian motions in :math:`\mathbb R^d`. ``I`` model: :math:`\Pi_c = I_d` (any d >= 1).
``L`` model: :math:`\Pi_c` projects onto :math:`u_c` placed in the first K coordinates (the logits;
d >= K; for d > K the remaining d - K coordinates are neither driven nor driving: pure diffusion).

Learning rate (derived here). One SGD step of size :math:`\eta` on a uniformly drawn sample j
moves :math:`x_i` by :math:`\eta E_{y_iy_j}\Pi_{y_j}x_j`; its mean over j is :math:`\eta` times the
drift above and its fluctuation has covariance :math:`\eta^2\Sigma`. Matching the first two moments
over the :math:`t/\eta` steps of a time interval t (the stochastic modified equation of Li, Tai & E
[3]_) gives time :math:`t = \eta\cdot\text{steps}` and diffusion :math:`\sqrt\eta\,\sigma`, with
:math:`\sigma` the SGD noise per unit step size. ``noise`` is that :math:`\sigma`, ``lr`` is
:math:`\eta` (default 1: diffusion = ``noise``).

Modal coordinates (derived here; ``proofs/lesde_modes.py``). The drift depends on i only through
:math:`y_i`, so with class means :math:`M = [m_0\ldots m_{K-1}]` (d x K) and deviations
:math:`\delta_i = x_i - m_{y_i}`:

* class means: :math:`dM = \mathcal A(M)\,dt + \tfrac{\sqrt\eta\sigma}{\sqrt n}dW`,
  :math:`\mathcal A(M)_c = \tfrac1K\sum_{c'}E_{cc'}\Pi_{c'}m_{c'}`; in the rotated coordinates
  :math:`Y = MQ_K` (:math:`Q_K` orthogonal, first column :math:`\mathbf 1/\sqrt K`: column 0 is the
  common mode, columns 1..K-1 the class contrasts) the I model is diagonal with rates
  :math:`(\alpha + (K-1)\beta)/K` (common) and :math:`(\alpha - \beta)/K` (contrasts);
* deviations: :math:`Z_c = \delta_cH_n` (:math:`H_n`: orthonormal basis of :math:`\mathbf 1^\perp`
  in :math:`\mathbb R^n`) obey :math:`dZ_c = \sqrt\eta\sigma\,dW`: no drift at all.

Simulating Y and Z instead of x keeps each mode at its own scale: at t = 60, alpha = 2, beta = 1,
K = 3 the common mode reaches 1e34 while the contrasts are 1e8, which float64 features x would lose.

References
----------
.. [1] Zhang, Wang & Su (2021), "Imitating deep learning dynamics via locally elastic stochastic
   differential equations", NeurIPS 34.
.. [2] github.com/zjiayao/le_sde, ``src/utils.py`` (``fwd_euler``), ``src/data_analyzer.py``
   (``estimate_AB_I``, ``estimate_AB_L``).
.. [3] Li, Tai & E (2017), "Stochastic modified equations and adaptive stochastic gradient
   algorithms", ICML, Thm 1 (weak order 1 approximation of SGD).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidParameter

MODELS = ("I", "L")


def helmert(n: int) -> np.ndarray:
    r"""Orthogonal n x n matrix whose first column is :math:`\mathbf 1/\sqrt n` (Helmert basis).

    Column k >= 1 is :math:`(1,\dots,1,-k,0,\dots,0)/\sqrt{k(k+1)}` (k ones): exact, no
    factorization.
    """
    Q = np.zeros((n, n))
    Q[:, 0] = 1.0 / math.sqrt(n)
    for k in range(1, n):
        Q[:k, k] = 1.0
        Q[k, k] = -float(k)
        Q[:, k] /= math.sqrt(k * (k + 1))
    return Q


@dataclass(frozen=True)
class ModeBlock:
    r"""A set of class-mean modes that evolve together and apart from all others.

    ``indices`` (R x m) lists R independent replicas of an m-dimensional mode vector (flat indices
    into Y, row-major d x K); every replica obeys :math:`dy = (\alpha G_\alpha + \beta G_\beta) y\,
    dt + \sqrt\eta\sigma/\sqrt n\, dW` with the m x m generators below.
    """

    name: str
    indices: np.ndarray
    G_alpha: np.ndarray
    G_beta: np.ndarray


def _projections(K: int, d: int) -> np.ndarray:
    """Pi_c (K x d x d): projection onto u_c = e_c - 1/K in the first K coordinates."""
    Pi = np.zeros((K, d, d))
    for c in range(K):
        u = np.zeros(d)
        u[:K] = -1.0 / K
        u[c] += 1.0
        Pi[c] = np.outer(u, u) / (u @ u)
    return Pi


def mean_drift(model: str, M: np.ndarray, E: np.ndarray) -> np.ndarray:
    r""":math:`\mathcal A(M)_c = \frac1K\sum_{c'}E_{cc'}\Pi_{c'}m_{c'}` (d x K) in the original
    coordinates (the authors' ``fwd_euler`` increment for d = K = 3)."""
    d, K = M.shape
    if model == "I":
        return M @ E / K
    Pi = _projections(K, d)
    PM = np.einsum("cij,jc->ic", Pi, M)
    return PM @ E / K


def mode_blocks(model: str, K: int, d: int) -> list[ModeBlock]:
    """The decoupled blocks of class-mean modes of ``model`` (module docstring)."""
    flat = np.arange(d * K).reshape(d, K)
    if model == "I":
        one = np.ones((1, 1))
        return [
            ModeBlock("common", flat[:, :1].reshape(-1, 1), one / K, (K - 1) * one / K),
            ModeBlock("contrast", flat[:, 1:].reshape(-1, 1), one / K, -one / K),
        ]
    Q = helmert(K)
    m = K * K
    G = {}
    for name, E in (("alpha", np.eye(K)), ("beta", np.ones((K, K)) - np.eye(K))):
        cols = []
        for index in range(m):
            Y = np.zeros((d, K))
            Y.flat[index] = 1.0
            cols.append((mean_drift("L", Y @ Q.T, E) @ Q)[:K].ravel())
        G[name] = np.array(cols).T
    blocks = [ModeBlock("logits", flat[:K].reshape(1, -1), G["alpha"], G["beta"])]
    if d > K:
        zero = np.zeros((1, 1))
        blocks.append(ModeBlock("other", flat[K:].reshape(-1, 1), zero, zero))
    return blocks


def assemble(blocks: list[ModeBlock], q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block-diagonal q x q generators A_alpha, A_beta and the block index of every mode."""
    A_alpha, A_beta = np.zeros((q, q)), np.zeros((q, q))
    block = np.empty(q, dtype=np.int64)
    for b, blk in enumerate(blocks):
        for row in blk.indices:
            A_alpha[np.ix_(row, row)] = blk.G_alpha
            A_beta[np.ix_(row, row)] = blk.G_beta
            block[row] = b
    return A_alpha, A_beta, block


def coefficient(name: str, value, *, nonneg: bool = False) -> Callable[[float], float] | float:
    """A coefficient: a finite number (>= 0 if ``nonneg``) or a callable of t, checked later."""
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise InvalidParameter(f"{name} must be a finite number or a callable of t, got {value!r}")
    if not math.isfinite(value) or (nonneg and value < 0):
        rule = "finite and >= 0" if nonneg else "finite"
        raise InvalidParameter(f"{name} must be {rule}, got {value}")
    return float(value)


def sample(name: str, value, times: np.ndarray, *, nonneg: bool = False) -> np.ndarray:
    """A coefficient on a time grid; callables must be finite (and >= 0 if ``nonneg``) there."""
    if not callable(value):
        return np.full(times.shape, float(value))
    values = np.array([value(float(t)) for t in times], dtype=float)
    if not np.all(np.isfinite(values)):
        raise InvalidParameter(f"{name}(t) must be finite on [0, time], got a non-finite value")
    if nonneg and np.any(values < 0):
        raise InvalidParameter(f"{name}(t) must be >= 0 on [0, time], got {values.min()}")
    return values


def check_model(model: str, K: int, d: int) -> None:
    if model == "L" and d < K:
        raise InvalidParameter(
            f"the L model needs d >= K (its projections act on the K logit coordinates), "
            f"got d={d}, K={K}"
        )


def to_modes(X: np.ndarray, K: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Features (P x d x N, grouped by class) -> (Y (P x dK), Z (P x K d (n-1)))."""
    P, d, _ = X.shape
    Xc = X.reshape(P, d, K, n)
    M = Xc.mean(axis=3)
    Y = (M @ helmert(K)).reshape(P, d * K)
    H = helmert(n)[:, 1:]
    Z = np.einsum("pjci,il->pcjl", Xc - M[..., None], H).reshape(P, -1)
    return Y, Z


def centred_features(
    Y: np.ndarray, log_scale: np.ndarray, Z: np.ndarray, K: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Centred features :math:`x_i - \bar x` from modes, scale-safe.

    ``Y`` (P x dK) holds :math:`Y_{\rm true} = e^{\rm log\_scale}Y` entrywise (log_scale P x dK,
    natural log), Z (P x K d (n-1)) is unscaled. The common mode (column 0 of Y) is dropped
    exactly (it is the global mean for balanced classes, since the deviations sum to zero).

    Returns
    -------
    X : ndarray, shape (P, d, N)
        :math:`e^{-\rm ref}(x_i - \bar x)`: entries O(largest mode).
    ref : ndarray, shape (P,)
        The natural log of the factor removed.
    """
    P, q = Y.shape
    d = q // K
    contrast = (np.arange(q) % K) != 0
    ref = np.maximum(0.0, np.where(contrast, log_scale, -np.inf).max(axis=1)) if K > 1 else 0
    ref = np.broadcast_to(ref, (P,)).astype(float)
    Yc = np.where(contrast, Y * np.exp(np.minimum(log_scale - ref[:, None], 0.0)), 0.0)
    M = Yc.reshape(P, d, K) @ helmert(K).T
    labels = np.repeat(np.arange(K), n)
    X = M[:, :, labels]
    if n > 1:
        H = helmert(n)[:, 1:]
        delta = np.einsum("pcjl,il->pjci", Z.reshape(P, K, d, n - 1), H).reshape(P, d, K * n)
        X = X + delta * np.exp(-ref)[:, None, None]
    return X, ref


def features(Y: np.ndarray, log_scale: np.ndarray, Z: np.ndarray, K: int, n: int) -> np.ndarray:
    """Raw features (P x d x N) from modes; entries beyond float64 come back as inf."""
    P, q = Y.shape
    d = q // K
    with np.errstate(over="ignore", invalid="ignore"):
        Ytrue = Y * np.exp(log_scale)
    M = Ytrue.reshape(P, d, K) @ helmert(K).T
    X = M[:, :, np.repeat(np.arange(K), n)]
    if n > 1:
        H = helmert(n)[:, 1:]
        X = X + np.einsum("pcjl,il->pjci", Z.reshape(P, K, d, n - 1), H).reshape(P, d, K * n)
    return X
