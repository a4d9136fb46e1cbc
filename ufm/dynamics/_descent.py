r"""Gradient descent and gradient flow on the regularized UFM objective.

Gradient descent, with step size :math:`\eta` (``lr``),

.. math:: (W, H, b)_{t+1} = (W, H, b)_t - \eta\,\nabla f\big((W, H, b)_t\big),

runs as one numba call per chunk of steps (:func:`ufm.dynamics._kernels.gradient_descent`,
chunks of bounded wall time so that Ctrl-C is heard, :mod:`ufm.dynamics._chunks`); the
gradient flow :math:`\dot X = -\nabla f(X)` is integrated by the Dormand-Prince 5(4) pair with
adaptive steps (``scipy.integrate.solve_ivp``, ``RK45``) whose right-hand side is the same numba
gradient kernel, so that statements about the flow are checked to a stated accuracy (``rtol``,
``atol``) rather than for one step size. ``f`` is the objective of :mod:`ufm.objectives` (Zhu et al.
2021 [1]_ for CE, Tirer & Bruna 2022 [2]_ and Zhou et al. 2022 [3]_ for MSE).

Initialization: every entry of W and H (and of b when the problem has a bias) is drawn i.i.d.
:math:`\mathcal N(0, s^2)` with :math:`s` = ``init_scale`` from ``numpy.random.default_rng(seed)``,
so a run is a deterministic function of (problem, seed, init_scale, lr, steps).

References
----------
.. [1] Zhu et al. (2021), "A geometric analysis of neural collapse with unconstrained features",
NeurIPS.
.. [2] Tirer & Bruna (2022), "Extended unconstrained features model for exploring deep neural
collapse".
.. [3] Zhou et al. (2022), "On the optimization landscape of neural collapse under MSE loss", ICML.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import tolerances as tol
from .._repr import short_repr
from .._validation import check_int, check_matrix, check_positive
from ..errors import AccuracyWarning, InvalidParameter, NotConverged
from ..io import Configuration
from ..metrics import nc_metrics
from ..models import get_model
from ..problem import Problem
from . import _kernels
from ._chunks import chunks

__all__ = ["initialize", "gradient_descent", "gradient_flow", "DescentResult", "FlowResult"]

#: NC metrics recorded next to the kernel's :data:`~ufm.dynamics.RECORDED_METRICS`, computed by
#: :func:`ufm.nc_metrics` at each record point (their pseudo-inverse, nearest-mean and
#: uncentred-means definitions live there once), so that the history shows the final table's
#: quantities.
PYTHON_RECORDED_METRICS = ("nc1", "nc3_papyan", "nc4", "of_distance_means")


def _check_problem(problem) -> Problem:
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    if problem.model != "ufm":
        raise InvalidParameter(
            f"the descent kernels run model 'ufm' (W, H, b), got model={problem.model!r}"
        )
    return problem


def initialize(problem: Problem, seed: int = 0, init_scale: float = 1.0):
    r"""Random start :math:`W_{kj}, H_{ji}, b_k \sim \mathcal N(0, s^2)` i.i.d. (b = 0 without
    bias).

    Parameters
    ----------
    problem : Problem
    seed : int
        Seed of ``numpy.random.default_rng``.
    init_scale : float
        Standard deviation s > 0 of the entries.

    Returns
    -------
    W, H, b : ndarray, shapes (K, d), (d, N), (K,)
    """
    blocks = get_model("ufm").initialize(_check_problem(problem), seed, init_scale)
    return blocks["W"], blocks["H"], blocks.get("b", np.zeros(problem.K))


def _start(problem: Problem, init, seed: int, init_scale: float):
    """Contiguous float64 copies of the initial point (given, or drawn by :func:`initialize`)."""
    if init is None:
        W, H, b = initialize(problem, seed, init_scale)
    else:
        if len(init) != 3:
            raise InvalidParameter(f"init must be a triple (W, H, b), got {len(init)} items")
        W = check_matrix("init W", init[0], (problem.K, problem.d))
        H = check_matrix("init H", init[1], (problem.d, problem.N))
        b = (
            np.zeros(problem.K)
            if init[2] is None
            else check_matrix("init b", init[2], (problem.K,))
        )
        if not problem.has_bias and np.any(b != 0):
            raise InvalidParameter("init b must be None or zero when bias='none'")
    return (np.array(a, dtype=np.float64, order="C") for a in (W, H, b))


class _Workspace:
    """Every buffer the kernels need for one problem, allocated once."""

    def __init__(self, problem: Problem):
        K, d, N = problem.K, problem.d, problem.N
        self.labels = np.ascontiguousarray(problem.labels, dtype=np.int64)
        self.counts = np.asarray(problem.class_sizes, dtype=np.float64)
        loss = problem.loss_fn
        self.scalars = (
            loss.link_impl.code,
            *loss.target_pair(K),
            problem.lambda_W,
            problem.lambda_H,
            problem.lambda_b if problem.bias == "regularized" else 0.0,
            problem.has_bias,
        )
        self.Z = np.empty((K, N))
        self.colmax = np.empty(N)
        self.colsum = np.empty(N)
        self.ones = np.ones(N)
        self.gW = np.empty((K, d))
        self.gH = np.empty((d, N))
        self.gb = np.empty(K)
        self.Mc = np.empty((d, K))
        self.gram = np.empty((K, K))

    def gradient_buffers(self):
        return self.Z, self.colmax, self.colsum, self.ones, self.gW, self.gH, self.gb

    def record(self, W, H, b, out) -> None:
        _kernels.record_point(
            W, H, b, self.labels, self.counts, *self.scalars, *self.gradient_buffers(), self.Mc,
            self.gram, out,
        )  # fmt: skip

    def descend(self, W, H, b, lr, start, stop, record_every, records) -> None:
        _kernels.gradient_descent(
            W, H, b, self.labels, self.counts, *self.scalars, lr, start, stop, record_every,
            *self.gradient_buffers(), self.Mc, self.gram, records,
        )  # fmt: skip


def _python_metrics(W, H, b, labels) -> list[float]:
    """The :data:`PYTHON_RECORDED_METRICS` of one point, NaN where undefined or diverged."""
    if not all(np.all(np.isfinite(a)) for a in (W, H, b)):
        return [np.nan] * len(PYTHON_RECORDED_METRICS)
    metrics = nc_metrics(W, H, b, labels)
    return [np.nan if metrics[k] is None else metrics[k] for k in PYTHON_RECORDED_METRICS]


def _history(records: np.ndarray, extra: list | None) -> dict[str, np.ma.MaskedArray]:
    """Recorded metric columns by name; undefined or unrecorded values (NaN) are masked."""
    if extra is None:
        extra = np.full((len(records), len(PYTHON_RECORDED_METRICS)), np.nan)
    columns = np.column_stack((records[:, 2:], np.asarray(extra, dtype=float)))
    names = _kernels.RECORDED_METRICS + PYTHON_RECORDED_METRICS
    return {name: np.ma.masked_invalid(columns[:, j]) for j, name in enumerate(names)}


@dataclass(frozen=True, eq=False)
class DescentResult:
    """Outcome of :func:`gradient_descent`.

    Attributes
    ----------
    problem : Problem
    W, H, b : ndarray
        Final point, shapes (K, d), (d, N), (K,).
    steps : ndarray of int, shape (R,)
        Step indices of the records: 0, record_every, 2 record_every, ..., and the final step.
    objective, gradient_norm : ndarray, shape (R,)
        f and :math:`\\|\\nabla f\\|_F` (over W, H, b jointly) at the recorded steps.
    history : dict of masked arrays, shape (R,)
        The NC metrics of :data:`ufm.dynamics.RECORDED_METRICS` (compiled) and of
        :data:`PYTHON_RECORDED_METRICS` (``nc1``, ``nc3_papyan``, ``nc4``, ``of_distance_means``,
        by :func:`ufm.nc_metrics`) at the recorded steps (masked where undefined).
    metrics : dict
        All NC metrics of the final point (:func:`ufm.nc_metrics`, default conventions).
    parameters : dict
        lr, steps, seed, init_scale, record_every (None entries for a user-given start).
    seconds : float
        Wall-clock time of the descent (kernel compilation excluded when the cache is warm).
    """

    __repr__ = short_repr

    problem: Problem
    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    steps: np.ndarray
    objective: np.ndarray
    gradient_norm: np.ndarray
    history: dict = field(repr=False)
    metrics: dict = field(repr=False)
    parameters: dict
    seconds: float

    @property
    def blocks(self) -> dict[str, np.ndarray]:
        """The final point as the named blocks of the problem's model (:mod:`ufm.models`)."""
        return self.configuration().blocks

    def configuration(self) -> Configuration:
        """The final point as a :class:`ufm.Configuration` with its provenance."""
        return Configuration(
            self.W, self.H, self.b, problem=self.problem,
            metadata={"produced_by": {"method": "gradient_descent", "parameters": self.parameters}},
        )  # fmt: skip


