"""Tests of ufm.relaxations: nuclear-norm certificates, layer-peeled SDP, Minority Collapse, max
margin."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from ufm import Configuration, Problem, objective
from ufm.errors import InvalidParameter, SolverFailed
from ufm.objectives import data_term
from ufm.relaxations import (
    gap,
    layer_peeled_sdp,
    max_margin,
    max_min_angle,
    minority_collapse_sweep,
    minority_threshold,
    nuclear_relaxation,
)
from ufm.relaxations._solve import solve
from ufm.relaxations._symmetry import ClassGroups, exchange_data, expand
from ufm.tolerances import (
    CLARABEL_EPS,
    CONVEX_ARGMIN,
    CONVEX_CLARABEL,
    CONVEX_SCS,
    FLOAT,
    MINORITY_SPREAD_EXTRAPOLATION,
    relative_deviation,
)

lambdas = st.sampled_from([1e-3, 5e-3, 2e-2, 1e-1])
biases = st.sampled_from(["regularized", "free", "none"])


def _problem(loss, bias, K, d, lam_W, lam_H, lam_b=1e-2, **sizes):
    return Problem(
        loss=loss,
        K=K,
        d=d,
        lambda_W=lam_W,
        lambda_H=lam_H,
        bias=bias,
        lambda_b=lam_b if bias == "regularized" else None,
        **sizes,
    )


def _balanced_optimum(problem: Problem) -> float:
    r"""Optimum of the balanced convex program by a 1-D minimization (derived here, independent
    route).

    Joint permutations of rows and columns of the class-logit matrix leave the balanced program
    invariant, so by convexity an optimum is :math:`\alpha I + \beta J` with b a multiple of 1; for
    CE (:math:`\mathbf 1^\top Z = 0`, CE invariant to shifts) and for MSE with a free bias (b
    absorbs the column mean, b = 1/K) it is :math:`sP`, P = I - J/K, with :math:`\|sPD^{1/2}\|_* =
    s\sqrt n (K-1)`:

    * CE: :math:`f(s) = \log(1 + (K-1)e^{-s}) + \mu\sqrt n(K-1)s`;
    * MSE, free bias: :math:`f(s) = \tfrac12(1 - 1/K)(1-s)^2 + \mu\sqrt n(K-1)s`;
    * MSE, no bias (Z = cI): :math:`f(c) = \tfrac12(1-c)^2 + \mu\sqrt n K c`,

    with :math:`\mu = \sqrt{\lambda_W\lambda_H}`.
    """
    K, n = problem.K, problem.n
    mu = math.sqrt(problem.lambda_W * problem.lambda_H)
    if problem.loss == "ce":
        data = lambda s: math.log1p((K - 1) * math.exp(-s))  # noqa: E731
        rank = K - 1
    elif problem.bias == "free":
        data = lambda s: 0.5 * (1 - 1 / K) * (1 - s) ** 2  # noqa: E731
        rank = K - 1
    else:
        data = lambda c: 0.5 * (1 - c) ** 2  # noqa: E731
        rank = K

    def f(s):
        return data(s) + mu * math.sqrt(n) * rank * s

    res = minimize_scalar(f, bounds=(0.0, 50.0), method="bounded", options={"xatol": 1e-12})
    return min(float(res.fun), f(0.0))


def test_import_ufm_does_not_import_cvxpy():
    """Property: importing ufm and ufm.relaxations leaves cvxpy unimported until a relaxation is
    solved."""
    code = "import sys, ufm, ufm.relaxations; print('cvxpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- nuclear-norm certificate


@settings(max_examples=12)
@given(
    loss=st.sampled_from(["ce", "mse"]),
    bias=biases,
    K=st.integers(2, 5),
    n=st.integers(1, 4),
    lam_W=lambdas,
    lam_H=lambdas,
)
def test_nuclear_balanced_matches_one_dimensional_closed_form(loss, bias, K, n, lam_W, lam_H):
    """Property: for balanced classes and d >= K the certified optimum equals the symmetric 1-D
    closed form.

    MSE with a regularized bias has no one-parameter form and is covered by the reduced/unreduced
    test.
    """
    if loss == "mse" and bias == "regularized":
        bias = "none"
    p = _problem(loss, bias, K, K, lam_W, lam_H, n=n)
    cert = nuclear_relaxation(p)
    assert cert.exact and cert.status == "optimal"
    assert relative_deviation(cert.objective, _balanced_optimum(p)) <= CONVEX_CLARABEL
    assert relative_deviation(cert.upper, cert.objective) <= CONVEX_CLARABEL
    assert abs(cert.duality_gap) <= 10 * CLARABEL_EPS * (1 + abs(cert.objective))


@settings(max_examples=8)
@given(
    loss=st.sampled_from(["ce", "mse"]),
    bias=biases,
    sizes=st.lists(st.integers(1, 3), min_size=2, max_size=4),
    lam=lambdas,
)
def test_within_class_reduction_matches_unreduced_program(loss, bias, sizes, lam):
    """Property: the K x K program with sqrt(n_k)-weighted nuclear norm has the K x N program's
    optimum."""
    p = _problem(loss, bias, len(sizes), len(sizes), lam, 2 * lam, class_sizes=sizes)
    reduced = nuclear_relaxation(p)
    full = nuclear_relaxation(p, reduced=False)
    assert relative_deviation(reduced.objective, full.objective) <= CONVEX_CLARABEL
    # The full program's optimal logits have equal columns within a class, equal to the reduced
    # ones.
    assert relative_deviation(full.Z, reduced.Z[:, p.labels]) <= CONVEX_ARGMIN


@settings(max_examples=10)
@given(
    loss=st.sampled_from(["ce", "mse"]),
    bias=biases,
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    lam=lambdas,
    seed=st.integers(0, 2**16),
)
def test_certified_optimum_is_below_every_configuration(loss, bias, sizes, lam, seed):
    """Property: gap(config) >= -tolerance for random configurations, ~0 at the recovered one."""
    K = len(sizes)
    p = _problem(loss, bias, K, K + 1, lam, lam, class_sizes=sizes)
    cert = nuclear_relaxation(p)
    rng = np.random.default_rng(seed)
    scale = 1.0 / math.sqrt(lam)
    W = rng.normal(scale=scale / K, size=(K, p.d))
    H = rng.normal(scale=scale / K, size=(p.d, p.N))
    b = rng.normal(size=K) if p.has_bias else None
    tol = CONVEX_CLARABEL * (1 + abs(cert.objective))
    assert gap((W, H, b), p, certificate=cert) >= -tol
    # A neighbour of the optimum, and the optimum itself (as a saved-able Configuration).
    near = Configuration(cert.W + 1e-3 * W, cert.H, cert.b, problem=p)
    assert gap(near, certificate=cert) >= -tol
    assert abs(gap(cert.configuration(), certificate=cert)) <= tol


def _polish(p, cert):
    """The certificate's (W, H, b) polished by L-BFGS on the UFM objective: feasible points at or
    below the solver's primal value (the point of issue 15, item 3)."""
    from scipy.optimize import minimize

    from ufm import gradient, objective

    K, d, N = p.K, p.d, p.N

    def unpack(x):
        b = x[K * d + d * N :] if p.has_bias else None
        return x[: K * d].reshape(K, d), x[K * d : K * d + d * N].reshape(d, N), b

    def value_grad(x):
        g = gradient(p, *unpack(x))
        parts = [g.W.ravel(), g.H.ravel()] + ([g.b] if p.has_bias else [])
        return objective(p, *unpack(x)), np.concatenate(parts)

    x0 = np.concatenate([cert.W.ravel(), cert.H.ravel()] + ([cert.b] if p.has_bias else []))
    options = {"ftol": 1e-16, "gtol": 1e-13, "maxiter": 3000}
    return unpack(minimize(value_grad, x0, jac=True, method="L-BFGS-B", options=options).x)


