r"""The cross-entropy-gradient variant of the LE-SDE (``model='ce'``): derived here; not the paper's
model.

This was ufm's LE-SDE before issue 10 and stays as a named variant. Its drift is the cross-entropy
gradient through a fixed readout: nonlinear and saturating, unlike the linear drift of the authors'
code (:mod:`ufm.dynamics._lesde_model`). Model (derived here from the description of Zhang, Wang &
Su 2021 [1]_). Sample i has class :math:`y_i \in \{0..K-1\}` and features :math:`x_i(t) \in
\mathbb R^d`; its logits are :math:`z_i = W_0 x_i` with a *fixed* readout :math:`W_0` (K x d):

* :math:`d \ge K`: :math:`W_0 = [I_K\ 0]`, the logits are the first K feature coordinates (for
  d = K the features *are* the logits, the paper's setting);
* :math:`d = K - 1`: the rows of :math:`W_0` are a simplex ETF with :math:`W_0 W_0^\top = I -
  \mathbf 1\mathbf 1^\top/K`, which loses nothing because cross-entropy is invariant to adding a
  constant to all logits;
* :math:`d < K - 1` is refused (the readout could not represent every class direction).

An SGD step of size :math:`\eta` on sample j moves the features of sample i by :math:`\eta E_{y_i
y_j} \cdot (-\nabla_x\ell(x_j, y_j))`, with the local-elasticity matrix :math:`E(t) = (\alpha(t) -
\beta(t)) I + \beta(t)\mathbf 1\mathbf 1^\top` (intra-class impact :math:`\alpha`, inter-class
impact :math:`\beta`). Averaging over a uniformly drawn j and letting :math:`t =
\eta\cdot\text{steps}` gives the drift; SGD's sampling fluctuation is modelled by independent
Brownian motions :math:`B_i` in :math:`\mathbb R^d`:

.. math::
   dx_i = \frac1N\sum_{j=1}^N E_{y_i y_j}(t)\, W_0^\top\big(e_{y_j}
          - \mathrm{softmax}(W_0 x_j)\big)\,dt
          + \sigma\, dB_i(t), \qquad x_i(0) \sim \mathcal N(0, s^2 I_d)\ \text{i.i.d.}

(:math:`-\nabla_x \ell_{CE}(x, y) = W_0^\top(e_y - \mathrm{softmax}(W_0 x))`). The drift depends on
i only through its class, so within-class deviations are driven by the noise alone.

Linearized noiseless LE-ODE. At small logits :math:`\mathrm{softmax}(z) = \mathbf 1/K + Pz/K +
O(|z|^2)` with :math:`P = I - \mathbf 1\mathbf 1^\top/K`, so :math:`-\nabla\ell(x, y) \approx
W_0^\top[(e_y - \mathbf 1/K) - P W_0 x/K]`. The class means :math:`M = [m_0 \dots m_{K-1}]` (d x K)
then solve the closed linear ODE

.. math:: \dot M = W_0^\top C\,\Gamma - \tfrac1K W_0^\top P W_0\, M\,\Gamma,\qquad
          \Gamma_{k'k} = E_{k k'}\,\frac{n_{k'}}{N},\quad C = P,

and each sample follows its class: :math:`x_i(t) = x_i(0) + m_{y_i}(t) - m_{y_i}(0)`. Solved by the
matrix exponential of the affine system (:func:`le_ode_mean`); for balanced classes and
:math:`M(0)=0`, class k starts along :math:`(\alpha-\beta)(e_k - \mathbf 1/K)/K`: towards its own
logit when :math:`\alpha>\beta`, away from it when :math:`\alpha<\beta`. That is the phase
transition; ``proofs/le_ode.py`` derives it in sympy.

Separability. This variant's own criterion is the readout's: every sample is classified
correctly by :math:`W_0`, :math:`\arg\max_k (W_0 x_i)_k = y_i` strictly (``criterion='readout'``,
its default). Under linear separability by *some* affine classifier (``criterion='linear'``, the
criterion of the I and L models) the classes of this variant are separable on both sides of
:math:`\alpha = \beta` (for :math:`\alpha < \beta` they form a *reversed* simplex), which is why
the readout criterion was introduced for it; the linear models of the paper's code show the
transition in the ordinary linear sense instead.

References
----------
.. [1] Zhang, Wang & Su (2021), "Imitating deep learning dynamics via locally elastic stochastic
   differential equations", NeurIPS 34.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .._limits import check_euler_run
from .._validation import check_int, check_matrix, check_nonneg, check_positive
from ..errors import InvalidParameter
from . import _kernels
from . import _lesde_model as mdl
from ._chunks import chunks

__all__ = ["readout", "simulate_ce", "le_ode_mean"]


def readout(K: int, d: int) -> np.ndarray:
    r"""The fixed readout :math:`W_0` (K x d) that turns features into logits (module docstring).

    Raises
    ------
    InvalidParameter
        K < 2 or d < K - 1.
    """
    K = check_int("K", K, 2)
    d = check_int("d", d, 1)
    if d < K - 1:
        raise InvalidParameter(
            "the LE-SDE needs d >= K - 1 so that the readout spans the K class directions, "
            f"got d={d}, K={K}"
        )
    if d >= K:
        return np.eye(K, d)
    # Orthonormal basis of the complement of 1: the last K-1 left singular vectors of 11^T.
    U = np.linalg.svd(np.ones((K, 1)), full_matrices=True)[0]
    return np.ascontiguousarray(U[:, 1:])


def simulate_ce(
    K: int,
    n: int,
    d: int,
    alpha: float | Callable[[float], float],
    beta: float | Callable[[float], float],
    noise: float,
    time: float,
    *,
    dt: float = 1e-2,
    paths: int = 100,
    seed: int = 0,
    init_scale: float = 0.1,
    records: int = 11,
    linear: bool = False,
    init: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    r"""Euler-Maruyama simulation of the ``ce`` variant (module docstring) for ``paths`` paths.

    .. math:: x_i^{s+1} = x_i^s + \Delta t\,\mathrm{drift}_i(X^s, t_s) + \sigma\sqrt{\Delta
    t}\,\xi_i^s,
              \qquad \xi_i^s \sim \mathcal N(0, I_d)

    All paths advance in one numba call. Strong order 1/2 in general; with additive noise (as here)
    the scheme has strong order 1, and at ``noise=0`` it is forward Euler with global error O(dt).

    Parameters
    ----------
    K, n, d : int
        Classes (>= 2), samples per class (>= 1), feature dimension (>= K - 1).
    alpha, beta : float or callable t -> float
        Intra- and inter-class impact; callables are sampled on the time grid (left endpoints).
    noise : float
        Diffusion coefficient :math:`\sigma \ge 0`.
    time : float
        Final time T > 0; the grid has ceil(T/dt) steps of size T/ceil(T/dt).
    dt : float
        Largest step (> 0).
    paths : int
        Independent paths P >= 1.
    seed : int
        Seeds the initial points (numpy) and the Brownian increments (the kernel).
    init_scale : float
        Standard deviation s > 0 of the initial features.
    records : int
        Number of recorded times (>= 2), equally spaced in steps.
    linear : bool
        Use the linearized drift (the LE-ODE's, at ``noise=0``).
    init : ndarray, shape (P, d, N), optional
        Explicit initial features (replaces the random start).

    Returns
    -------
    times : ndarray, shape (R,)
    snapshots : ndarray, shape (R, P, d, N)
    W0 : ndarray, shape (K, d)
    parameters : dict

    Raises
    ------
    InvalidParameter
        Out-of-domain arguments, non-finite impacts.
    """
    K = check_int("K", K, 2)
    n = check_int("n", n, 1)
    W0 = readout(K, d)
    noise = check_nonneg("noise", noise)
    T = check_positive("time", time)
    dt = check_positive("dt", dt)
    paths = check_int("paths", paths, 1)
    seed = check_int("seed", seed, 0)
    init_scale = check_positive("init_scale", init_scale)
    records = check_int("records", records, 2)
    steps = max(1, math.ceil(T / dt - 1e-9 * T / dt))
    records = min(records, steps + 1)
    dt = T / steps
    N = K * n
    check_euler_run(
        f"the LE-SDE simulation ({steps} steps x {paths} paths)", steps, paths, records, d * N,
        K * N * d,
    )  # fmt: skip
    grid = np.arange(steps) * dt
    alphas = np.ascontiguousarray(mdl.sample("alpha", mdl.coefficient("alpha", alpha), grid))
    betas = np.ascontiguousarray(mdl.sample("beta", mdl.coefficient("beta", beta), grid))
    labels = np.repeat(np.arange(K), n).astype(np.int64)
    rng = np.random.default_rng(seed)
    if init is None:
        X = init_scale * rng.standard_normal((paths, d, N))
    else:
        X = np.array(check_matrix("init", init, (paths, d, N)), order="C")
    record_every = -(-steps // (records - 1))
    n_snap = -(-steps // record_every) + 1
    snapshots = np.empty((n_snap, paths, d, N))
    kernel_seed = int(rng.integers(2**31 - 1))
    scratch = (np.empty((K, N)), np.empty((K, K)), np.empty((d, K)))
    for start, stop in chunks(steps):
        _kernels.lesde_euler_maruyama(
            X, W0, labels, alphas, betas, dt, noise, kernel_seed, bool(linear), start, stop,
            record_every, *scratch, snapshots,
        )  # fmt: skip
    if not np.all(np.isfinite(snapshots)):
        raise InvalidParameter(
            f"the Euler-Maruyama iterates overflowed with dt={dt}: lower dt (or the impacts)"
        )
    times = np.append(np.arange(n_snap - 1) * record_every * dt, T)
    parameters = {
        "K": K, "n": n, "d": d, "alpha": None if callable(alpha) else float(alpha),
        "beta": None if callable(beta) else float(beta), "noise": noise, "time": T, "dt": dt,
        "paths": paths, "seed": seed, "init_scale": init_scale, "linear": bool(linear),
    }  # fmt: skip
    return times, snapshots, W0, parameters


def le_ode_mean(
    alpha: float, beta: float, t: float, M0: np.ndarray, class_sizes, W0: np.ndarray
) -> np.ndarray:
    r"""Class means M(t) (d x K) of the linearized noiseless LE-ODE, by the matrix exponential.

    .. math:: \frac{d}{dt}\operatorname{vec}M = -(\Gamma^\top\otimes B)\operatorname{vec}M
              + \operatorname{vec}(W_0^\top P\,\Gamma),\quad B = \tfrac1K W_0^\top P W_0,\quad
              \Gamma_{k'k} = E_{kk'}\frac{n_{k'}}{N}

    (column-major vec), solved exactly as :math:`\exp\big(t\,[\begin{smallmatrix}-\Gamma^\top\otimes
    B & f\\ 0 & 0\end{smallmatrix}]\big)[\operatorname{vec}M_0; 1]`, which needs no inverse (the
    system matrix is singular along :math:`\mathbf 1` and the null space of :math:`W_0`).

    Parameters
    ----------
    alpha, beta : float
        Constant impacts.
    t : float
        Time >= 0.
    M0 : ndarray, shape (d, K)
        Class means at t = 0.
    class_sizes : sequence of int, length K
    W0 : ndarray, shape (K, d)
        Readout (:func:`readout`).

    Returns
    -------
    ndarray, shape (d, K)
    """
    from scipy.linalg import expm

    W0 = check_matrix("W0", W0, (None, None))
    K, d = W0.shape
    M0 = check_matrix("M0", M0, (d, K))
    t = check_nonneg("t", t)
    sizes = np.asarray(class_sizes, dtype=float)
    P = np.eye(K) - 1.0 / K
    E = (alpha - beta) * np.eye(K) + beta
    Gamma = E.T * (sizes / sizes.sum())[:, None]
    B = W0.T @ P @ W0 / K
    F = W0.T @ P @ Gamma
    A = np.zeros((d * K + 1, d * K + 1))
    A[:-1, :-1] = -np.kron(Gamma.T, B)
    A[:-1, -1] = F.ravel(order="F")
    state = expm(t * A) @ np.append(M0.ravel(order="F"), 1.0)
    return state[:-1].reshape((d, K), order="F")
