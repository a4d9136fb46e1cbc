r"""The locally elastic SDE (LE-SDE) of Zhang, Wang & Su [1]_: simulation and separability.

Three models (``model=``):

* ``'I'`` (default) and ``'L'``: the linear drift of the authors' code [2]_ with :math:`\Pi_c = I`
  resp. the projection onto :math:`e_c - \mathbf 1/K`, per sample, with Brownian noise and a
  learning rate (:mod:`ufm.dynamics._lesde_model` states the model and says what is the paper's
  code and what is derived here); simulated by Euler-Maruyama in modal coordinates;
* ``'ce'``: ufm's earlier cross-entropy-gradient model (:mod:`ufm.dynamics._lesde_ce`), *derived
  here; not the paper's model*, kept as a named variant with its readout criterion.

Separability. ``criterion='linear'`` (the I and L models' default): the K point sets are linearly
separable, i.e. some affine classifier :math:`\arg\max_k(v_k^\top x + c_k)` labels every sample
correctly; decided exactly by LP feasibility of :math:`(v_{y_i} - v_k)^\top x_i + c_{y_i} - c_k
\ge 1` for all i and :math:`k \ne y_i` (HiGHS). Feasibility is invariant under translation and
scaling of all features, so the features are centred and divided by their largest entry before
the LP: scale-safe at 1e32 and beyond. ``criterion='readout'``: the fixed readout :math:`W_0 =
[I_K\ 0]` (d >= K; the ``ce`` variant's default) classifies every sample correctly.

Separability transition (derived here; ``proofs/lesde_modes.py``, ``proofs/lesde_moments.py``,
claims ``lesde.separability-transition`` and ``lesde.l-boundary``). The within-class deviations
have no drift, so their per-coordinate variance is :math:`w(t) = s^2 + \eta\int_0^t\sigma^2`,
while the centred class means grow at the largest contrast rate :math:`\lambda`:

* I model: :math:`\lambda = (\alpha - \beta)/K`; contrast variance :math:`v(t) = e^{2\lambda t}
  (s^2/n + \eta\sigma^2/(2\lambda n)) - \eta\sigma^2/(2\lambda n)` (constant coefficients). For
  :math:`\alpha > \beta`, :math:`v/w \to \infty` like :math:`e^{2\lambda t}/t` and two class means
  closer than the within-class spread become rare: with d-dimensional Gaussian differences,
  :math:`1 - P(\text{separable}) = O\big((w \log N / v)^{d/2}\big) = O\big(e^{-d(\alpha-\beta)t/K}
  (s^2 + \eta\sigma^2 t)^{d/2}\big)` up to factors in K, n. For :math:`\alpha < \beta` the
  contrasts settle at :math:`v \to \eta\sigma^2/(2|\lambda| n)` while w grows like
  :math:`\eta\sigma^2 t`: the classes overlap more and more and with N >> d (Cover's bound on
  chance separability) P(separable) -> 0; at :math:`\alpha = \beta`, :math:`v/w \to 1/n`.
* L model: the contrast modes have rates :math:`(\alpha - \beta)/K` (the simplex mode, all
  :math:`u_c^\top m_c` equal) and :math:`(\alpha + \beta/(K-1))/K` (K - 1 zero-sum modes), the
  rest rate 0, so :math:`\lambda_L = \max(\alpha - \beta, \alpha + \beta/(K-1))/K` and the boundary
  is :math:`\alpha = \min(\beta, -\beta/(K-1))`: for :math:`\beta > 0` the features separate for
  every :math:`\alpha > -\beta/(K-1)`, in particular for :math:`\alpha < \beta`.

References
----------
.. [1] Zhang, Wang & Su (2021), "Imitating deep learning dynamics via locally elastic stochastic
   differential equations", NeurIPS 34.
.. [2] github.com/zjiayao/le_sde, ``src/utils.py`` (``fwd_euler``), ``src/data_analyzer.py``.
.. [3] Clopper & Pearson (1934), "The use of confidence or fiducial limits illustrated in the case
   of the binomial", Biometrika 26(4).

Length: the public LE-SDE layer (validation, the result type with scale-safe reconstruction, the
separability estimate) for three models; the models' mathematics lives in ``_lesde_model``,
``_lesde_moments`` and ``_lesde_ce``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._limits import check_euler_run
from .._repr import short_repr
from .._validation import check_choice, check_int, check_matrix, check_positive
from ..errors import InvalidParameter, SolverFailed
from ..metrics import feature_metrics
from . import _kernels
from . import _lesde_model as mdl
from ._chunks import chunks
from ._lesde_ce import le_ode_mean, readout, simulate_ce
from ._lesde_moments import LESDEMoments, lesde_moments

__all__ = [
    "readout",
    "simulate_lesde",
    "LESDEResult",
    "le_ode_mean",
    "lesde_moments",
    "LESDEMoments",
    "is_separable",
    "separability_probability",
    "separability_exact",
    "SeparabilityEstimate",
]

MODELS = ("I", "L", "ce")
CRITERIA = ("readout", "linear")

Coefficient = float | Callable[[float], float]


def _log_mean_exp(v: np.ndarray) -> float:
    top = float(np.max(v))
    if not math.isfinite(top):
        return top
    return top + math.log(float(np.mean(np.exp(v - top))))


@dataclass(frozen=True, eq=False)
class LESDEResult:
    r"""Paths of the LE-SDE.

    For the I and L models the state is kept in modal coordinates
    (:mod:`ufm.dynamics._lesde_model`); features are rebuilt on demand, scale-safely by
    :meth:`centred`.

    Attributes
    ----------
    times : ndarray, shape (R,)
        Recorded times (0, ..., time).
    labels : ndarray of int, shape (N,)
    W0 : ndarray, shape (K, d), or None
        The readout (``ce``: :func:`readout`; I, L: :math:`[I_K\ 0]` when d >= K, else None).
    parameters : dict
    model : {'I', 'L', 'ce'}
    """

    __repr__ = short_repr

    times: np.ndarray
    labels: np.ndarray = field(repr=False)
    W0: np.ndarray | None = field(repr=False)
    parameters: dict
    model: str
    _modes: tuple | None = field(default=None, repr=False)
    _raw: np.ndarray | None = field(default=None, repr=False)

    @property
    def K(self) -> int:
        return int(self.parameters["K"])

    @property
    def n(self) -> int:
        return int(self.parameters["n"])

    def _log_scales(self, index: int) -> np.ndarray:
        Y, L2, _, block = self._modes
        return L2[index][:, block] * math.log(2.0)

    def features(self, index: int = -1) -> np.ndarray:
        """Features (P, d, N) at ``times[index]``.

        Raises
        ------
        InvalidParameter
            The features exceed float64 (use :meth:`centred`, which is scale-safe).
        """
        if self._raw is not None:
            return self._raw[index]
        Y, _, Z, _ = self._modes
        X = mdl.features(Y[index], self._log_scales(index), Z[index], self.K, self.n)
        if not np.all(np.isfinite(X)):
            raise InvalidParameter(
                f"the features at t={self.times[index]:.6g} exceed float64 (the common mode "
                "grows fastest): use result.centred(index), which drops it"
            )
        return X

    @property
    def snapshots(self) -> np.ndarray:
        """Features at every recorded time, shape (R, P, d, N) (see :meth:`features`)."""
        if self._raw is not None:
            return self._raw
        return np.stack([self.features(i) for i in range(len(self.times))])

    @property
    def final(self) -> np.ndarray:
        """Features at the final time, shape (P, d, N)."""
        return self.features(-1)

    def centred(self, index: int = -1) -> tuple[np.ndarray, np.ndarray]:
        r"""Centred features :math:`e^{-r_p}(x_i - \bar x)` (P, d, N) and :math:`r_p` (P,).

        Scale-safe: the I/L modes are combined without the common mode, each at its own scale.
        """
        if self._raw is not None:
            X = self._raw[index] - self._raw[index].mean(axis=2, keepdims=True)
            return X, np.zeros(X.shape[0])
        Y, _, Z, _ = self._modes
        return mdl.centred_features(Y[index], self._log_scales(index), Z[index], self.K, self.n)

    def log_separation(self, index: int = -1) -> np.ndarray:
        r"""Per path, :math:`\log\|\tilde M\|_F` of the centred class means (natural log)."""
        X, ref = self.centred(index)
        P, d, N = X.shape
        M = X.reshape(P, d, self.K, self.n).mean(axis=3)
        with np.errstate(divide="ignore"):
            return np.log(np.linalg.norm(M.reshape(P, -1), axis=1)) + ref

    def separation_ratio(self, index: int = -1) -> float:
        r"""Measured :math:`\big(\overline{\|\tilde M(t)\|_F^2}/\overline{\|\tilde M(0)\|_F^2}
        \big)^{1/2}`, bars = averages over paths (root-mean-square ratio; ``inf`` beyond
        float64)."""
        log = 0.5 * (
            _log_mean_exp(2 * self.log_separation(index))
            - _log_mean_exp(2 * self.log_separation(0))
        )
        return math.exp(min(log, 709.0)) if log < 709.0 else math.inf

    def separation_ratio_predicted(self, index: int = -1) -> float | None:
        r"""The exact root-mean-square ratio :math:`(\mathbb E\|\tilde M(t)\|_F^2/\mathbb
        E\|\tilde M(0)\|_F^2)^{1/2}` from :func:`lesde_moments` (random start only; None for
        ``ce`` or an explicit ``init``)."""
        p = self.parameters
        if self.model == "ce" or p["init"] != "gaussian" or self.times[index] == 0:
            return None if self.model == "ce" or p["init"] != "gaussian" else 1.0
        law = self.exact(index)
        log0 = math.log(p["d"] * (self.K - 1) * p["init_scale"] ** 2 / self.n)
        log = 0.5 * (law.log_separation_sq() - log0)
        return math.exp(log) if log < 709.0 else math.inf

    def exact(self, index: int = -1) -> LESDEMoments:
        """:func:`lesde_moments` of this run's model at ``times[index]`` (random start)."""
        p = self.parameters
        if self.model == "ce":
            raise InvalidParameter("exact moments exist for the linear models 'I' and 'L' only")
        return lesde_moments(
            self.K, self.n, p["d"], p["_alpha"], p["_beta"], p["_noise"], float(self.times[index]),
            model=self.model, lr=p["lr"], init_scale=p["init_scale"],
        )  # fmt: skip

    def metrics(self, index: int = -1) -> dict[str, float | None]:
        """:func:`ufm.metrics.feature_metrics` of the centred features at ``times[index]``,
        averaged over the paths where defined (the metrics are scale-invariant)."""
        X, _ = self.centred(index)
        per_path = [feature_metrics(x, self.labels, self.K) for x in X]
        out = {}
        for key in per_path[0]:
            values = [m[key] for m in per_path if m[key] is not None]
            out[key] = float(np.mean(values)) if values else None
        return out

    def separability(
        self, criterion: str | None = None, index: int = -1, confidence: float = 0.95
    ) -> SeparabilityEstimate:
        """:func:`separability_probability` at ``times[index]``; default criterion 'readout' for
        ``ce``, 'linear' for I and L."""
        if criterion is None:
            criterion = "readout" if self.model == "ce" else "linear"
        criterion = check_choice("criterion", criterion, CRITERIA)
        if criterion == "linear":
            X = self.centred(index)[0]
        else:
            if self.W0 is None:
                raise InvalidParameter(
                    f"criterion='readout' needs d >= K (a readout of the logits), got d="
                    f"{self.parameters['d']}, K={self.K}"
                )
            X = self.features(index)
        return separability_probability(
            X, self.labels, self.W0, criterion=criterion, confidence=confidence
        )