@pytest.mark.parametrize(
    ("bias", "K", "n", "lam"),
    [("free", 3, 2, 1e-2), ("regularized", 4, 20, 5e-3), ("none", 5, 2, 1e-3)],
)
def test_gap_is_measured_from_a_lower_bound(bias, K, n, lam):
    """Property: the certificate's lower bound is at most its primal value, L-BFGS-polished CE
    points (which sit up to 1e-8 below the primal value) are above it up to ``cert.tolerance``,
    and gap() is never negative (issue 15, item 3)."""
    p = _problem("ce", bias, K, K, lam, lam, n=n)
    cert = nuclear_relaxation(p)
    assert cert.lower <= cert.objective
    assert cert.tolerance == CONVEX_CLARABEL * (1 + abs(cert.lower))
    point = _polish(p, cert)
    assert objective(p, *point) - cert.lower >= -cert.tolerance
    assert gap(point, p, certificate=cert) >= 0.0
    too_high = dataclasses.replace(cert, lower=cert.lower + 10 * cert.tolerance)
    with pytest.raises(SolverFailed, match="below the certified lower bound"):
        gap(point, p, certificate=too_high)


def test_gap_computes_its_own_certificate_and_checks_problems():
    """Property: gap without a certificate solves one; a certificate for another problem is
    refused."""
    p = _problem("ce", "free", 3, 3, 1e-2, 1e-2, n=2)
    cert = nuclear_relaxation(p)
    cfg = cert.configuration()
    assert abs(gap(cfg)) <= CONVEX_CLARABEL * (1 + abs(cert.objective))
    with pytest.raises(InvalidParameter, match="certificate is for"):
        gap(cfg, certificate=nuclear_relaxation(_problem("ce", "free", 3, 3, 2e-2, 1e-2, n=2)))
    with pytest.raises(InvalidParameter, match="needs a problem"):
        gap((cert.W, cert.H, cert.b))


