r"""The locally elastic stochastic differential equation (LE-SDE) of feature dynamics.

Model (Zhang, Wang & Su 2021 [1]_; the paper's text is not available to this project: the model
below is derived here from its description, and is consistent with the abstract and the authors'
public LE-ODE code). Sample i has class :math:`y_i \in \{0..K-1\}` and features :math:`x_i(t) \in
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

Separability. The paper's notion is *vanishing training loss*: every sample is classified correctly
by the model's own readout, :math:`\arg\max_k (W_0 x_i)_k = y_i` strictly (``criterion='readout'``,
the default). The weaker notion "the K point sets are linearly separable by *some* affine
classifier" is decided exactly by LP feasibility (``criterion='linear'``): there exist :math:`V` (K
x d), c (K) with :math:`(v_{y_i} - v_k)^\top x_i + c_{y_i} - c_k \ge 1` for all i and :math:`k \ne
y_i` (HiGHS through ``scipy.optimize.linprog``). When :math:`\alpha < \beta` the classes are pushed
to a *reversed* simplex and become separable in this weak sense too, while the readout misclassifies
them: only the readout criterion shows the transition.

References
----------
.. [1] Zhang, Wang & Su (2021), "Imitating deep learning dynamics via locally elastic stochastic
   differential equations", NeurIPS 34.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._repr import short_repr
from .._validation import check_choice, check_int, check_matrix, check_nonneg, check_positive
from ..errors import InvalidParameter, SolverFailed
from ..metrics import feature_metrics
from . import _kernels

__all__ = [
    "readout",
    "simulate_lesde",
    "LESDEResult",
    "le_ode_mean",
    "is_separable",
    "separability_probability",
    "SeparabilityEstimate",
]

CRITERIA = ("readout", "linear")


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


def _impact(name: str, value, times: np.ndarray) -> np.ndarray:
    """An impact (constant, or a callable of t) sampled on the time grid."""
    if callable(value):
        values = np.array([value(float(t)) for t in times], dtype=float)
        if not np.all(np.isfinite(values)):
            raise InvalidParameter(f"{name}(t) must be finite on [0, time], got a non-finite value")
        return values
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise InvalidParameter(f"{name} must be a finite number or a callable of t, got {value!r}")
    if not math.isfinite(value):
        raise InvalidParameter(f"{name} must be finite, got {value}")
    return np.full(times.shape, float(value))


@dataclass(frozen=True, eq=False)
class LESDEResult:
    """Paths of the LE-SDE.

    Attributes
    ----------
    times : ndarray, shape (R,)
        Recorded times (0, ..., time).
    snapshots : ndarray, shape (R, P, d, N)
        Features of every path at every recorded time; samples grouped by class.
    labels : ndarray of int, shape (N,)
    W0 : ndarray, shape (K, d)
        The readout (:func:`readout`).
    parameters : dict
    """

    __repr__ = short_repr

    times: np.ndarray
    snapshots: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    W0: np.ndarray = field(repr=False)
    parameters: dict

    @property
    def K(self) -> int:
        return self.W0.shape[0]

    @property
    def final(self) -> np.ndarray:
        """Features at the final time, shape (P, d, N)."""
        return self.snapshots[-1]

    def metrics(self, index: int = -1) -> dict[str, float | None]:
        """:func:`ufm.metrics.feature_metrics` at ``times[index]``, averaged over the paths where
        defined."""
        per_path = [feature_metrics(X, self.labels, self.K) for X in self.snapshots[index]]
        out = {}
        for key in per_path[0]:
            values = [m[key] for m in per_path if m[key] is not None]
            out[key] = float(np.mean(values)) if values else None
        return out

    def separability(self, criterion: str = "readout", index: int = -1, confidence: float = 0.95):
        """:func:`separability_probability` at ``times[index]``."""
        return separability_probability(
            self.snapshots[index], self.labels, self.W0, criterion=criterion, confidence=confidence
        )


def simulate_lesde(
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
) -> LESDEResult:
    r"""Euler-Maruyama simulation of the LE-SDE (module docstring) for ``paths`` independent paths.

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
    LESDEResult

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
    grid = np.arange(steps) * dt
    alphas = np.ascontiguousarray(_impact("alpha", alpha, grid))
    betas = np.ascontiguousarray(_impact("beta", beta, grid))
    N = K * n
    labels = np.repeat(np.arange(K), n).astype(np.int64)
    rng = np.random.default_rng(seed)
    if init is None:
        X = init_scale * rng.standard_normal((paths, d, N))
    else:
        X = np.array(check_matrix("init", init, (paths, d, N)), order="C")
    record_every = -(-steps // (records - 1))
    n_snap = -(-steps // record_every) + 1
    snapshots = np.empty((n_snap, paths, d, N))
    _kernels.lesde_euler_maruyama(
        X, W0, labels, alphas, betas, dt, noise, int(rng.integers(2**31 - 1)), bool(linear),
        record_every, np.empty((K, N)), np.empty((K, K)), np.empty((d, K)), snapshots,
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
    return LESDEResult(
        times=times, snapshots=snapshots, labels=labels, W0=W0, parameters=parameters
    )


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


def is_separable(
    X: np.ndarray, labels: np.ndarray, W0: np.ndarray, criterion: str = "readout"
) -> bool:
    """Whether features X (d x N) with labels are separable (criteria in the module docstring).

    Raises
    ------
    SolverFailed
        The LP of ``criterion='linear'`` ended neither feasible nor infeasible.
    """
    criterion = check_choice("criterion", criterion, CRITERIA)
    K = W0.shape[0]
    N = X.shape[1]
    cols = np.arange(N)
    if criterion == "readout":
        Z = W0 @ X
        own = Z[labels, cols]
        Z[labels, cols] = -np.inf
        return bool(np.all(own > Z.max(axis=0)))
    from scipy.optimize import linprog

    d = X.shape[0]
    rows = []
    for k in range(K):
        mask = labels != k
        # -( (v_y - v_k).x_i + c_y - c_k ) <= -1 for every sample i not of class k
        A = np.zeros((int(mask.sum()), K, d + 1))
        feats = np.vstack((X[:, mask], np.ones(int(mask.sum())))).T
        A[np.arange(len(feats)), labels[mask]] = -feats
        A[:, k] += feats
        rows.append(A.reshape(len(feats), -1))
    A_ub = np.vstack(rows)
    res = linprog(
        np.zeros(A_ub.shape[1]), A_ub=A_ub, b_ub=-np.ones(len(A_ub)), bounds=(None, None),
        method="highs",
    )  # fmt: skip
    if res.status == 0:
        return True
    if res.status == 2:
        return False
    raise SolverFailed("separability LP did not finish", solver="HiGHS", status=str(res.message))


@dataclass(frozen=True)
class SeparabilityEstimate:
    """Monte-Carlo probability of separability with its Clopper-Pearson interval at
    ``confidence``."""

    probability: float
    ci_low: float
    ci_high: float
    separable: int
    paths: int
    criterion: str
    confidence: float


def separability_probability(
    snapshot: np.ndarray,
    labels: np.ndarray,
    W0: np.ndarray,
    *,
    criterion: str = "readout",
    confidence: float = 0.95,
) -> SeparabilityEstimate:
    r"""Fraction of paths whose features are separable, with an exact (Clopper-Pearson) interval.

    With S separable paths out of P, the two-sided interval at level :math:`1-a` is
    :math:`[\mathrm{Beta}^{-1}(a/2; S, P-S+1),\ \mathrm{Beta}^{-1}(1-a/2; S+1, P-S)]` (0 and 1 at
    the ends), which never undercovers (Clopper & Pearson 1934).

    Parameters
    ----------
    snapshot : ndarray, shape (P, d, N)
    labels : ndarray of int, shape (N,)
    W0 : ndarray, shape (K, d)
    criterion : {'readout', 'linear'}
    confidence : float in (0, 1)
    """
    from scipy.stats import beta as beta_dist

    snapshot = check_matrix("snapshot", snapshot, (None, W0.shape[1], len(labels)))
    if not 0.0 < confidence < 1.0:
        raise InvalidParameter(f"confidence must lie in (0, 1), got {confidence}")
    P = snapshot.shape[0]
    S = sum(is_separable(X, labels, W0, criterion) for X in snapshot)
    a = 1.0 - confidence
    low = 0.0 if S == 0 else float(beta_dist.ppf(a / 2, S, P - S + 1))
    high = 1.0 if S == P else float(beta_dist.ppf(1 - a / 2, S + 1, P - S))
    return SeparabilityEstimate(S / P, low, high, int(S), P, criterion, confidence)
