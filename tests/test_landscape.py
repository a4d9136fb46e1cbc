"""Tests of ufm.landscape: the exact Hessian (finite differences, sympy), extreme eigenpairs,
and the known non-global critical points (origin, sub-frames): strict saddles below kappa = 1."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ufm import InvalidParameter, Problem, gradient, objective
from ufm.landscape import (
    classify_critical_point,
    critical_points,
    escape_direction,
    extreme_eigenpairs,
    hessian,
    hessian_vector_product,
    origin_spectrum,
    pack,
    unpack,
)
from ufm.tolerances import (
    FLOAT,
    GRADIENT_FD,
    NEGATIVE_CURVATURE,
    STATIONARY,
    relative_deviation,
)

LOSSES = ("ce", "mse")
BIASES = ("regularized", "free", "none")


def make_problem(loss, bias, K, d, sizes, lam_W=0.01, lam_H=0.02, lam_b=0.03):
    extra = {"lambda_b": lam_b} if bias == "regularized" else {}
    return Problem(
        loss=loss, K=K, d=d, class_sizes=sizes, lambda_W=lam_W, lambda_H=lam_H, bias=bias, **extra
    )


def random_point(problem, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    W = scale * rng.standard_normal((problem.K, problem.d))
    H = scale * rng.standard_normal((problem.d, problem.N))
    b = scale * rng.standard_normal(problem.K) if problem.has_bias else None
    return W, H, b


def flat_gradient(problem, x):
    g = gradient(problem, *unpack(problem, x))
    return pack(g.W, g.H, g.b if problem.has_bias else None)


problems = st.builds(
    lambda loss, bias, K, d, sizes, seed: (make_problem(loss, bias, K, d, tuple(sizes[:K])), seed),
    st.sampled_from(LOSSES),
    st.sampled_from(BIASES),
    st.integers(2, 4),
    st.integers(1, 4),
    st.lists(st.integers(1, 3), min_size=4, max_size=4),
    st.integers(0, 2**16),
)


@settings(max_examples=25)
@given(problems)
def test_hessian_matches_finite_differences_of_gradient(case):
    """Property: the analytic Hessian equals central differences of the exact gradient."""
    problem, seed = case
    W, H, b = random_point(problem, seed)
    x = pack(W, H, b)
    step = 1e-6
    columns = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = step
        columns.append((flat_gradient(problem, x + e) - flat_gradient(problem, x - e)) / (2 * step))
    assert relative_deviation(hessian(problem, W, H, b), np.array(columns).T) <= GRADIENT_FD


@settings(max_examples=25)
@given(problems)
def test_hessian_vector_product_matches_dense(case):
    """Property: the matrix-free product is the dense Hessian times V; the Hessian is symmetric."""
    problem, seed = case
    W, H, b = random_point(problem, seed)
    Hess = hessian(problem, W, H, b)
    V = np.random.default_rng(seed + 1).standard_normal(Hess.shape[0])
    assert relative_deviation(hessian_vector_product(problem, W, H, b, V), Hess @ V) <= FLOAT
    assert np.array_equal(Hess, Hess.T)


def sympy_hessian(problem):
    """Exact symbolic Hessian of the objective (variables ordered as ``pack``)."""
    K, d, N = problem.K, problem.d, problem.N
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"w{k}_{j}"))
    H = sp.Matrix(d, N, lambda j, i: sp.Symbol(f"h{j}_{i}"))
    b = sp.Matrix(K, 1, lambda k, _: sp.Symbol(f"b{k}")) if problem.has_bias else sp.zeros(K, 1)
    Z = W * H + b * sp.ones(1, N)
    labels = problem.labels
    if problem.loss == "mse":
        data = sum(
            (Z[k, i] - (1 if labels[i] == k else 0)) ** 2 for k in range(K) for i in range(N)
        ) / (2 * N)
    else:
        data = (
            sum(sp.log(sum(sp.exp(Z[k, i]) for k in range(K))) - Z[labels[i], i] for i in range(N))
            / N
        )
    rational = sp.Rational
    reg = rational(problem.lambda_W) / 2 * sum(x**2 for x in W) + rational(
        problem.lambda_H
    ) / 2 * sum(x**2 for x in H)
    if problem.bias == "regularized":
        reg += rational(problem.lambda_b) / 2 * sum(x**2 for x in b)
    variables = list(W) + list(H) + (list(b) if problem.has_bias else [])
    return sp.hessian(data + reg, variables), variables


def dyadic_point(problem, seed):
    """Entries k/4, |k| <= 8: their products and sums, divided by N = 4, are exact in float64."""
    rng = np.random.default_rng(seed)
    W, H, b = (
        None if a is None else rng.integers(-8, 9, np.shape(a)) / 4
        for a in random_point(problem, seed)
    )
    return W, H, b


@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("K,d,n", [(2, 3, 2), (4, 2, 1)])
def test_mse_hessian_equals_sympy_exactly(bias, K, d, n):
    """Property: at dyadic rational points (N = 4, dyadic lambdas) the float MSE Hessian equals
    sympy's exact Hessian entry by entry, with no tolerance."""
    problem = make_problem("mse", bias, K, d, (n,) * K, lam_W=0.25, lam_H=0.125, lam_b=0.5)
    exact, variables = sympy_hessian(problem)
    W, H, b = dyadic_point(problem, seed=K * 10 + d)
    x = pack(W, H, b)
    values = {v: sp.Rational(float(xv)) for v, xv in zip(variables, x, strict=True)}
    want = exact.subs(values)
    got = hessian(problem, W, H, b)
    mismatches = [
        (i, j)
        for i in range(x.size)
        for j in range(x.size)
        if sp.Rational(float(got[i, j])) != want[i, j]
    ]
    assert mismatches == []