def _grid(T: float, dt: float) -> tuple[int, float]:
    steps = max(1, math.ceil(T / dt - 1e-9 * T / dt))
    return steps, T / steps


def simulate_lesde(
    K: int,
    n: int,
    d: int,
    alpha: Coefficient,
    beta: Coefficient,
    noise: Coefficient,
    time: float,
    *,
    model: str = "I",
    lr: float = 1.0,
    dt: float = 1e-2,
    paths: int = 100,
    seed: int = 0,
    init_scale: float = 0.1,
    records: int = 11,
    linear: bool = False,
    init: np.ndarray | None = None,
) -> LESDEResult:
    r"""Euler-Maruyama simulation of the LE-SDE for ``paths`` independent paths.

    I and L models (:mod:`ufm.dynamics._lesde_model`), in modal coordinates :math:`Y = MQ_K`
    (class means) and Z (within-class deviations):

    .. math:: Y^{s+1} = Y^s + \Delta t\,(\alpha_sG_\alpha + \beta_sG_\beta)Y^s
              + \sqrt{\eta\Delta t}\,\frac{\sigma_s}{\sqrt n}\,\xi^s,\qquad
              Z(t_{r+1}) = Z(t_r) + \Big(\eta\sum_{s}\sigma_s^2\Delta t\Big)^{1/2}\zeta^r

    (coefficients at left endpoints :math:`t_s = s\Delta t`; the deviations have no drift, so one
    draw per record interval is exact in law). Weak and strong order 1 (additive noise): the
    moments of the chain differ from the SDE's by O(dt) (tests compare the kernel with the
    chain's exact moments, and the chain with :func:`lesde_moments`). Each block of modes is
    rescaled by powers of two when it grows past 2**600, so no mode overflows or swamps another.

    Parameters
    ----------
    K, n, d : int
        Classes (>= 2), samples per class (>= 1), feature dimension (I: >= 1; L: >= K;
        ce: >= K - 1).
    alpha, beta : float or callable t -> float
        Intra- and inter-class impact :math:`\alpha(t), \beta(t)`.
    noise : float or callable t -> float
        SGD noise :math:`\sigma(t) \ge 0` (per unit step size; diffusion :math:`\sqrt\eta\sigma`).
    time : float
        Final time T > 0 (:math:`t = \eta\cdot` SGD steps); ceil(T/dt) steps of size T/ceil(T/dt).
    model : {'I', 'L', 'ce'}
        The paper's code's models, or the cross-entropy variant (derived here; not the paper's).
    lr : float
        Learning rate :math:`\eta > 0`.
    dt : float
        Largest step (> 0).
    paths : int
        Independent paths P >= 1.
    seed : int
        Seeds the initial points (numpy) and the Brownian increments (the kernel).
    init_scale : float
        Standard deviation s > 0 of the i.i.d. Gaussian initial features.
    records : int
        Number of recorded times (>= 2), equally spaced in steps.
    linear : bool
        ``ce`` only: its linearized drift.
    init : ndarray, shape (P, d, N), optional
        Explicit initial features (replaces the random start).

    Returns
    -------
    LESDEResult

    Raises
    ------
    InvalidParameter
        Out-of-domain arguments, non-finite coefficients, ``linear`` outside ``ce``.
    LimitExceeded
        The run's estimated memory or time exceeds the limits (:mod:`ufm._limits`), checked
        before anything is allocated.

    Examples
    --------
    >>> res = simulate_lesde(3, 20, 3, 2.0, 1.0, 0.1, 60.0, paths=4, records=2, dt=0.05)
    >>> res.separability().probability
    1.0
    """
    model = check_choice("model", model, MODELS)
    K = check_int("K", K, 2)
    n = check_int("n", n, 1)
    lr = check_positive("lr", lr)
    a = mdl.coefficient("alpha", alpha)
    b = mdl.coefficient("beta", beta)
    s = mdl.coefficient("noise", noise, nonneg=True)
    hidden = {"_alpha": a, "_beta": b, "_noise": s}
    if model == "ce":
        if callable(s):
            raise InvalidParameter("model='ce' takes a constant noise, got a callable")
        times, snaps, W0, parameters = simulate_ce(
            K, n, d, a, b, math.sqrt(lr) * s, time, dt=dt, paths=paths, seed=seed,
            init_scale=init_scale, records=records, linear=linear, init=init,
        )  # fmt: skip
        parameters.update(model="ce", lr=lr, noise=s, init="gaussian" if init is None else "given")
        return LESDEResult(
            times, np.repeat(np.arange(K), n), W0, {**parameters, **hidden}, "ce", _raw=snaps
        )
    if linear:
        raise InvalidParameter(f"linear=True applies to model='ce' only, got model={model!r}")
    d = check_int("d", d, 1)
    mdl.check_model(model, K, d)
    T = check_positive("time", time)
    paths = check_int("paths", paths, 1)
    seed = check_int("seed", seed, 0)
    init_scale = check_positive("init_scale", init_scale)
    records = check_int("records", records, 2)
    steps, dt = _grid(T, check_positive("dt", dt))
    records = min(records, steps + 1)
    q, r = d * K, K * d * (n - 1)
    check_euler_run(
        f"the LE-SDE simulation ({steps} steps x {paths} paths)", steps, paths, records, q + r,
        q * q + r,
    )  # fmt: skip
    grid = np.arange(steps) * dt
    alphas = np.ascontiguousarray(mdl.sample("alpha", a, grid))
    betas = np.ascontiguousarray(mdl.sample("beta", b, grid))
    sigmas = mdl.sample("noise", s, grid, nonneg=True)
    N = K * n
    blocks = mdl.mode_blocks(model, K, d)
    A_alpha, A_beta, block = mdl.assemble(blocks, q)
    rng = np.random.default_rng(seed)
    if init is None:
        Y = init_scale / math.sqrt(n) * rng.standard_normal((paths, q))
        Z = init_scale * rng.standard_normal((paths, r))
    else:
        Y, Z = mdl.to_modes(check_matrix("init", init, (paths, d, N)), K, n)
        Y, Z = np.ascontiguousarray(Y), np.ascontiguousarray(Z)
    L2 = np.zeros((paths, len(blocks)))
    record_every = -(-steps // (records - 1))
    n_snap = -(-steps // record_every) + 1
    Y_out, Z_out = np.empty((n_snap, paths, q)), np.empty((n_snap, paths, r))
    L2_out = np.empty((n_snap, paths, len(blocks)))
    mean_noise = np.ascontiguousarray(np.sqrt(lr * dt / n) * sigmas)
    dev_var = np.ascontiguousarray(lr * dt * sigmas**2)
    kernel_seed = int(rng.integers(2**31 - 1))
    scratch = (np.empty((q, q)), np.empty((paths, q)), np.empty(len(blocks)), np.empty(len(blocks)))
    acc = np.zeros(1)
    for start, stop in chunks(steps):
        _kernels.lesde_modal_euler_maruyama(
            Y, Z, L2, A_alpha, A_beta, alphas, betas, mean_noise, dev_var, block, kernel_seed, dt,
            start, stop, record_every, Y_out, Z_out, L2_out, *scratch, acc,
        )  # fmt: skip
    if not (np.all(np.isfinite(Y_out)) and np.all(np.isfinite(Z_out))):
        raise InvalidParameter(
            f"the Euler-Maruyama iterates are not finite with dt={dt}: lower dt (the scheme needs "
            "dt |rate| < 2 for every mode)"
        )
    times = np.append(np.arange(n_snap - 1) * record_every * dt, T)
    parameters = {
        "K": K, "n": n, "d": d, "model": model,
        "alpha": None if callable(a) else a, "beta": None if callable(b) else b,
        "noise": None if callable(s) else s, "lr": lr, "time": T, "dt": dt, "paths": paths,
        "seed": seed, "init_scale": init_scale, "init": "gaussian" if init is None else "given",
    }  # fmt: skip
    return LESDEResult(
        times, np.repeat(np.arange(K), n), np.eye(K, d) if d >= K else None,
        {**parameters, **hidden}, model, _modes=(Y_out, L2_out, Z_out, block),
    )  # fmt: skip


def is_separable(
    X: np.ndarray, labels: np.ndarray, W0: np.ndarray | None = None, criterion: str | None = None
) -> bool:
    """Whether features X (d x N) with labels are separable (criteria in the module docstring).

    ``criterion`` defaults to 'readout' when a readout W0 is given, else 'linear'. The linear
    criterion centres X and divides it by its largest entry first (feasibility is invariant), so
    features of any finite scale are decided alike.

    Raises
    ------
    InvalidParameter
        Non-finite features; 'readout' without W0.
    SolverFailed
        The LP ended neither feasible nor infeasible.
    """
    if criterion is None:
        criterion = "linear" if W0 is None else "readout"
    criterion = check_choice("criterion", criterion, CRITERIA)
    X = np.asarray(X, dtype=float)
    if not np.all(np.isfinite(X)):
        raise InvalidParameter("features X must be finite, got a non-finite entry")
    labels = np.asarray(labels)
    K = int(labels.max()) + 1 if W0 is None else W0.shape[0]
    N = X.shape[1]
    if criterion == "readout":
        if W0 is None:
            raise InvalidParameter("criterion='readout' needs the readout W0, got None")
        Z = W0 @ X
        cols = np.arange(N)
        own = Z[labels, cols]
        Z[labels, cols] = -np.inf
        return bool(np.all(own > Z.max(axis=0)))
    from scipy.optimize import linprog

    X = X - X.mean(axis=1, keepdims=True)
    top = float(np.abs(X).max())
    if top == 0.0:
        return False
    X = X / top
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


def _estimate(S: int, P: int, criterion: str, confidence: float) -> SeparabilityEstimate:
    from scipy.stats import beta as beta_dist

    a = 1.0 - confidence
    low = 0.0 if S == 0 else float(beta_dist.ppf(a / 2, S, P - S + 1))
    high = 1.0 if S == P else float(beta_dist.ppf(1 - a / 2, S + 1, P - S))
    return SeparabilityEstimate(S / P, low, high, int(S), P, criterion, confidence)


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise InvalidParameter(f"confidence must lie in (0, 1), got {confidence}")
    return float(confidence)


def separability_probability(
    snapshot: np.ndarray,
    labels: np.ndarray,
    W0: np.ndarray | None = None,
    *,
    criterion: str | None = None,
    confidence: float = 0.95,
) -> SeparabilityEstimate:
    r"""Fraction of paths whose features are separable, with an exact (Clopper-Pearson) interval.

    With S separable paths out of P, the two-sided interval at level :math:`1-a` is
    :math:`[\mathrm{Beta}^{-1}(a/2; S, P-S+1),\ \mathrm{Beta}^{-1}(1-a/2; S+1, P-S)]` (0 and 1 at
    the ends), which never undercovers ([3]_).

    Parameters
    ----------
    snapshot : ndarray, shape (P, d, N)
    labels : ndarray of int, shape (N,)
    W0 : ndarray, shape (K, d), optional
    criterion : {'readout', 'linear'}, optional
        Default as in :func:`is_separable`.
    confidence : float in (0, 1)
    """
    d = None if W0 is None else W0.shape[1]
    snapshot = check_matrix("snapshot", snapshot, (None, d, len(labels)))
    confidence = _check_confidence(confidence)
    if criterion is None:
        criterion = "linear" if W0 is None else "readout"
    S = sum(is_separable(X, labels, W0, criterion) for X in snapshot)
    return _estimate(S, snapshot.shape[0], criterion, confidence)


def separability_exact(
    moments: LESDEMoments, *, paths: int = 100, seed: int = 0, confidence: float = 0.95
) -> SeparabilityEstimate:
    """P(linearly separable) by sampling the exact final Gaussian law (no time stepping).

    Independent of the Euler-Maruyama kernel: the modes are drawn from :func:`lesde_moments`,
    rebuilt into centred features scale-safely, and decided by the LP of :func:`is_separable`.
    """
    paths = check_int("paths", paths, 1)
    seed = check_int("seed", seed, 0)
    confidence = _check_confidence(confidence)
    Y, logs, Z = moments.sample_modes(paths, seed)
    X, _ = mdl.centred_features(Y, logs, Z, moments.K, moments.n)
    labels = np.repeat(np.arange(moments.K), moments.n)
    S = sum(is_separable(x, labels, None, "linear") for x in X)
    return _estimate(S, paths, "linear", confidence)
