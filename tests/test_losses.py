"""The battery every registered loss passes: adding a loss to ``ufm.losses`` tests it here.

Each test iterates over :func:`ufm.losses.loss_names` (with parameters at the ends and the middle of
their domains), so nothing here names a particular loss.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ufm
from ufm.dynamics import _kernels, gradient_descent, initialize
from ufm.errors import InvalidParameter
from ufm.losses import get_loss, loss_class, loss_names
from ufm.relaxations._symmetry import ClassGroups, exchange_data, expand
from ufm.tolerances import FLOAT, GRADIENT_FD, KERNEL_TWIN, relative_deviation


def _instances():
    """Every registered loss at parameter values spanning its domain."""
    out = []
    for name in loss_names():
        params = loss_class(name).parameters
        if not params:
            out.append(get_loss(name))
            continue
        for fraction in (0.0, 0.5, 0.9):
            values = {key: spec.lo + fraction * (spec.hi - spec.lo) for key, spec in params.items()}
            out.append(get_loss(name, **values))
    return out


LOSSES = _instances()
IDS = [repr(loss) for loss in LOSSES]


def _logits(seed: int, K: int, N: int, scale: float = 2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((K, N)), rng.integers(0, K, N)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_value_is_the_definition(loss):
    """Property: the vectorized data term equals the mean of the plainly written per-sample loss."""
    Z, y = _logits(0, 4, 9)
    value, _ = loss.value_and_grad(Z, y)
    want = np.mean([loss.per_sample(Z[:, i], int(y[i])) for i in range(9)])
    assert relative_deviation(value, want) <= FLOAT


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_gradient_equals_central_differences(loss):
    """Property: the gradient matches central differences; with h = 1e-5 the truncation error is
    O(h^2 |l'''|) ~ 1e-10 and the rounding error O(eps/h) ~ 1e-11, both below GRADIENT_FD."""
    Z, y = _logits(1, 3, 5)
    _, G = loss.value_and_grad(Z, y)
    h = 1e-5
    fd = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        E = np.zeros_like(Z)
        E[idx] = h
        fd[idx] = (loss.value_and_grad(Z + E, y)[0] - loss.value_and_grad(Z - E, y)[0]) / (2 * h)
    assert relative_deviation(G, fd) <= GRADIENT_FD


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_hessian_blocks_and_curvature_bound(loss):
    """Property: the link's per-sample Hessian equals differences of the gradient, its product with
    a direction equals the blocks applied to it, and its spectral norm is at most the stated
    curvature bound (the step rules rely on it)."""
    Z, y = _logits(2, 4, 6, scale=3.0)
    link = loss.link_impl
    B = link.hessian_blocks(Z)
    h = 1e-6
    for i in range(Z.shape[1]):
        for k in range(Z.shape[0]):
            E = np.zeros_like(Z)
            E[k, i] = h
            column = (loss.value_and_grad(Z + E, y)[1] - loss.value_and_grad(Z - E, y)[1]) / (2 * h)
            # the gradient carries 1/N; the block is per sample
            assert relative_deviation(column[:, i] * Z.shape[1], B[i][:, k]) <= GRADIENT_FD
    dZ = np.random.default_rng(3).standard_normal(Z.shape)
    applied = link.hessian_apply(Z, dZ)
    assert relative_deviation(applied, np.einsum("ikl,li->ki", B, dZ) / Z.shape[1]) <= FLOAT
    assert max(np.linalg.norm(b, 2) for b in B) <= loss.curvature * (1 + FLOAT)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_targets_and_invariances(loss):
    """Property: targets are exchange-symmetric (sum to 1 under the softmax link); a
    shift-invariant loss ignores z -> z + c 1; relabelling classes and permuting logit rows
    together leaves the loss unchanged."""
    K = 5
    T = loss.class_targets(K)
    own, other = loss.target_pair(K)
    assert np.allclose(T, (own - other) * np.eye(K) + other, rtol=0, atol=0)
    if loss.link == "softmax":
        assert relative_deviation(T.sum(axis=0), np.ones(K)) <= FLOAT
    Z, y = _logits(4, K, 7)
    value = loss.value_and_grad(Z, y)[0]
    shifted = loss.value_and_grad(Z + 3.7, y)[0]
    assert (relative_deviation(shifted, value) <= FLOAT) == loss.shift_invariant
    perm = np.random.default_rng(5).permutation(K)
    inverse = np.argsort(perm)
    assert relative_deviation(loss.value_and_grad(Z[perm], inverse[y])[0], value) <= FLOAT


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_sympy_sample_equals_numpy(loss):
    """Property: the sympy form of one sample (used by the closed forms) equals the numpy loss at
    logits (own, other, ..., other)."""
    import sympy as sp

    from ufm.minimizers import SYMBOLS

    K, own, other = 4, 1.3, -0.4
    expr = type(loss).sympy_sample(sp.Float(own), sp.Float(other), K, SYMBOLS)
    values = {SYMBOLS[key]: value for key, value in loss.params.items()}
    z = np.array([own] + [other] * (K - 1))
    assert relative_deviation(float(sp.N(expr.subs(values), 30)), loss.per_sample(z, 0)) <= FLOAT


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_kernel_logit_gradient_equals_numpy(loss):
    """Property: the numba data-term kernel (link code + targets) equals the numpy form, value and
    gradient, with a bias added inside the kernel."""
    Z, y = _logits(6, 4, 11)
    b = np.random.default_rng(7).standard_normal(4)
    want_value, want_G = loss.value_and_grad(Z + b[:, None], y)
    G = np.ascontiguousarray(Z.copy())
    value = _kernels.logit_gradient(
        G, b, y.astype(np.int64), loss.link_impl.code, *loss.target_pair(4), True,
        np.empty(11), np.empty(11),
    )  # fmt: skip
    assert relative_deviation(value, want_value) <= KERNEL_TWIN
    assert relative_deviation(G, want_G) <= KERNEL_TWIN


@settings(max_examples=6)
@given(bias=st.sampled_from(["regularized", "free", "none"]), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_descent_kernel_equals_numpy_descent(loss, bias, seed):
    """Property: the compiled descent equals plain numpy descent through ufm.objectives step for
    step, recorded and unrecorded steps alike, to KERNEL_TWIN."""
    problem = ufm.Problem(
        loss=loss, K=3, d=2, class_sizes=(2, 3, 1), lambda_W=1e-2, lambda_H=2e-2,
        lambda_b=3e-2 if bias == "regularized" else None, bias=bias,
    )  # fmt: skip
    lr, steps = 0.05, 12
    result = gradient_descent(problem, steps=steps, lr=lr, seed=seed, record_every=5)
    W, H, b = initialize(problem, seed, 1.0)
    values = []
    for _ in range(steps + 1):
        values.append(ufm.objective(problem, W, H, b if problem.has_bias else None))
        g = ufm.gradient(problem, W, H, b if problem.has_bias else None)
        W, H, b = W - lr * g.W, H - lr * g.H, (b - lr * g.b if problem.has_bias else b)
    assert relative_deviation(result.objective, np.array(values)[result.steps]) <= KERNEL_TWIN


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_convex_forms_equal_the_data_term(loss):
    """Property: the cvxpy data terms (over columns, and exchange-symmetric over class groups)
    evaluated at constant logits equal the numpy data term."""
    import cvxpy as cp

    sizes = (3, 3, 1, 2, 2)
    K, N = len(sizes), sum(sizes)
    labels = np.repeat(np.arange(K), sizes)
    groups = ClassGroups(sizes)
    rng = np.random.default_rng(8)
    a, C = rng.standard_normal(groups.G), rng.standard_normal((groups.G, groups.G))
    Zbar = expand(a, C, groups.index)
    want = loss.value_and_grad(Zbar[:, labels], labels)[0]
    targets = loss.class_targets(K)[:, labels]
    columns = loss.link_impl.cvx_columns(cp, cp.Constant(Zbar[:, labels]), targets, np.ones(N), N)
    assert relative_deviation(columns.value, want) <= FLOAT
    weights = groups.counts * groups.sizes / N
    exchange = exchange_data(cp, loss, cp.Constant(C), cp.Constant(a), groups, weights)
    assert relative_deviation(exchange.value, want) <= FLOAT


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_stationary_bias_zeroes_the_bias_gradient(loss):
    """Property: the stationary bias solves sum_k pi_k grad l(zbar_k + b; t_k) + lambda_b b = 0."""
    K = 4
    rng = np.random.default_rng(9)
    Zbar, pi = rng.standard_normal((K, K)), rng.dirichlet(np.ones(K))
    for lambda_b in (0.0, 0.3):
        b = loss.stationary_bias(Zbar, pi, lambda_b)
        _, G = loss.link_impl.value_and_grad(Zbar + b[:, None], loss.class_targets(K))
        # Newton stops at BIAS_NEWTON_TOL (1e-13); the square link's root is exact to rounding.
        assert np.linalg.norm(G @ pi * K + lambda_b * b) <= FLOAT


@pytest.mark.parametrize("name", loss_names())
def test_parameters_are_validated(name):
    """Property: every loss parameter outside its domain (or missing, or unknown) is refused with a
    message naming the loss and the parameter."""
    cls = loss_class(name)
    with pytest.raises(InvalidParameter, match="takes the parameters"):
        get_loss(name, not_a_parameter=1.0, **{k: s.lo for k, s in cls.parameters.items()})
    for key, spec in cls.parameters.items():
        others = {k: s.lo for k, s in cls.parameters.items() if k != key}
        for bad in (spec.lo - 1.0, spec.hi + (0.0 if not spec.closed else 1.0), math.nan, "x"):
            with pytest.raises(InvalidParameter, match=key):
                get_loss(name, **others, **{key: bad})
        with pytest.raises(InvalidParameter, match=key):
            get_loss(name, **others)


def test_unknown_loss_is_refused_everywhere():
    """Property: an unregistered loss name is refused by the Problem with the registered names."""
    with pytest.raises(InvalidParameter, match="'ce', 'mse', 'ce-ls'"):
        ufm.Problem(loss="hinge", K=2, d=2, n=1, lambda_W=0.1, lambda_H=0.1, bias="none")