@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("K,d,n", [(2, 2, 2), (3, 2, 1)])
def test_ce_hessian_matches_sympy_in_high_precision(bias, K, d, n):
    """Property: the float CE Hessian agrees with sympy's exact Hessian evaluated at 40 digits."""
    import mpmath

    problem = make_problem("ce", bias, K, d, (n,) * K)
    exact, variables = sympy_hessian(problem)
    W, H, b = random_point(problem, seed=7 + K)
    x = pack(W, H, b)
    with mpmath.workdps(40):
        f = sp.lambdify(variables, exact, modules="mpmath")
        want = np.array(f(*[mpmath.mpf(float(v)) for v in x]).tolist(), dtype=float)
    assert relative_deviation(hessian(problem, W, H, b), want) <= FLOAT


def test_pack_unpack_round_trip_and_length_check():
    """Property: unpack(pack(W, H, b)) returns the arrays; a wrong-length vector is refused."""
    problem = make_problem("ce", "free", 3, 2, (1, 2, 1))
    W, H, b = random_point(problem, 3)
    back = unpack(problem, pack(W, H, b))
    assert np.array_equal(back.W, W) and np.array_equal(back.H, H) and np.array_equal(back.b, b)
    with pytest.raises(InvalidParameter, match="length P=17"):
        unpack(problem, np.zeros(16))


def below_threshold(loss, bias, K, d, n, kappa, ratio):
    """A balanced problem with K sqrt(n lambda_W lambda_H) = kappa, lambda_W / lambda_H = ratio."""
    product = (kappa / K) ** 2 / n
    lam_W = float(np.sqrt(product * ratio))
    return make_problem(loss, bias, K, d, (n,) * K, lam_W=lam_W, lam_H=product / lam_W, lam_b=0.05)


@settings(max_examples=30)
@given(
    st.sampled_from(LOSSES),
    st.sampled_from(BIASES),
    st.integers(2, 5),
    st.integers(1, 7),
    st.integers(1, 3),
    st.floats(0.05, 0.9),
    st.floats(0.25, 4.0),
)
def test_known_critical_points_are_strict_saddles_below_threshold(
    loss, bias, K, d, n, kappa, ratio
):
    """Property: for kappa < 1 every constructed point (origin, one sub-frame per rank r < d) is
    critical to STATIONARY with negative curvature; a step along the escape direction lowers f."""
    problem = below_threshold(loss, bias, K, d, n, kappa, ratio)
    points = critical_points(problem)
    assert points[0].name == "origin"
    max_rank = K - 1 if loss == "mse" and bias == "none" else K - 2
    assert len(points) == 1 + min(max_rank, d - 1)
    for name, W, H, b in points:
        report = classify_critical_point(problem, W, H, b)
        assert report.grad_norm <= STATIONARY, name
        assert report.verdict == "strict saddle", (name, report.lambda_min)
        value, v = escape_direction(problem, W, H, b)
        assert value == report.lambda_min
        step = 1e-3
        moved = objective(
            problem, W + step * v.W, H + step * v.H, None if b is None else b + step * v.b
        )
        assert moved < objective(problem, W, H, b)


@settings(max_examples=30)
@given(
    st.sampled_from(LOSSES),
    st.sampled_from(BIASES),
    st.integers(2, 4),
    st.integers(1, 3),
    st.lists(st.integers(1, 3), min_size=4, max_size=4),
    st.floats(0.1, 2.0),
)
def test_origin_spectrum_closed_form_matches_eigh(loss, bias, K, d, sizes, kappa):
    """Property: the closed-form spectrum at the origin equals eigh of the exact Hessian, also for
    imbalanced classes; for balanced classes lambda_min < 0 iff kappa < 1."""
    balanced = below_threshold(loss, bias, K, d, sizes[0], kappa, 1.0)
    lam = {"lam_W": balanced.lambda_W, "lam_H": balanced.lambda_H}
    problem = make_problem(loss, bias, K, d, tuple(sizes[:K]), **lam)
    _, W, H, b = critical_points(problem)[0]
    assert (
        relative_deviation(origin_spectrum(problem), np.linalg.eigvalsh(hessian(problem, W, H, b)))
        <= FLOAT
    )
    lam_min = origin_spectrum(balanced)[0]
    assert (lam_min < -NEGATIVE_CURVATURE) == (kappa < 1) or abs(kappa - 1) < NEGATIVE_CURVATURE


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bias", BIASES)
def test_above_threshold_origin_is_second_order_minimum_and_alone(loss, bias):
    """Property: for kappa > 1 the origin is the only constructed point, a second-order minimum."""
    problem = below_threshold(loss, bias, 3, 4, 2, 1.5, 2.0)
    points = critical_points(problem)
    assert [p.name for p in points] == ["origin"]
    report = classify_critical_point(problem, *points[0][1:])
    assert report.verdict == "local minimum (second-order)"