@pytest.mark.parametrize("bias", ["regularized", "free", "none"])
def test_ce_certificate_exact_at_d_equal_K_minus_1(bias):
    """Property: for CE the rank bound is K - 1, so d = K - 1 is certified (ETF-like rank K - 1
    optimum)."""
    sizes = (3, 2, 2, 1)
    p = _problem("ce", bias, 4, 3, 5e-3, 5e-3, class_sizes=sizes)
    cert = nuclear_relaxation(p)
    assert cert.exact and cert.rank_bound == 3 and cert.rank == 3
    assert cert.W.shape == (4, 3) and cert.H.shape == (3, 8) and cert.M.shape == (3, 4)
    assert (
        relative_deviation(
            cert.objective,
            nuclear_relaxation(_problem("ce", bias, 4, 5, 5e-3, 5e-3, class_sizes=sizes)).objective,
        )
        <= CONVEX_CLARABEL
    )


def test_mse_free_bias_rank_K_minus_1_but_no_bias_needs_K():
    """Property: MSE with a free bias is certified at d = K - 1; without bias d = K - 1 is refused
    (the optimum has rank K), unless a lower bound is requested, which is then below the UFM
    value."""
    free = _problem("mse", "free", 3, 2, 1e-2, 1e-2, class_sizes=(3, 2, 1))
    assert nuclear_relaxation(free).exact
    none = _problem("mse", "none", 3, 2, 1e-2, 1e-2, class_sizes=(3, 2, 1))
    with pytest.raises(InvalidParameter, match="rank bound 3"):
        nuclear_relaxation(none)
    low = nuclear_relaxation(none, allow_lower_bound=True)
    assert not low.exact and low.upper > low.objective
    assert (
        low.objective
        <= nuclear_relaxation(
            _problem("mse", "none", 3, 3, 1e-2, 1e-2, class_sizes=(3, 2, 1))
        ).objective
        + CONVEX_CLARABEL
    )


def test_zero_solution_is_certified_in_any_dimension():
    """Property: under strong regularization the optimum is Z = 0 (rank 0), tight even for d = 1."""
    p = _problem("mse", "none", 3, 1, 2.0, 2.0, n=2)
    cert = nuclear_relaxation(p)
    assert cert.exact and cert.rank == 0
    assert relative_deviation(cert.objective, 0.5) <= CONVEX_CLARABEL


def test_nuclear_scs_agrees_with_clarabel():
    """Property: the SCS solve agrees with Clarabel to the SCS tolerance."""
    p = _problem("ce", "regularized", 3, 3, 1e-2, 1e-2, n=2)
    a = nuclear_relaxation(p).objective
    b = nuclear_relaxation(p, solver="scs").objective
    assert relative_deviation(b, a) <= CONVEX_SCS


def test_nuclear_matches_closed_form_module():
    """Property: the certificate equals ufm.minimizers.global_minimizer where both apply
    (contract)."""
    minimizers = pytest.importorskip("ufm.minimizers")
    cases = [
        _problem("ce", "regularized", 4, 4, 5e-3, 5e-3, n=3),
        _problem("ce", "free", 3, 2, 1e-2, 2e-2, n=2),
        _problem("mse", "none", 3, 3, 1e-2, 1e-2, n=2),
        _problem("mse", "free", 4, 3, 1e-2, 1e-2, n=2),
    ]
    for p in cases:
        closed = minimizers.global_minimizer(p)
        assert (
            relative_deviation(nuclear_relaxation(p).objective, closed.objective) <= CONVEX_CLARABEL
        )


def test_nuclear_rejects_bad_input():
    """Property: zero weight decay, unknown solvers and non-problems are refused by name."""
    with pytest.raises(InvalidParameter, match="lambda_W must be > 0"):
        nuclear_relaxation(_problem("ce", "none", 3, 3, 0.0, 1e-2, n=2))
    with pytest.raises(InvalidParameter, match="solver must be one of"):
        nuclear_relaxation(_problem("ce", "none", 3, 3, 1e-2, 1e-2, n=2), solver="mosek")
    with pytest.raises(InvalidParameter, match="problem must be"):
        nuclear_relaxation({"loss": "ce"})


def test_solver_failures_raise_with_solver_and_status():
    """Property: infeasible programs and iteration limits raise SolverFailed naming solver and
    status."""
    import cvxpy as cp

    x = cp.Variable(2)
    infeasible = cp.Problem(cp.Minimize(cp.sum(x)), [x >= 1, x <= 0])
    with pytest.raises(SolverFailed, match="CLARABEL") as info:
        solve(infeasible, "clarabel", CLARABEL_EPS, "toy")
    assert info.value.status == "infeasible" and info.value.solver == "CLARABEL"
    with pytest.raises(SolverFailed) as info:
        # a gap tolerance below float64 resolution cannot be certified
        nuclear_relaxation(_problem("ce", "free", 3, 3, 1e-2, 1e-2, n=2), tol=1e-30)
    assert info.value.status != "optimal"


