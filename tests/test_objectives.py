"""Property tests of ufm.objectives: value against an independent formula, gradient against central
finite differences, numerical stability of CE at huge logits, input validation."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp, softmax

from ufm import InvalidParameter, Problem, gradient, objective
from ufm.objectives import check_point
from ufm.tolerances import FLOAT, GRADIENT_FD, relative_deviation


def make_problem(loss, bias, K, d, sizes, lam=(0.05, 0.03, 0.02)):
    extra = {"lambda_b": lam[2]} if bias == "regularized" else {}
    return Problem(
        loss=loss, K=K, d=d, class_sizes=sizes, lambda_W=lam[0], lambda_H=lam[1], bias=bias, **extra
    )


cases = st.builds(
    lambda loss, bias, K, d, sizes, balanced, seed: (
        make_problem(loss, bias, K, d, (sizes[0],) * K if balanced else tuple(sizes[:K])),
        seed,
    ),
    st.sampled_from(["ce", "mse"]),
    st.sampled_from(["regularized", "free", "none"]),
    st.integers(2, 5),
    st.integers(1, 5),
    st.lists(st.integers(1, 4), min_size=5, max_size=5),
    st.booleans(),
    st.integers(0, 2**16),
)


def point(problem, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((problem.K, problem.d))
    H = rng.standard_normal((problem.d, problem.N))
    b = rng.standard_normal(problem.K) if problem.has_bias else None
    return W, H, b


def reference_objective(problem, W, H, b):
    """The objective written out independently (loops over samples, scipy's logsumexp)."""
    b0 = np.zeros(problem.K) if b is None else b
    Z = W @ H + b0[:, None]
    if problem.loss == "ce":
        data = np.mean([logsumexp(Z[:, i]) - Z[y, i] for i, y in enumerate(problem.labels)])
    else:
        Y = np.eye(problem.K)[:, problem.labels]
        data = np.sum((Z - Y) ** 2) / (2 * problem.N)
    reg = problem.lambda_W / 2 * np.sum(W**2) + problem.lambda_H / 2 * np.sum(H**2)
    return data + reg + problem.lambda_b / 2 * np.sum(b0**2)


@given(cases)
def test_objective_matches_independent_formula(case):
    """Property: objective() equals the formula written out sample by sample."""
    problem, seed = case
    W, H, b = point(problem, seed)
    assert (
        relative_deviation(objective(problem, W, H, b), reference_objective(problem, W, H, b))
        <= FLOAT
    )


@given(cases)
def test_gradient_matches_central_differences(case):
    """Property: every partial derivative equals the central difference of the objective (step
    1e-6), CE and MSE, every bias mode, balanced and imbalanced classes; grad b = 0 if no bias."""
    problem, seed = case
    W, H, b = point(problem, seed)
    g = gradient(problem, W, H, b)
    step = 1e-6
    for name, array in (("W", W), ("H", H), ("b", b)):
        if array is None:
            assert np.array_equal(g.b, np.zeros(problem.K))
            continue
        fd = np.zeros(array.shape)
        for idx in np.ndindex(array.shape):
            plus, minus = array.copy(), array.copy()
            plus[idx] += step
            minus[idx] -= step
            args = {"W": W, "H": H, "b": b}
            f_plus = objective(problem, **{**args, name: plus})
            f_minus = objective(problem, **{**args, name: minus})
            fd[idx] = (f_plus - f_minus) / (2 * step)
        assert relative_deviation(getattr(g, name), fd) <= GRADIENT_FD, name


@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_ce_huge_logits_correct_class_dominates(scale):
    """Property: when every correct logit exceeds the others by `scale`, the CE data term is exactly
    its limit 0 and its gradient is exactly 0, with no overflow."""
    K = 3
    problem = make_problem("ce", "none", K, K, (1,) * K, lam=(0.0, 0.0, 0.0))
    W, H = scale * np.eye(K), np.eye(K)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = objective(problem, W, H)
        g = gradient(problem, W, H)
    assert value == 0.0
    assert np.all(g.W == 0.0) and np.all(g.H == 0.0)


@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_ce_huge_logits_wrong_class_dominates(scale):
    """Property: when a wrong logit exceeds the correct one by `scale`, CE equals `scale` (its limit
    log(e^s + 2) -> s) and dCE/dZ is (e_wrong - e_true)/N, finite."""
    K = 3
    problem = make_problem("ce", "none", K, K, (1,) * K, lam=(0.0, 0.0, 0.0))
    perm = np.roll(np.eye(K), 1, axis=0)  # sample i's largest logit is class i + 1
    W, H = scale * perm, np.eye(K)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = objective(problem, W, H)
        g = gradient(problem, W, H)
    assert relative_deviation(value, scale) <= FLOAT
    expected_G = (perm - np.eye(K)) / K
    assert relative_deviation(g.W, expected_G @ H.T) <= FLOAT
    assert relative_deviation(g.H, W.T @ expected_G) <= FLOAT


@pytest.mark.parametrize(("loss", "scale"), [("ce", 1e200), ("mse", 1e160), ("ce-ls", 1e160)])
def test_overflowing_logits_raise_not_nan(loss, scale):
    """Property: a finite point whose logits exceed the float64 range gets an InvalidParameter that
    says so (objective and gradient) without numpy warnings, never NaN (issue 15, item 2)."""
    params = {"loss_params": {"smoothing": 0.1}} if loss == "ce-ls" else {}
    problem = Problem(loss=loss, K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias="free", **params)
    rng = np.random.default_rng(0)
    W, H = scale * rng.standard_normal((3, 3)), scale * rng.standard_normal((3, 6))
    for f in (objective, gradient):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the overflow is reported once, as the error below
            with pytest.raises(InvalidParameter, match=r"the logits W H \+ b 1\^T at .* float64"):
                f(problem, W, H, np.zeros(3))


def test_ce_logits_1e308_apart_are_exact():
    """Property: CE at finite logits 2e308 apart is its exact limit: 0 (and a zero gradient) when
    the correct logit dominates; a clear error, not NaN or inf, when the value overflows."""
    problem = make_problem("ce", "none", 2, 1, (1, 1), lam=(0.0, 0.0, 0.0))
    W = np.array([[1e308], [-1e308]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert objective(problem, W, np.array([[1.0, -1.0]])) == 0.0
        g = gradient(problem, W, np.array([[1.0, -1.0]]))
    assert np.all(g.W == 0.0) and np.all(g.H == 0.0)
    with pytest.raises(InvalidParameter, match="the objective .* float64 range"):
        objective(problem, W, np.array([[-1.0, 1.0]]))


def test_representable_value_with_huge_squares():
    """Property: at entries 1e154 (squares beyond float64, value not) the MSE objective is finite:
    1/(2N) sum (1e154 - 1)^2 + 0.05 ||W||^2 + 0.05 ||H||^2 = 6.5e307, not inf."""
    problem = make_problem("mse", "none", 3, 3, (1, 1, 1), lam=(0.1, 0.1, 0.0))
    value = objective(problem, 1e154 * np.eye(3), np.eye(3))
    assert relative_deviation(value, 0.5e308 + 0.15e308 + 0.15) <= FLOAT


def test_bias_rules():
    """Property: b is required with a bias, None or zero without one; shapes are checked."""
    K = 2
    W, H = np.ones((K, 1)), np.ones((1, 2))
    with pytest.raises(InvalidParameter, match=r"b \(length K=2\) is required"):
        objective(make_problem("mse", "free", K, 1, (1, 1)), W, H)
    none = make_problem("mse", "none", K, 1, (1, 1))
    assert objective(none, W, H, np.zeros(K)) == objective(none, W, H)
    with pytest.raises(InvalidParameter, match="b must be None or zero"):
        objective(none, W, H, np.ones(K))
    with pytest.raises(InvalidParameter, match=r"W must have shape \(2, 1\)"):
        gradient(none, np.ones((1, 2)), H)
    with pytest.raises(InvalidParameter, match="H must be finite"):
        objective(none, W, np.array([[np.nan, 1.0]]))
    with pytest.raises(InvalidParameter, match="problem must be a ufm.Problem"):
        objective({"loss": "mse"}, W, H)


@pytest.mark.parametrize(
    ("W", "match"),
    [
        (np.full((2, 2), 1 + 1j), "complex"),
        (np.full((2, 2), "1"), "dtype <U1"),
        (np.full((2, 2), True), "dtype bool"),
        ([[1.0, 2.0], [3.0, "4"]], "dtype <U32"),
    ],
)
def test_non_real_arrays_are_refused_not_coerced(W, match):
    """Property: complex arrays are refused (not truncated to their real part), and strings and
    booleans are refused (not coerced to numbers)."""
    problem = Problem(loss="mse", K=2, d=2, n=1, lambda_W=0.1, lambda_H=0.1, bias="none")
    with pytest.raises(InvalidParameter, match=match):
        objective(problem, W, np.eye(2), None)


def test_positive_rules_say_greater_than_zero():
    """Property: a '> 0' rule refuses a negative value with '> 0' in its message, not '>= 0'."""
    from ufm._validation import check_positive

    for value, shown in [(-0.1, "-0.1"), (0, "0.0"), (float("nan"), "nan"), ("1", "'1'")]:
        with pytest.raises(InvalidParameter, match="> 0") as exc:
            check_positive("lr", value)
        assert ">= 0" not in str(exc.value) and str(exc.value).endswith(shown)


def test_overflow_message_names_the_point_and_warns_nothing():
    """Property: a finite point whose gradient leaves the float64 range (finite logits) gets one
    InvalidParameter naming the gradient and the point's largest entries, and numpy emits no
    overflow or invalid-value warning on the way (warnings are turned into errors here). The third
    point makes grad_W = G H^T + lambda_W W the sum inf + (-inf): G H^T = 2 (5e307)(1e8) and
    lambda_W W = 1e10 (-1e299)."""
    cases = [
        (0.1, [[1e290], [-1e290]], [[1e10, -1e10]], [0, 0], "1e\\+290", "1e\\+10"),
        (0.1, [[1e308], [-1e308]], [[0.5, -0.25]], [0, 0], "1e\\+308", "0.5"),
        (1e10, [[-1e299], [-1e299]], [[1e8, 1e8]], [1e308, 1e308], "1e\\+299", "1e\\+08"),
    ]
    for lambda_W, W, H, b, top_W, top_H in cases:
        p = Problem(loss="mse", K=2, d=1, n=1, lambda_W=lambda_W, lambda_H=0.1, bias="free")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(InvalidParameter) as exc:
                gradient(p, np.array(W), np.array(H), np.array(b, dtype=float))
        assert re.fullmatch(
            rf"the gradient at \(W, H, b\) must lie within the float64 range .* it overflows at "
            rf"max\|W\| = {top_W}, max\|H\| = {top_H}: rescale the point",
            str(exc.value),
        ), str(exc.value)


def test_named_blocks_dispatch_to_the_model():
    """Property: a mapping of named blocks gives the same value and gradient as (W, H, b); a
    depth-2 deep linear model with W1 = I (unpenalized) has the UFM's value and, block by block,
    grad W2 = grad_W f, grad H = grad_H f, grad W1 = W2^T G H^T with G = (softmax(Z) - Y)/N
    (the chain rule); (W, H, b) for another model, or both forms at once, are refused."""
    problem = make_problem("ce", "regularized", 3, 2, (2, 1, 2))
    W, H, b = point(problem, 3)
    g = gradient(problem, W, H, b)
    assert objective(problem, {"W": W, "H": H, "b": b}) == objective(problem, W, H, b)
    named = gradient(problem, {"W": W, "H": H, "b": b})
    assert all(np.array_equal(named[k], getattr(g, k)) for k in "WHb")
    deep = Problem(
        loss="ce", K=3, d=2, class_sizes=(2, 1, 2), lambda_H=0.03, bias="regularized",
        lambda_b=0.02, model="deep-linear", model_params={"depth": 2, "lambdas": [0.05, 0.0]},
    )  # fmt: skip
    blocks = {"W2": W, "W1": np.eye(2), "H": H, "b": b}
    assert relative_deviation(objective(deep, blocks), objective(problem, W, H, b)) <= FLOAT
    gd = gradient(deep, blocks)
    Z = W @ H + b[:, None]
    G = (softmax(Z, axis=0) - np.eye(3)[:, problem.labels]) / problem.N  # CE: d data / d Z
    assert relative_deviation(gd["W2"], g.W) <= FLOAT and relative_deviation(gd["H"], g.H) <= FLOAT
    assert relative_deviation(gd["b"], g.b) <= FLOAT
    assert relative_deviation(gd["W1"], W.T @ G @ H.T) <= FLOAT
    for f in (objective, gradient):
        with pytest.raises(InvalidParameter, match=r"model 'deep-linear' has the blocks"):
            f(deep, W, H, b)
        with pytest.raises(InvalidParameter, match="either a mapping of named blocks or"):
            f(problem, {"W": W, "H": H, "b": b}, H)
        for args in ([{"W": W, "H": H, "b": b}], [W, H, b]):
            with pytest.raises(InvalidParameter, match="must be a ufm.Problem, got dict"):
                f({"loss": "ce"}, *args)
    with pytest.raises(InvalidParameter, match=r"problem has model 'deep-linear': use its named"):
        check_point(deep, W, H, b)


def test_bias_refusals_name_the_bias():
    """Property: a bias of the wrong shape is refused naming b and its shape, in every bias
    mode; a nonzero bias without one is refused with exactly that rule."""
    for bias in ("regularized", "none"):
        problem = make_problem("mse", bias, 2, 1, (1, 1))
        with pytest.raises(InvalidParameter, match=r"^b must have shape \(2\), got \(3,\)"):
            objective(problem, np.ones((2, 1)), np.ones((1, 2)), np.zeros(3))
    with pytest.raises(InvalidParameter, match=r"^b must be None or zero when bias='none'$"):
        gradient(problem, np.ones((2, 1)), np.ones((1, 2)), np.ones(2))


def test_positional_blocks_of_another_model():
    """Property: (W, H) given positionally to a model whose blocks are W and H (the sphere) are its
    named blocks: the sphere CE at W = H = I (K = 2, tau = 1) is log(1 + e^-1) either way, with
    the same gradient; a bias it does not have is refused naming the blocks received, and so is a
    bias next to a mapping."""
    p = Problem(loss="ce", K=2, d=2, n=1, model="sphere", model_params={"tau": 1.0})
    I2 = np.eye(2)
    assert relative_deviation(objective(p, I2, I2), np.log1p(np.exp(-1.0))) <= FLOAT
    assert objective(p, I2, I2) == objective(p, {"W": I2, "H": I2})
    g, named = gradient(p, I2, I2), gradient(p, {"W": I2, "H": I2})
    assert set(g) == {"W", "H"} and all(np.array_equal(g[k], named[k]) for k in g)
    for f in (objective, gradient):
        with pytest.raises(InvalidParameter, match=r"blocks \['W', 'H'\], got \['W', 'H', 'b'\]$"):
            f(p, I2, I2, np.zeros(2))
        with pytest.raises(
            InvalidParameter,
            match=r"^give either a mapping of named blocks or \(W, H, b\), not both$",
        ):
            f(p, {"W": I2, "H": I2}, None, np.zeros(2))