def test_mse_orthogonal_frame_global_minimizer_is_not_a_saddle():
    """Property: the full frame (S = all classes, W Hbar = (1 - kappa) I) of bias-free MSE, the
    global minimizer of Tirer & Bruna (2022), built inline, is critical, no negative curvature."""
    K, d, n, kappa = 3, 4, 2, 0.4
    problem = below_threshold("mse", "none", K, d, n, kappa, 2.0)
    ratio = np.sqrt(problem.lambda_W / (n * problem.lambda_H))
    a = np.sqrt((1 - kappa) / ratio)
    W = a * np.eye(K, d)
    H = np.repeat(a * ratio * np.eye(d, K), n, axis=1)
    report = classify_critical_point(problem, W, H, None)
    assert report.grad_norm <= STATIONARY
    assert report.verdict == "local minimum (second-order)"


def test_subframe_scale_mse_no_bias_is_one_minus_kappa():
    """Property: for bias-free MSE each sub-frame satisfies W Hbar = (1 - kappa) P_S (float64)."""
    K, n, kappa = 4, 2, 0.3
    problem = below_threshold("mse", "none", K, K, n, kappa, 0.5)
    for m, (name, W, H, _) in enumerate(critical_points(problem)[1:], start=1):
        assert name == f"subframe-{m}"
        P_S = np.diag([1.0] * m + [0.0] * (K - m))
        assert relative_deviation(W @ H[:, ::n], (1 - kappa) * P_S) <= FLOAT


def test_arpack_route_matches_dense_route():
    """Property: the matrix-free ARPACK route gives the dense extreme eigenvalues."""
    problem = below_threshold("ce", "regularized", 3, 4, 3, 0.5, 1.0)
    W, H, b = random_point(problem, 11, scale=0.5)
    dense = extreme_eigenpairs(problem, W, H, b, k=2, dense=True)
    sparse = extreme_eigenpairs(problem, W, H, b, k=2, dense=False)
    assert relative_deviation(sparse.smallest, dense.smallest) <= NEGATIVE_CURVATURE
    assert relative_deviation(sparse.largest, dense.largest) <= NEGATIVE_CURVATURE


def test_large_problem_uses_matrix_free_route():
    """Property: a problem with P > DENSE_MAX (K=10, d=20, n=20: P = 4210) is classified
    matrix-free and its origin is a strict saddle with the closed-form lambda_min."""
    problem = below_threshold("ce", "free", 10, 20, 20, 0.5, 1.0)
    name, W, H, b = critical_points(problem)[0]
    report = classify_critical_point(problem, W, H, b)
    assert report.verdict == "strict saddle"
    assert relative_deviation(report.lambda_min, origin_spectrum(problem)[0]) <= NEGATIVE_CURVATURE


def test_bad_inputs_are_refused():
    """Property: wrong shapes, a bias with bias='none', k >= P, a non-Problem: InvalidParameter."""
    problem = make_problem("mse", "none", 2, 1, (1, 1))
    W, H, _ = random_point(problem, 0)
    with pytest.raises(InvalidParameter, match="H must have shape"):
        hessian(problem, W, H.T)
    with pytest.raises(InvalidParameter, match="bias='none'"):
        hessian(problem, W, H, np.ones(2))
    with pytest.raises(InvalidParameter, match="k must be < P=4"):
        extreme_eigenpairs(problem, W, H, None, k=4)
    with pytest.raises(InvalidParameter, match="problem must be a ufm.Problem"):
        critical_points("mse")


@settings(max_examples=20)
@given(
    st.sampled_from(LOSSES),
    st.sampled_from(BIASES),
    st.integers(2, 4),
    st.floats(1.0, 3.0),
    st.floats(1e-2, 10.0),
    st.integers(0, 2**16),
)
def test_origin_is_global_minimizer_above_threshold(loss, bias, K, kappa, scale, seed):
    """Property: for kappa >= 1 no random point (any scale) has a lower objective than the origin,
    as the nuclear-norm relaxation argument in critical_points predicts."""
    problem = below_threshold(loss, bias, K, K + 1, 2, kappa, 1.0)
    _, W0, H0, b0 = critical_points(problem)[0]
    W, H, b = random_point(problem, seed, scale)
    assert objective(problem, W, H, b) >= objective(problem, W0, H0, b0)