# ---------------------------------------------------------------- class-exchange symmetry

#: Class sizes with repeats (and singletons) so that the class-exchange reduction is non-trivial.
repeated_sizes = st.lists(st.sampled_from([1, 2, 3]), min_size=2, max_size=5)


def _exchange_parameters(sizes, seed):
    groups = ClassGroups(sizes)
    rng = np.random.default_rng(seed)
    G = groups.G
    return groups, rng.normal(size=G), rng.normal(size=(G, G)), rng.normal(size=G)


@given(sizes=repeated_sizes, seed=st.integers(0, 2**16))
def test_commutant_nuclear_norm_formula(sizes, seed):
    """Property: for Z in the class-exchange commutant, ||Z D^(1/2)||_* = ||T||_* + sum_j (g_j - 1)
    sqrt(s_j) |a_j| with T_ij = sqrt(s_j)(a_j delta_ij + sqrt(g_i g_j) c_ij), and Z commutes with
    every swap of two equal-size classes."""
    groups, a, C, _ = _exchange_parameters(sizes, seed)
    Z = expand(a, C, groups.index)
    s, g = groups.sizes, groups.counts
    T = np.sqrt(s)[None, :] * (np.diag(a) + groups.root_counts() * C)
    got = np.linalg.svd(Z * np.sqrt(np.asarray(sizes, float))[None, :], compute_uv=False).sum()
    want = np.linalg.svd(T, compute_uv=False).sum() + ((g - 1) * np.sqrt(s)) @ np.abs(a)
    assert relative_deviation(got, want) <= FLOAT
    for k in range(len(sizes)):
        for j in range(k):
            if sizes[k] == sizes[j]:
                P = np.eye(len(sizes))
                P[[k, j]] = P[[j, k]]
                assert relative_deviation(P @ Z @ P.T, Z) <= FLOAT


@given(loss=st.sampled_from(["ce", "mse"]), sizes=repeated_sizes, seed=st.integers(0, 2**16))
def test_exchange_data_term_matches_objectives(loss, sizes, seed):
    """Property: the data term with multiplicities equals ufm.objectives.data_term on the expanded
    K x N logits Z E^T + b 1^T (CE log-sum-exp with log-multiplicities, MSE)."""
    import cvxpy as cp

    groups, a, C, beta = _exchange_parameters(sizes, seed)
    G = groups.G
    L = C + beta[:, None]
    weights = groups.counts * groups.sizes / sum(sizes)
    got = exchange_data(cp, loss, cp.Constant(L), cp.Constant(a), groups, weights).value
    logits = expand(a, C, groups.index) + beta[groups.index][:, None]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    want, _ = data_term(loss, logits[:, labels], labels)
    assert G == len(set(sizes))
    assert relative_deviation(got, want) <= FLOAT


@settings(max_examples=10)
@given(
    loss=st.sampled_from(["ce", "mse"]),
    bias=biases,
    sizes=repeated_sizes,
    lam=lambdas,
    d_extra=st.integers(0, 1),
)
def test_class_exchange_matches_per_class_and_unreduced(loss, bias, sizes, lam, d_extra):
    """Property: the class-exchange program (2G x 2G PSD block) has the optimum of the per-class
    (2K x 2K) and unreduced (K x N) programs; its recovered configuration is certified (objective
    f(W, H, b) = convex optimum) and its class logits are those of the per-class program."""
    K = len(sizes)
    p = _problem(loss, bias, K, K + d_extra, lam, 2 * lam, class_sizes=sizes)
    certs = {sym: nuclear_relaxation(p, symmetry=sym) for sym in ("classes", "samples", "none")}
    classes = certs["classes"]
    assert classes.symmetry == "classes" and classes.reduced and classes.exact
    assert relative_deviation(classes.upper, classes.objective) <= CONVEX_CLARABEL
    for other in ("samples", "none"):
        assert relative_deviation(classes.objective, certs[other].objective) <= CONVEX_CLARABEL
    assert relative_deviation(classes.Z, certs["samples"].Z) <= CONVEX_ARGMIN
    assert classes.W.shape == (K, p.d) and classes.H.shape == (p.d, p.N)


def test_class_exchange_at_K_50_matches_closed_form():
    """Property: the default (class-exchange) program at K = 50 equals the balanced 1-D closed form
    and certifies a rank-(K - 1) configuration; a two-size imbalanced K = 50 problem agrees with the
    per-class program only where that is affordable, so here it is checked for certification."""
    p = _problem("ce", "regularized", 50, 50, 5e-3, 5e-3, n=2)
    cert = nuclear_relaxation(p)
    assert cert.exact and cert.rank == 49
    assert relative_deviation(cert.objective, _balanced_optimum(p)) <= CONVEX_CLARABEL
    two = _problem("mse", "free", 50, 50, 5e-3, 5e-3, class_sizes=(4,) * 25 + (1,) * 25)
    cert = nuclear_relaxation(two)
    assert cert.exact and relative_deviation(cert.upper, cert.objective) <= CONVEX_CLARABEL