def gradient_descent(
    problem: Problem,
    *,
    steps: int,
    lr: float,
    seed: int = 0,
    init_scale: float = 1.0,
    record_every: int | None = None,
    init=None,
    progress: Callable[[int], None] | None = None,
    full_history: bool = True,
) -> DescentResult:
    r"""Full-batch gradient descent on the regularized UFM objective, compiled with numba.

    .. math:: X_{t+1} = X_t - \eta\nabla f(X_t),\qquad X = (W, H, b),\quad t = 0, \dots, T - 1,

    with f of :mod:`ufm.objectives` (b fixed at 0 for ``bias='none'``). The objective, the gradient
    norm and the NC metrics :data:`~ufm.dynamics.RECORDED_METRICS` are recorded inside the compiled
    loop every ``record_every`` steps and at the end; :data:`PYTHON_RECORDED_METRICS` are added by
    :func:`ufm.nc_metrics` at the same points (one call per record: record rarely on large runs).
    The steps in between skip the objective and update H by one fused BLAS call (weight decay in
    ``beta``), so recording rarely is the fast setting: about 1.0x the cost of the three matrix
    products a step needs, alone, on workloads M and L of ``benchmarks/bench_dynamics.py``.

    Parameters
    ----------
    problem : Problem
    steps : int
        Number of steps T >= 0.
    lr : float
        Step size :math:`\eta > 0`. Descent is monotone for :math:`\eta < 2/L` with L the Lipschitz
        constant of the gradient on the sublevel set; larger steps may diverge (then
        ``NotConverged``).
    seed, init_scale : int, float
        Random start of :func:`initialize` (ignored when ``init`` is given).
    record_every : int, optional
        Record period R >= 1; default ``max(1, steps // 100)``.
    init : tuple (W, H, b), optional
        Explicit start (b may be None without bias).
    progress : callable, optional
        Called with the number of steps done after each chunk of the loop (for progress bars).
        The loop always runs in chunks of about ``CHUNK_SECONDS`` of :mod:`ufm.dynamics._chunks`
        (Ctrl-C is heard between chunks) that end at every record point, with the same result as
        one call.
    full_history : bool
        False skips the :data:`PYTHON_RECORDED_METRICS` (masked throughout), for callers that need
        only the end point and the kernel's records (:func:`descend_to_stationary`).

    Returns
    -------
    DescentResult

    Raises
    ------
    InvalidParameter
        Bad problem, steps < 0, lr <= 0, init_scale <= 0, record_every < 1, or a malformed ``init``.
    NotConverged
        The iterates left the finite floats (step size too large): lower ``lr``.
    """
    problem = _check_problem(problem)
    steps = check_int("steps", steps, 0)
    lr = check_positive("lr", lr)
    record_every = max(1, steps // 100) if record_every is None else record_every
    record_every = check_int("record_every", record_every, 1)
    W, H, b = _start(problem, init, seed, init_scale)
    work = _Workspace(problem)
    n_inner = -(-steps // record_every)
    records = np.empty((n_inner + 1, 2 + len(_kernels.RECORDED_METRICS)))
    work.record(W, H, b, records[0])
    finite = [np.all(np.isfinite(a)) for a in (records[0, :2], W, H, b)]
    if not all(finite):
        start_by = "the given init" if init is not None else f"init_scale={init_scale}"
        raise InvalidParameter(
            f"the objective or its gradient overflows at the start ({start_by}): "
            + ("scale the start down" if init is not None else "lower init_scale")
        )
    start = time.perf_counter()
    extra = [_python_metrics(W, H, b, problem.labels)] if full_history else None
    for first, stop in chunks(steps, every=record_every if full_history else None):
        work.descend(W, H, b, lr, first, stop, record_every, records)
        if full_history and (stop % record_every == 0 or stop == steps):
            extra.append(_python_metrics(W, H, b, problem.labels))
        if progress is not None:
            progress(stop)
    work.record(W, H, b, records[n_inner])
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(records[:, :2])) or not np.all(np.isfinite(W)):
        raise NotConverged(
            f"gradient descent diverged (non-finite objective) with lr={lr}: lower lr"
        )
    if records[-1, 0] > records[0, 0] + tol.FLOAT * abs(records[0, 0]):
        # gradient descent with lr < 2/L never increases f; an increase beyond the rounding of f
        # (a run started at a stationary point moves by ulps) means the step is too large
        warnings.warn(
            f"gradient descent increased the objective from {records[0, 0]:.6g} to "
            f"{records[-1, 0]:.6g}: lr={lr} is above 2/L for this run; lower lr",
            AccuracyWarning,
            stacklevel=2,
        )
    step_index = np.append(np.arange(n_inner) * record_every, steps)
    parameters = {
        "lr": lr, "steps": steps, "record_every": record_every,
        "seed": None if init is not None else seed,
        "init_scale": None if init is not None else init_scale,
    }  # fmt: skip
    return DescentResult(
        problem=problem, W=W, H=H, b=b, steps=step_index, objective=records[:, 0].copy(),
        gradient_norm=records[:, 1].copy(), history=_history(records, extra),
        metrics=nc_metrics(W, H, b, problem.labels), parameters=parameters, seconds=seconds,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class FlowResult:
    """Outcome of :func:`gradient_flow`: final point, and f, ||grad f|| at ``times``; ``nfev`` RHS
    calls."""

    __repr__ = short_repr

    problem: Problem
    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    times: np.ndarray
    objective: np.ndarray
    gradient_norm: np.ndarray
    metrics: dict = field(repr=False)
    parameters: dict
    nfev: int
    seconds: float


def gradient_flow(
    problem: Problem,
    *,
    time_horizon: float,
    seed: int = 0,
    init_scale: float = 1.0,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    records: int = 101,
    init=None,
) -> FlowResult:
    r"""Gradient flow :math:`\dot X(t) = -\nabla f(X(t))`, :math:`X = (W, H, b)`, up to time T.

    Integrated by the embedded Dormand-Prince 5(4) pair (``solve_ivp(method='RK45')``) with the
    local error per step kept below ``atol + rtol |X|`` componentwise; the right-hand side is the
    numba gradient kernel. An explicit adaptive pair is the right tool here: the flow is not stiff
    (the Hessian's spectrum is bounded by the logit scale and the lambdas, which are of one order),
    and error control makes the result a statement about the flow, independent of any step size.
    Along the exact flow f is non-increasing, :math:`\frac{d}{dt}f = -\|\nabla f\|^2`.

    Parameters
    ----------
    problem : Problem
    time_horizon : float
        Final time T > 0.
    seed, init_scale, init
        Start, as in :func:`gradient_descent`.
    rtol, atol : float
        Relative and absolute local error tolerances of the integrator (> 0).
    records : int
        Number of equally spaced times in [0, T] at which f and ||grad f|| are reported (>= 2).

    Returns
    -------
    FlowResult

    Raises
    ------
    InvalidParameter
        Out-of-domain arguments.
    NotConverged
        The integrator failed (step size underflow).
    """
    from scipy.integrate import solve_ivp

    problem = _check_problem(problem)
    T = check_positive("time_horizon", time_horizon)
    rtol = check_positive("rtol", rtol)
    atol = check_positive("atol", atol)
    records = check_int("records", records, 2)
    W, H, b = _start(problem, init, seed, init_scale)
    work = _Workspace(problem)
    K, d, N = problem.K, problem.d, problem.N
    sizes = np.cumsum([K * d, d * N])

    def split(y):
        return y[: sizes[0]].reshape(K, d), y[sizes[0] : sizes[1]].reshape(d, N), y[sizes[1] :]

    def objective_gradient(y):
        Wy, Hy, by = split(np.ascontiguousarray(y))
        f = _kernels.objective_gradient(
            Wy, Hy, by, work.labels, *work.scalars, *work.gradient_buffers()
        )
        return f, np.concatenate((work.gW.ravel(), work.gH.ravel(), work.gb))

    start = time.perf_counter()
    times = np.linspace(0.0, T, records)
    y0 = np.concatenate((W.ravel(), H.ravel(), b))
    sol = solve_ivp(
        lambda t, y: -objective_gradient(y)[1], (0.0, T), y0, method="RK45", t_eval=times,
        rtol=rtol, atol=atol,
    )  # fmt: skip
    if sol.status != 0:
        raise NotConverged(f"gradient flow integration failed: {sol.message}; lower rtol/atol or T")
    values = [objective_gradient(y) for y in sol.y.T]
    seconds = time.perf_counter() - start
    Wf, Hf, bf = (np.array(a) for a in split(sol.y[:, -1]))
    parameters = {
        "time_horizon": T, "rtol": rtol, "atol": atol, "method": "RK45",
        "seed": None if init is not None else seed,
        "init_scale": None if init is not None else init_scale,
    }  # fmt: skip
    return FlowResult(
        problem=problem, W=Wf, H=Hf, b=bf, times=times, objective=np.array([v[0] for v in values]),
        gradient_norm=np.array([np.linalg.norm(v[1]) for v in values]),
        metrics=nc_metrics(Wf, Hf, bf, problem.labels), parameters=parameters, nfev=int(sol.nfev),
        seconds=seconds,
    )  # fmt: skip
