r"""Gradient descent on the deep linear UFM (``model='deep-linear'``).

This is the chain kernel's Python layer. The q = L + 1 factors :math:`W_L, \dots, W_1, H`
are packed flat (block order of
:mod:`ufm.models.deep_linear`) and the whole loop runs in :func:`ufm.dynamics._kernels.
chain_gradient_descent` (numba, BLAS products); this layer validates, packs, allocates and
unpacks. :func:`chain_descend_to_stationary` chooses its own step from a block-Gershgorin bound
on the Hessian (derived here): with :math:`r_x` bounding the spectral norm of factor x over
the next chunk,
:math:`P_j = \prod_{x\ne j}r_x`, :math:`P_{jk} = \prod_{x\ne j,k}r_x` and the residual bound
:math:`\rho = \prod_xr_x + \sqrt{n_{\max}}` (:math:`\|Y\|_2 = \sqrt{n_{\max}}`),

.. math:: \eta = \Big(\max_x\lambda_x + \max_j\frac{P_j^2 + \sum_{k\ne j}(P_jP_k + P_{jk}\rho)}{N}
          \Big)^{-1}

(the data term has curvature 1/N per logit, the logits' derivative in factor j has norm at most
:math:`P_j`, and the mixed second derivatives carry the residual). :math:`r_x` is
``CHAIN_HEADROOM`` times the current norm, and at least the closed-form minimizer's (MSE) or
:math:`\sqrt{\mu/\lambda_x}\,n_{\max}^{1/(2q)}`; the step is re-derived after every chunk of steps,
and a chunk that fails to decrease the objective is retried with half the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_positive
from ..errors import InvalidParameter, NotConverged
from ..models import get_model
from ..problem import Problem
from ..tolerances import STATIONARY
from . import _kernels

__all__ = ["ChainResult", "chain_gradient_descent", "chain_descend_to_stationary"]

#: Growth allowed to each factor's spectral norm within one chunk in the step rule (module
#: docstring); a chunk whose objective does not decrease is retried with half the step.
CHAIN_HEADROOM = 1.25

#: Halvings of a chunk's step when the objective fails to decrease over the chunk (the bound is
#: local: a factor may grow past the headroom within a chunk).
CHAIN_HALVINGS = 30

#: Steps per kernel call between two stationarity tests (the step is re-derived from the current
#: point after each), and the calls before giving up: descent converges linearly at a rate
#: ~ lr min lambda, well below 2e6 steps in the claims' domains.
CHAIN_CHUNK = 2_000
CHAIN_CHUNKS = 1_000


@dataclass(frozen=True)
class ChainResult:
    """End point and records of a descent on the deep linear UFM.

    Attributes
    ----------
    blocks : dict of str -> ndarray
        ``W{L}``, ..., ``W1``, ``H`` (and ``b``) at the end.
    objective, gradient_norm : ndarray
        At the recorded steps and at the end point (last entry).
    lr : float
    steps : int
    """

    blocks: dict
    objective: np.ndarray
    gradient_norm: np.ndarray
    lr: float
    steps: int


class _Chain:
    """Layout and buffers of one deep linear problem, allocated once."""

    def __init__(self, problem: Problem):
        if not isinstance(problem, Problem) or problem.model != "deep-linear":
            raise InvalidParameter(
                "the chain kernel runs model 'deep-linear', got "
                f"{getattr(problem, 'model', type(problem).__name__)!r}"
            )
        self.problem = problem
        self.record = get_model("deep-linear")
        shapes = {k: v for k, v in self.record.blocks(problem).items() if k != "b"}
        self.names = list(shapes)
        self.shapes = np.array(list(shapes.values()), dtype=np.int64)
        sizes = self.shapes.prod(axis=1)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        N, K = problem.N, problem.K
        loss = problem.loss_fn
        self.decay = np.array([*problem.model_params["lambdas"], problem.lambda_H])
        self.scalars = (
            np.ascontiguousarray(problem.labels, dtype=np.int64),
            loss.link_impl.code,
            *loss.target_pair(K),
            self.decay,
            problem.lambda_b if problem.bias == "regularized" else 0.0,
            problem.has_bias,
        )
        widest = int(self.shapes[:, 1].max())
        self.buffers = (
            np.empty(max(int(self.shapes[1:-1, 0].sum()) * N, 1)),
            np.empty((2, widest * N)),
            np.empty((K, N)),
            np.empty(N),
            np.empty(N),
            np.ones(N),
            np.empty(int(sizes.sum())),
            np.empty(K),
        )

    def pack(self, blocks) -> tuple[np.ndarray, np.ndarray]:
        blocks = self.record.check(self.problem, blocks)
        theta = np.concatenate([blocks[name].ravel() for name in self.names])
        return theta, np.array(blocks.get("b", np.zeros(self.problem.K)), order="C")

    def unpack(self, theta, b) -> dict:
        out = {
            name: theta[o : o + r * c].reshape(r, c).copy()
            for name, o, (r, c) in zip(self.names, self.offsets, self.shapes, strict=True)
        }
        if self.problem.has_bias:
            out["b"] = b.copy()
        return out

    def run(self, theta, b, lr, steps, record_every):
        rows = -(-steps // record_every)
        records = np.empty((rows + 1, 2))
        _kernels.chain_gradient_descent(
            theta, self.shapes, self.offsets, b, *self.scalars, lr, steps, record_every,
            *self.buffers, records,
        )  # fmt: skip
        end = records[rows : rows + 1]  # the end point: one step of size 0, recorded
        _kernels.chain_gradient_descent(
            theta, self.shapes, self.offsets, b, *self.scalars, 0.0, 1, 1,
            *self.buffers, end,
        )  # fmt: skip
        return records

    def start(self, init, seed, init_scale):
        if init is None:
            init = self.record.initialize(self.problem, seed, init_scale)
            if self.problem.has_bias:
                init["b"] = np.zeros(self.problem.K)
        return self.pack(init)


def chain_gradient_descent(
    problem: Problem,
    *,
    steps: int,
    lr: float,
    init: dict | None = None,
    seed: int = 0,
    init_scale: float = 1.0,
    record_every: int = 1,
) -> ChainResult:
    r"""``steps`` gradient steps :math:`X \leftarrow X - \eta\nabla_Xf` on the deep linear UFM.

    Every factor :math:`W_L, \dots, W_1, H` and b move together with the exact gradient of
    :meth:`ufm.models.deep_linear.DeepLinear.gradient`, computed by the numba chain kernel.

    Parameters
    ----------
    problem : Problem
        ``model='deep-linear'``, any registered loss and bias mode.
    steps : int
        >= 1.
    lr : float
        Step size > 0.
    init : dict, optional
        Starting blocks (the model's names); default a seeded Gaussian start (b = 0).
    seed : int
    init_scale : float
        Standard deviation of the start's entries (> 0).
    record_every : int
        Record (objective, gradient norm) every this many steps (>= 1).

    Returns
    -------
    ChainResult

    Raises
    ------
    InvalidParameter
        Another model, steps < 1, lr <= 0, record_every < 1, bad init blocks.
    """
    chain = _Chain(problem)
    steps = check_int("steps", steps, 1)
    lr = check_positive("lr", lr)
    record_every = check_int("record_every", record_every, 1)
    theta, b = chain.start(init, seed, init_scale)
    records = chain.run(theta, b, lr, steps, record_every)
    if not np.all(np.isfinite(records)):
        raise NotConverged(f"descent diverged (lr={lr:.3g}): lower lr")
    return ChainResult(chain.unpack(theta, b), records[:, 0], records[:, 1], lr, steps)


def _step_size(chain: _Chain, theta: np.ndarray) -> float:
    """The step of the module docstring at the current point theta."""
    from ..minimizers_deep import deep_linear_minimizer

    p = chain.problem
    q = len(chain.names)
    norms = np.array([
        np.linalg.norm(theta[o : o + r * c].reshape(r, c), 2)
        for o, (r, c) in zip(chain.offsets, chain.shapes, strict=True)
    ])  # fmt: skip
    sizes = np.asarray(p.class_sizes, dtype=float)
    if p.loss == "mse" and p.bias != "regularized" and chain.decay.min() > 0:
        cf = deep_linear_minimizer(p)
        floor = np.array([np.linalg.norm(cf.blocks[name], 2) for name in chain.names])
    else:
        mu = float(np.prod(chain.decay)) ** (1.0 / q)
        floor = np.sqrt(mu / np.maximum(chain.decay, 1e-300)) * sizes.max() ** (0.5 / q)
    r = np.maximum(CHAIN_HEADROOM * norms, floor)
    residual = np.prod(r) + np.sqrt(sizes.max())
    bound = 0.0
    for j in range(q):
        others = np.prod(np.delete(r, j))
        cross = sum(
            others * np.prod(np.delete(r, k)) + np.prod(np.delete(r, [j, k])) * residual
            for k in range(q)
            if k != j
        )
        bound = max(bound, (others**2 + cross) / p.N)
    return 1.0 / (chain.decay.max() + bound)


def chain_descend_to_stationary(
    problem: Problem,
    *,
    seed: int = 0,
    init_scale: float = 1.0,
    init: dict | None = None,
    chunk: int = CHAIN_CHUNK,
    max_chunks: int = CHAIN_CHUNKS,
) -> ChainResult:
    r"""Descent on the deep linear UFM until :math:`\|\nabla f\| \le` ``STATIONARY`` (1 + |f|).

    The step is the module docstring's; the start is ``init`` or a seeded Gaussian of standard
    deviation ``init_scale``. For depth L >= 2 (q >= 3 factors) the origin is a strict local
    minimizer, so descent reaches *a* local minimizer, not necessarily the global one: which one
    depends on the start (claims ``mse.deep-linear-jump``, ``landscape.deep-origin-minimum``).

    Raises
    ------
    NotConverged
        Not stationary after ``max_chunks * chunk`` steps (raise max_chunks).
    """
    chain = _Chain(problem)
    chunk = check_int("chunk", chunk, 1)
    max_chunks = check_int("max_chunks", max_chunks, 1)
    theta, b = chain.start(init, seed, init_scale)
    value = np.inf
    for i in range(max_chunks):
        lr = _step_size(chain, theta)
        for _ in range(CHAIN_HALVINGS):
            trial_theta, trial_b = theta.copy(), b.copy()
            records = chain.run(trial_theta, trial_b, lr, chunk, chunk)
            if np.all(np.isfinite(records)) and records[-1, 0] <= min(value, records[0, 0]):
                break
            lr /= 2
        else:
            raise NotConverged(f"descent does not decrease the objective even at lr={lr:.3g}")
        theta, b, value = trial_theta, trial_b, records[-1, 0]
        if records[-1, 1] <= STATIONARY * (1.0 + abs(records[-1, 0])):
            blocks = chain.unpack(theta, b)
            return ChainResult(blocks, records[:, 0], records[:, 1], lr, (i + 1) * chunk)
    raise NotConverged(
        f"descent on the deep linear UFM (lr={lr:.3g}) is not stationary after "
        f"{max_chunks * chunk} steps (gradient norm {records[-1, 1]:.3g}): raise max_chunks"
    )