def test_symmetry_argument_is_validated():
    """Property: an unknown symmetry, or one contradicting reduced=False, is refused by name."""
    p = _problem("ce", "none", 3, 3, 1e-2, 1e-2, n=2)
    with pytest.raises(InvalidParameter, match="symmetry must be one of"):
        nuclear_relaxation(p, symmetry="rows")
    with pytest.raises(InvalidParameter, match="contradicts symmetry='samples'"):
        nuclear_relaxation(p, reduced=False, symmetry="samples")
    assert nuclear_relaxation(p, reduced=False).symmetry == "none"
    with pytest.raises(InvalidParameter, match="symmetry must be one of"):
        layer_peeled_sdp(3, (1, 1, 1), 1.0, 1.0, symmetry="samples")


# ---------------------------------------------------------------- layer-peeled SDP


def _lpm_closed_form(K, E_W, E_H):
    return math.log1p((K - 1) * math.exp(-K * math.sqrt(E_W * E_H) / (K - 1)))


@settings(max_examples=12)
@given(
    K=st.integers(2, 6),
    n=st.integers(1, 50),
    E_W=st.sampled_from([0.5, 1.0, 3.0]),
    E_H=st.sampled_from([0.5, 1.0, 3.0]),
)
def test_lpm_balanced_is_etf(K, n, E_W, E_H):
    """Property: balanced LPM optimum = ETF closed form; Gram PSD, rank K - 1, W and M ETFs."""
    res = layer_peeled_sdp(K, (n,) * K, E_W, E_H)
    assert relative_deviation(res.objective, _lpm_closed_form(K, E_W, E_H)) <= CONVEX_CLARABEL
    assert np.linalg.eigvalsh(res.gram).min() >= -CONVEX_ARGMIN
    assert abs(res.duality_gap) <= 10 * CLARABEL_EPS * (1 + abs(res.objective))
    assert res.rank == K - 1 and res.W.shape == (K, K - 1) and res.M.shape == (K - 1, K)
    etf = (np.eye(K) - 1.0 / K) * K / (K - 1)
    assert relative_deviation(res.W @ res.W.T, E_W * etf) <= CONVEX_ARGMIN
    assert relative_deviation(res.M.T @ res.M, E_H * etf) <= CONVEX_ARGMIN
    # The factorization reproduces the Gram matrix it came from.
    F = np.vstack([res.W, res.M.T])
    assert relative_deviation(F @ F.T, res.gram) <= CONVEX_ARGMIN


@settings(max_examples=12)
@given(
    sizes=st.lists(st.integers(1, 20), min_size=2, max_size=5),
    E=st.sampled_from([0.5, 1.0, 2.0]),
    seed=st.integers(0, 2**16),
)
def test_lpm_value_below_feasible_configurations(sizes, E, seed):
    """Property: the SDP value is never above the LPM objective of a hand-built feasible
    configuration (random W and M scaled onto the constraints, and the ETF)."""
    K = len(sizes)
    res = layer_peeled_sdp(K, sizes, E, E)
    p = np.asarray(sizes, float) / sum(sizes)

    def lpm_objective(W, M):
        Z = W @ M
        shifted = Z - Z.max(axis=0)
        ce = np.log(np.exp(shifted).sum(axis=0)) - np.diag(shifted)
        return float(p @ ce)

    rng = np.random.default_rng(seed)
    W, M = rng.normal(size=(K, K)), rng.normal(size=(K, K))
    W *= math.sqrt(K * E) / np.linalg.norm(W)
    M *= math.sqrt(K * E) / np.linalg.norm(M)
    etf = math.sqrt(E * K / (K - 1)) * (np.eye(K) - 1.0 / K)
    tol = CONVEX_CLARABEL * (1 + abs(res.objective))
    assert res.objective <= lpm_objective(W, M) + tol
    assert res.objective <= lpm_objective(etf, etf) + tol
    assert np.linalg.eigvalsh(res.gram).min() >= -CONVEX_ARGMIN


def test_lpm_scs_matches_closed_form():
    """Property: SCS reproduces the balanced closed form to its (looser) tolerance."""
    res = layer_peeled_sdp(4, (5, 5, 5, 5), 1.0, 1.0, solver="scs")
    assert res.solver == "SCS"
    assert relative_deviation(res.objective, _lpm_closed_form(4, 1.0, 1.0)) <= CONVEX_SCS


def test_lpm_matches_closed_form_module():
    """Property: the SDP equals ufm.minimizers.layer_peeled_optimum for balanced classes
    (contract)."""
    minimizers = pytest.importorskip("ufm.minimizers")
    for K, E_W, E_H in [(2, 1.0, 1.0), (4, 0.5, 2.0), (6, 3.0, 1.0)]:
        want = minimizers.layer_peeled_optimum(K, E_W, E_H).objective
        assert (
            relative_deviation(layer_peeled_sdp(K, (3,) * K, E_W, E_H).objective, want)
            <= CONVEX_CLARABEL
        )


