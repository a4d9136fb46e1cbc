"""The fast descent kernels against numpy twins: BLAS calls with transposition flags, the vectorized
exp, the unrecorded-step path (fused H update) and the benchmark's floor kernel."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ufm
from ufm.dynamics import _kernels, gradient_descent, initialize
from ufm.tolerances import FLOAT, KERNEL_EXP, KERNEL_TWIN, relative_deviation


@pytest.mark.parametrize("transpose_A", [False, True])
@pytest.mark.parametrize("transpose_B", [False, True])
def test_gemm_flags_equal_numpy(transpose_A, transpose_B):
    """Property: _gemm computes alpha op(A) op(B) + beta C on row-major arrays for every flag."""
    rng = np.random.default_rng(7)
    m, k, n = 5, 3, 4
    A = rng.standard_normal((k, m) if transpose_A else (m, k))
    B = rng.standard_normal((n, k) if transpose_B else (k, n))
    C = rng.standard_normal((m, n))
    want = -0.7 * (A.T if transpose_A else A) @ (B.T if transpose_B else B) + 0.3 * C
    _kernels._gemm(-0.7, A, transpose_A, B, transpose_B, 0.3, C)
    assert relative_deviation(C, want) <= FLOAT


def test_row_sums_and_matrix_products_equal_numpy():
    """Property: the gemv row sums and the floor kernel's three products equal numpy's."""
    rng = np.random.default_rng(8)
    K, d, N = 4, 6, 9
    W, H = rng.standard_normal((K, d)), rng.standard_normal((d, N))
    Z, gW, gH, sums = np.empty((K, N)), np.empty((K, d)), np.empty((d, N)), np.empty(K)
    _kernels.matrix_products(W, H, Z, gW, gH, 2)
    assert relative_deviation(Z, W @ H) <= FLOAT
    assert relative_deviation(gW, (W @ H) @ H.T) <= FLOAT
    assert relative_deviation(gH, W.T @ (W @ H)) <= FLOAT
    _kernels._row_sums(Z, np.ones(N), sums)
    assert relative_deviation(sums, Z.sum(axis=1)) <= FLOAT


@given(x=st.floats(min_value=-708.0, max_value=0.0))
def test_exp_equals_numpy(x):
    """Property: exp_nonpositive(x) equals numpy.exp(x) to a few ulp, relative, on [-708, 0]."""
    assert relative_deviation(_kernels.exp_nonpositive(x) / np.exp(x), 1.0) <= KERNEL_EXP


def test_exp_grid_and_edges():
    """Property: on a dense grid of [-708, 0] the relative error stays within KERNEL_EXP; below
    -708 the result is 0 (true value < 3.4e-308), -inf gives 0 and NaN propagates."""
    x = np.concatenate((-np.linspace(0.0, 708.0, 20001), -np.logspace(-300, 2, 301)))
    got = np.array([_kernels.exp_nonpositive(v) for v in x])
    assert relative_deviation(got / np.exp(x), 1.0) <= KERNEL_EXP
    for v in (-708.5, -745.2, -1e6, -np.inf):
        assert _kernels.exp_nonpositive(v) == 0.0 and np.exp(v) < math.exp(-708.0)
    assert math.isnan(_kernels.exp_nonpositive(np.nan))


def _numpy_run(problem, W, H, b, lr, steps):
    """Plain numpy descent through ufm.objectives: objective at every step and the final point."""
    bias = problem.has_bias
    values = []
    for _ in range(steps):
        values.append(ufm.objective(problem, W, H, b if bias else None))
        g = ufm.gradient(problem, W, H, b if bias else None)
        W, H, b = W - lr * g.W, H - lr * g.H, (b - lr * g.b if bias else b)
    values.append(ufm.objective(problem, W, H, b if bias else None))
    return np.array(values), W, H, b


@settings(max_examples=24)
@given(
    loss=st.sampled_from(["ce", "mse"]),
    bias=st.sampled_from(["regularized", "free", "none"]),
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=5),
    d=st.integers(1, 6),
    scale=st.sampled_from([0.1, 1.0, 4.0]),
    record_every=st.integers(2, 9),
    seed=st.integers(0, 2**16),
)
def test_unrecorded_steps_equal_numpy_twin(loss, bias, sizes, d, scale, record_every, seed):
    """Property: with records every R > 1 steps (the fused fast path in between), the recorded
    objectives and the final point equal plain numpy descent step for step to KERNEL_TWIN."""
    problem = ufm.Problem(
        loss=loss, K=len(sizes), d=d, class_sizes=tuple(sizes), lambda_W=1e-2, lambda_H=2e-2,
        lambda_b=3e-2 if bias == "regularized" else None, bias=bias,
    )  # fmt: skip
    # lr well below 2/L for these scales: MSE's data Hessian grows like the squared feature scale.
    lr, steps = (0.2 if loss == "ce" else 0.05) / max(1.0, scale), 40
    result = gradient_descent(
        problem, steps=steps, lr=lr, seed=seed, init_scale=scale, record_every=record_every
    )
    values, W, H, b = _numpy_run(problem, *initialize(problem, seed, scale), lr, steps)
    assert list(result.steps) == list(range(0, steps, record_every)) + [steps]
    assert relative_deviation(result.objective, values[result.steps]) <= KERNEL_TWIN
    for got, want in ((result.W, W), (result.H, H), (result.b, b)):
        assert relative_deviation(got, want) <= KERNEL_TWIN


def test_large_logits_take_the_underflow_branch():
    """Property: with logits in the hundreds (exp of the shifted logits flushes to 0) the fast path
    still equals the numpy twin."""
    problem = ufm.Problem(loss="ce", K=3, d=3, n=2, lambda_W=1e-3, lambda_H=1e-3, bias="free")
    W, H, b = initialize(problem, 5, 1.0)
    W, H = 30.0 * W, 30.0 * H
    result = gradient_descent(problem, steps=12, lr=1e-4, record_every=5, init=(W, H, b))
    values, *_ = _numpy_run(problem, W, H, b, 1e-4, 12)
    assert np.ptp(W @ H, axis=0).max() > 708.0
    assert relative_deviation(result.objective, values[result.steps]) <= KERNEL_TWIN