def test_lpm_rejects_bad_input():
    """Property: wrong-length sizes, non-positive sizes and energies are refused by name."""
    with pytest.raises(InvalidParameter, match="K=3 entries"):
        layer_peeled_sdp(3, (1, 2), 1.0, 1.0)
    with pytest.raises(InvalidParameter, match="class_sizes\\[1\\]"):
        layer_peeled_sdp(2, (1, 0), 1.0, 1.0)
    with pytest.raises(InvalidParameter, match="E_H"):
        layer_peeled_sdp(2, (1, 1), 1.0, -1.0)


@settings(max_examples=8)
@given(
    sizes=st.lists(st.sampled_from([1.0, 2.0, 5.0]), min_size=2, max_size=6),
    E_W=st.sampled_from([0.5, 1.0, 3.0]),
    E_H=st.sampled_from([0.5, 2.0]),
)
def test_lpm_class_exchange_matches_full_sdp(sizes, E_W, E_H):
    """Property: the class-exchange-reduced SDP has the full SDP's optimum; its expanded Gram matrix
    is PSD, meets both energy constraints and is close to the full SDP's."""
    K = len(sizes)
    red = layer_peeled_sdp(K, sizes, E_W, E_H)
    full = layer_peeled_sdp(K, sizes, E_W, E_H, symmetry="none")
    assert relative_deviation(red.objective, full.objective) <= CONVEX_CLARABEL
    assert np.linalg.eigvalsh(red.gram).min() >= -CONVEX_ARGMIN
    assert np.trace(red.gram[:K, :K]) <= K * E_W * (1 + CONVEX_ARGMIN)
    assert np.trace(red.gram[K:, K:]) <= K * E_H * (1 + CONVEX_ARGMIN)
    assert relative_deviation(red.gram, full.gram) <= CONVEX_ARGMIN
    assert red.rank == full.rank


# ---------------------------------------------------------------- Minority Collapse


def test_minority_collapse_threshold():
    """Property: K_A = K_B = 5, E_W = E_H = 1: the sweep's certificate changes sign once, the
    bracket has certified ends, the minority cosine is 1 just above it and clearly below 1 well
    under it, and the direct bisection's bracket overlaps the sweep's (both contain R*)."""
    sweep = minority_collapse_sweep(5, 5, 1.0, 1.0, [1.0, 1.25, 1.5, 2.0, 2.5, 4.0])
    assert sweep.collapsed == (False, False, False, True, True, True)
    th = sweep.threshold
    assert th is not None and th.accuracy <= 1e-3
    assert 1.5 <= th.bracket[0] < th.threshold < th.bracket[1] <= 2.0
    assert th.certificate[0] < -th.certificate_error < th.certificate_error < th.certificate[1]
    sizes = lambda R: (R,) * 5 + (1.0,) * 5  # noqa: E731

    def minority_cos(R):
        G = layer_peeled_sdp(10, sizes(R), 1.0, 1.0).gram[5:10, 5:10]
        d = np.sqrt(np.diag(G))
        return (G / np.outer(d, d))[np.triu_indices(5, 1)]

    above = minority_cos(th.bracket[1] + 0.01)
    assert np.all(1 - above <= CONVEX_ARGMIN)
    below = minority_cos(1 + (th.threshold - 1) / 2)
    assert np.all(below <= 0.5)
    direct = minority_threshold(5, 5, 1.0, 1.0, xtol=1e-3)
    assert max(direct.bracket[0], th.bracket[0]) < min(direct.bracket[1], th.bracket[1])


def _threshold_from_spread(K_A, K_B, E_W, E_H, near):
    """R* by a route independent of the certificate: the minority spread of the unrestricted
    layer-peeled SDP at four ratios 0.4-1.6% below ``near``, extrapolated to 0 by a quadratic."""
    ratios = near * (1 - np.array([0.004, 0.008, 0.012, 0.016]))
    spread = []
    for R in ratios:
        gram = layer_peeled_sdp(K_A + K_B, (R,) * K_A + (1.0,) * K_B, E_W, E_H, tol=1e-10).gram
        G = gram[K_A : K_A + K_B, K_A : K_A + K_B]
        sq = np.diag(G)
        spread.append((sq[:, None] + sq[None, :] - 2 * G).max() / E_W)
    roots = np.roots(np.polyfit(ratios, spread, 2)).real
    return float(roots[np.argmin(np.abs(roots - near))])


@pytest.mark.parametrize(
    "K_A, K_B, E_W, E_H, R_low, R_high",
    [(5, 5, 1.0, 5.0, 1.0, None), (2, 3, 1.0, 1.0, 3.0, 5.0), (1, 2, 0.5, 1.0, 4.0, 6.0)],
)
def test_minority_bracket_contains_independent_threshold(K_A, K_B, E_W, E_H, R_low, R_high):
    """Property: the certified bracket on R* contains the threshold found by the independent
    spread route (extrapolating the unrestricted SDP's minority spread to 0), to that route's
    accuracy; at K_A = K_B = 5, E_W = 1, E_H = 5 it contains the issue's R* = 12.1925 +/- 1e-4."""
    th = minority_threshold(K_A, K_B, E_W, E_H, R_low=R_low, R_high=R_high, xtol=1e-5)
    assert th.accuracy <= 1e-5
    assert th.certificate[0] < -th.certificate_error < th.certificate_error < th.certificate[1]
    independent = _threshold_from_spread(K_A, K_B, E_W, E_H, th.threshold)
    slack = MINORITY_SPREAD_EXTRAPOLATION * independent
    assert th.bracket[0] - slack <= independent <= th.bracket[1] + slack
    if (K_A, K_B, E_W, E_H) == (5, 5, 1.0, 5.0):
        assert th.bracket[0] <= 12.1925 + 1e-4 and 12.1925 - 1e-4 <= th.bracket[1]


def test_minority_rejects_bad_input():
    """Property: decreasing ratios, R < 1 and an already collapsed R_low are refused."""
    with pytest.raises(InvalidParameter, match="increasing"):
        minority_collapse_sweep(2, 2, 1.0, 1.0, [2.0, 1.5])
    with pytest.raises(InvalidParameter, match="not certified apart"):
        minority_threshold(5, 5, 1.0, 1.0, R_low=3.0)
    with pytest.raises(InvalidParameter, match="K_B"):
        minority_collapse_sweep(2, 1, 1.0, 1.0, [1.0])


# ---------------------------------------------------------------- max margin / SELI


@pytest.mark.parametrize("sizes", [(3, 3, 3), (5, 2, 1), (4, 1, 1, 2), (7, 1)])
def test_max_margin_is_seli(sizes):
    """Property: the max-margin logits are the simplex-encoded labels I - J/K, and the Grams of W
    and of the class means are SELI's (an ETF for balanced sizes)."""
    res = max_margin(sizes)
    K = len(sizes)
    P = np.eye(K) - 1.0 / K
    assert relative_deviation(res.Z, P) <= CONVEX_ARGMIN
    assert res.rank == K - 1
    D = np.diag(np.asarray(sizes, float))
    w, V = np.linalg.eigh(P @ D @ P)
    want_W = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    assert relative_deviation(res.gram_W, want_W) <= CONVEX_ARGMIN
    # ||Z||_* of the full logit matrix = trace of (P D P)^{1/2}
    assert relative_deviation(res.objective, np.trace(want_W)) <= CONVEX_CLARABEL
    if len(set(sizes)) == 1:
        assert relative_deviation(res.gram_W / res.gram_W[0, 0], P * K / (K - 1)) <= CONVEX_ARGMIN


@pytest.mark.parametrize("sizes", [(3, 3, 3), (5, 2, 1), (4, 1, 1, 2)])
def test_max_margin_matches_geometry_seli(sizes):
    """Property: max_margin agrees with the symbolic construction ufm.geometry.seli (contract)."""
    geometry = pytest.importorskip("ufm.geometry")
    want = geometry.seli(sizes)
    res = max_margin(sizes)
    assert relative_deviation(res.gram_W, want.W_gram) <= CONVEX_ARGMIN
    assert relative_deviation(res.gram_M, want.M_gram) <= CONVEX_ARGMIN
    assert relative_deviation(res.W @ res.M, want.Z_class) <= CONVEX_ARGMIN


# ---------------------------------------------------------------- max-min-angle SDP


@pytest.mark.parametrize("K", [2, 3, 4, 7, 12])
def test_max_min_angle_is_simplex_etf(K):
    """Property: the max-min-angle SDP's optimum is t = -1/(K-1), attained by the ETF Gram matrix
    K/(K-1)(I - 11^T/K) (ufm.geometry.etf_gram), with a small duality gap."""
    from ufm.geometry import etf_gram

    res = max_min_angle(K)
    assert res.status == "optimal" and res.solver == "CLARABEL"
    assert relative_deviation(res.t, -1.0 / (K - 1)) <= CONVEX_CLARABEL
    assert relative_deviation(res.G, etf_gram(K, exact=False)) <= CONVEX_ARGMIN
    assert relative_deviation(np.diag(res.G), 1.0) <= CONVEX_CLARABEL
    assert abs(res.duality_gap) <= 10 * CLARABEL_EPS
    # The optimum is a lower bound for any unit-vector configuration built by hand.
    X = np.random.default_rng(K).normal(size=(K, K))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    assert res.t <= (X @ X.T)[np.triu_indices(K, 1)].max() + CONVEX_CLARABEL


def test_max_min_angle_scs_and_bad_input():
    """Property: SCS agrees to its tolerance; K < 2 and unknown solvers are refused by name."""
    res = max_min_angle(5, solver="scs")
    assert res.solver == "SCS" and relative_deviation(res.t, -0.25) <= CONVEX_SCS
    with pytest.raises(InvalidParameter, match="K"):
        max_min_angle(1)
    with pytest.raises(InvalidParameter, match="solver must be one of"):
        max_min_angle(3, solver="mosek")


# ---------------------------------------------------------------- CLI


def _run(args):
    from click.testing import CliRunner

    from ufm.cli import cli

    return CliRunner().invoke(cli, args)


def test_cli_lpm_and_nuclear_json(tmp_path):
    """Property: `ufm relax lpm|nuclear --json` print the contract keys with the library's
    numbers."""
    out = _run(
        [
            "relax",
            "lpm",
            "--K",
            "3",
            "--class-sizes",
            "4,4,4",
            "--energy-w",
            "1",
            "--energy-h",
            "1",
            "--json",
        ]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {"objective", "status", "solver", "duality_gap", "rank", "W", "M"} <= set(data)
    assert relative_deviation(data["objective"], _lpm_closed_form(3, 1.0, 1.0)) <= CONVEX_CLARABEL
    assert np.shape(data["W"]) == (3, data["rank"]) and np.shape(data["M"]) == (data["rank"], 3)
    path = tmp_path / "opt.npz"
    out = _run(
        [
            "relax",
            "nuclear",
            "--loss",
            "ce",
            "--bias",
            "regularized",
            "--K",
            "3",
            "--d",
            "3",
            "--n",
            "2",
            "--lambda-w",
            "0.01",
            "--lambda-h",
            "0.01",
            "--lambda-b",
            "0.01",
            "--save",
            str(path),
            "--json",
        ]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {"objective", "status", "W", "M", "b"} <= set(data)
    from ufm import load

    saved = load(path)
    assert abs(saved.objective() - data["upper"]) <= FLOAT * (1 + abs(data["upper"]))


def test_cli_nuclear_refuses_small_d():
    """Property: `ufm relax nuclear` exits 2 with a one-line message when d < the rank bound."""
    from ufm.cli import main

    with pytest.raises(SystemExit) as exc:
        main(
            [
                "relax",
                "nuclear",
                "--loss",
                "mse",
                "--bias",
                "none",
                "--K",
                "3",
                "--d",
                "2",
                "--n",
                "2",
                "--lambda-w",
                "0.01",
                "--lambda-h",
                "0.01",
            ]
        )
    assert exc.value.code == 2


def test_cli_minority_json_and_plot(tmp_path):
    """Property: `ufm relax minority` reports one cosine per ratio, the threshold and its accuracy,
    and writes the plot."""
    png = tmp_path / "sweep.png"
    out = _run(
        [
            "relax",
            "minority",
            "--KA",
            "3",
            "--KB",
            "3",
            "--energy-w",
            "1",
            "--energy-h",
            "1",
            "--ratios",
            "1,2,4,8",
            "--xtol",
            "0.01",
            "--plot",
            str(png),
            "--json",
        ]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert len(data["minority_cosine"]) == len(data["ratios"]) == 4
    assert data["threshold"] is not None and data["threshold_accuracy"] <= 0.01
    lo, hi = data["threshold_bracket"]
    assert lo < data["threshold"] < hi
    assert len(data["certificate"]) == len(data["certificate_error"]) == 4
    assert data["collapsed"] == [psi >= 0 for psi in data["certificate"]]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_angle_and_symmetry_options():
    """Property: `ufm relax angle --json` reports t = -1/(K-1); `ufm relax nuclear --symmetry` and
    `ufm relax lpm --symmetry none` give the default forms' optimum."""
    out = _run(["relax", "angle", "--K", "4", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert relative_deviation(data["t"], -1.0 / 3.0) <= CONVEX_CLARABEL
    assert np.shape(data["G"]) == (4, 4)
    base = ["relax", "nuclear", "--loss", "mse", "--bias", "free", "--K", "4", "--d", "4"]
    base += ["--class-sizes", "2,2,1,1", "--lambda-w", "0.01", "--lambda-h", "0.01", "--json"]
    values = {}
    for sym in ("classes", "samples", "none"):
        out = _run([*base, "--symmetry", sym])
        assert out.exit_code == 0, out.output
        data = json.loads(out.output)
        assert data["symmetry"] == sym
        values[sym] = data["objective"]
    assert relative_deviation(values["samples"], values["classes"]) <= CONVEX_CLARABEL
    assert relative_deviation(values["none"], values["classes"]) <= CONVEX_CLARABEL
    lpm = ["relax", "lpm", "--K", "3", "--class-sizes", "4,4,1", "--energy-w", "1"]
    lpm += ["--energy-h", "1", "--json"]
    full = json.loads(_run([*lpm, "--symmetry", "none"]).output)
    reduced = json.loads(_run(lpm).output)
    assert relative_deviation(reduced["objective"], full["objective"]) <= CONVEX_CLARABEL
