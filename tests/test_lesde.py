"""The locally elastic SDE: kernel against a numpy twin, the LE-ODE closed form against the kernel
at
zero noise, Brownian increments, separability and its confidence interval, the phase transition."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ufm.cli import main
from ufm.dynamics import (
    is_separable,
    le_ode_mean,
    readout,
    separability_probability,
    simulate_lesde,
)
from ufm.errors import InvalidParameter
from ufm.tolerances import FLOAT, KERNEL_TWIN, MONTE_CARLO_SIGMAS, relative_deviation


def _numpy_euler(X, W0, labels, alpha, beta, dt, steps, linear):
    """Numpy twin of the kernel at zero noise: x_i += dt/N sum_j E_{y_i y_j} W0^T g_j."""
    K = W0.shape[0]
    N = labels.size
    onehot = np.eye(K)[:, labels]
    E = (alpha - beta) * np.eye(K) + beta
    Ebig = E[np.ix_(labels, labels)]
    X = X.copy()
    for _ in range(steps):
        for p in range(X.shape[0]):
            Z = W0 @ X[p]
            if linear:
                G = onehot - 1.0 / K - (Z - Z.mean(axis=0)) / K
            else:
                S = np.exp(Z - Z.max(axis=0))
                G = onehot - S / S.sum(axis=0)
            X[p] += dt * W0.T @ G @ Ebig.T / N
    return X


@pytest.mark.parametrize("linear", [False, True])
@pytest.mark.parametrize("K,d", [(3, 3), (3, 2), (4, 6)])
def test_kernel_equals_numpy_at_zero_noise(K, d, linear):
    """Property: at zero noise the kernel equals the numpy Euler twin step for step."""
    steps = 40
    res = simulate_lesde(K, 3, d, 0.9, 0.3, 0.0, steps * 0.05, dt=0.05, paths=3, seed=2,
                         init_scale=0.5, records=steps + 1, linear=linear)  # fmt: skip
    X = res.snapshots[0]
    for s in range(1, steps + 1):
        X = _numpy_euler(X, res.W0, res.labels, 0.9, 0.3, 0.05, 1, linear)
        assert relative_deviation(res.snapshots[s], X) <= KERNEL_TWIN


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.3), (0.2, 0.8)])
@pytest.mark.parametrize("K,d", [(3, 3), (4, 3), (3, 5)])
def test_le_ode_closed_form_equals_kernel(alpha, beta, K, d):
    """Property: the linearized kernel at zero noise tracks the matrix-exponential solution of the
    LE-ODE within the forward-Euler bound (T dt / 2) ||A|| ||dM/dt(0)|| (A symmetric PSD, so the
    error
    recursion is contractive for dt ||A|| <= 2), and halving dt halves the error (first order)."""
    n, T = 3, 4.0
    W0 = readout(K, d)
    P = np.eye(K) - 1.0 / K
    E = (alpha - beta) * np.eye(K) + beta
    A = np.kron(E / K, W0.T @ P @ W0 / K)
    errors = []
    for dt in (1e-2, 5e-3):
        res = simulate_lesde(K, n, d, alpha, beta, 0.0, T, dt=dt, paths=2, seed=5, linear=True,
                             init_scale=0.3, records=5)  # fmt: skip
        err = 0.0
        for p in range(2):
            X0 = res.snapshots[0, p]
            M0 = X0.reshape(d, K, n).mean(axis=2)
            slope0 = np.linalg.norm(W0.T @ P @ (E / K) - W0.T @ P @ W0 @ M0 @ (E / K) / K)
            for r, t in enumerate(res.times):
                Mt = le_ode_mean(alpha, beta, t, M0, [n] * K, W0)
                err = max(err, np.abs(X0 + (Mt - M0)[:, res.labels] - res.snapshots[r, p]).max())
        bound = T * dt / 2 * np.linalg.norm(A, 2) * slope0
        assert err <= bound, (err, bound)
        errors.append(err)
    assert errors[1] < errors[0]


def test_brownian_increments():
    """Property: with alpha = beta = 0 (no drift) x_i(T) - x_i(0) ~ N(0, sigma^2 T) entrywise:
    sample mean and variance within MONTE_CARLO_SIGMAS standard errors."""
    sigma, T = 0.7, 2.0
    res = simulate_lesde(3, 4, 3, 0.0, 0.0, sigma, T, dt=0.05, paths=200, seed=9)
    z = ((res.final - res.snapshots[0]) / (sigma * np.sqrt(T))).ravel()
    m = z.size
    assert abs(z.mean()) <= MONTE_CARLO_SIGMAS / np.sqrt(m)
    assert abs(z.var() - 1.0) <= MONTE_CARLO_SIGMAS * np.sqrt(2.0 / m)


def test_time_varying_impacts():
    """Property: callables alpha(t), beta(t) are sampled on the grid: a constant callable
    reproduces the
    constant run exactly, and a switch at t = 1 gives a different path."""
    kw = dict(dt=0.05, paths=4, seed=3)
    const = simulate_lesde(3, 2, 3, 1.0, 0.2, 0.1, 2.0, **kw)
    func = simulate_lesde(3, 2, 3, lambda t: 1.0, lambda t: 0.2, 0.1, 2.0, **kw)
    np.testing.assert_array_equal(const.final, func.final)
    switch = simulate_lesde(3, 2, 3, lambda t: 1.0 if t < 1 else 0.0, 0.2, 0.1, 2.0, **kw)
    assert not np.array_equal(const.final, switch.final)


PHASE = dict(K=3, n=10, d=3, noise=0.1, time=20.0, paths=60, seed=1, records=5)


def test_phase_transition_locally_elastic_side():
    """Property: alpha > beta: at time T every path is separable by the readout (vanishing training
    loss), and the NC metrics decrease at every record."""
    res = simulate_lesde(alpha=1.0, beta=0.2, **PHASE)
    est = res.separability()
    assert est.separable == est.paths and est.ci_low <= 1.0 == est.ci_high
    series = [res.metrics(i) for i in range(len(res.times))]
    for key in ("nc1", "nc1_trace_ratio"):
        assert np.all(np.diff([m[key] for m in series]) < 0), key


def test_phase_transition_other_side():
    """Property: alpha < beta: no path is separable by the readout at any recorded time, while the
    weak LP criterion (some affine classifier) separates every path: the classes form a reversed
    simplex, so only the readout criterion shows the transition."""
    res = simulate_lesde(alpha=0.2, beta=1.0, **PHASE)
    for i in range(len(res.times)):
        assert res.separability(index=i).separable == 0
    assert res.separability("linear").separable == res.parameters["paths"]


def test_separability_criteria_on_known_sets():
    """Property: a simplex ETF configuration is separable by both criteria; two classes sharing a
    point are not linearly separable; a reversed simplex is LP-separable but not by the readout."""
    K = 3
    W0 = readout(K, K)
    labels = np.repeat(np.arange(K), 2)
    etf = np.repeat(np.eye(K) - 1.0 / K, 2, axis=1)
    assert is_separable(etf, labels, W0) and is_separable(etf, labels, W0, "linear")
    assert is_separable(-etf, labels, W0, "linear") and not is_separable(-etf, labels, W0)
    shared = etf.copy()
    shared[:, 1] = shared[:, 2]
    assert not is_separable(shared, labels, W0, "linear")


@settings(max_examples=20)
@given(S=st.integers(0, 30), extra=st.integers(0, 30))
def test_clopper_pearson_interval(S, extra):
    """Property: the interval equals scipy's exact binomial interval (an independent
    implementation)."""
    from scipy.stats import binomtest

    P = S + extra
    if P == 0:
        return
    K = 2
    W0 = readout(K, K)
    labels = np.array([0, 1])
    good, bad = np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[-1.0, 1.0], [1.0, -1.0]])
    snap = np.array([good] * S + [bad] * extra)
    est = separability_probability(snap, labels, W0)
    ci = binomtest(S, P).proportion_ci(confidence_level=0.95, method="exact")
    assert est.probability == S / P
    assert relative_deviation([est.ci_low, est.ci_high], [ci.low, ci.high]) <= FLOAT


def test_invalid_input_is_rejected():
    """Property: d < K - 1, negative noise, non-finite impacts and bad confidence raise by name."""
    with pytest.raises(InvalidParameter, match="d >= K - 1"):
        simulate_lesde(4, 2, 2, 1.0, 0.0, 0.1, 1.0)
    with pytest.raises(InvalidParameter, match="noise"):
        simulate_lesde(3, 2, 3, 1.0, 0.0, -0.1, 1.0)
    with pytest.raises(InvalidParameter, match="alpha"):
        simulate_lesde(3, 2, 3, float("nan"), 0.0, 0.1, 1.0)
    with pytest.raises(InvalidParameter, match="beta"):
        simulate_lesde(3, 2, 3, 1.0, lambda t: float("inf"), 0.1, 1.0)
    with pytest.raises(InvalidParameter, match="confidence"):
        separability_probability(
            np.zeros((1, 2, 2)), np.array([0, 1]), readout(2, 2), confidence=1.0
        )


def test_readout_shapes():
    """Property: the readout is [I 0] for d >= K and an ETF with W0 W0^T = I - 11^T/K for d = K -
    1."""
    np.testing.assert_array_equal(readout(3, 5), np.eye(3, 5))
    W0 = readout(4, 3)
    assert relative_deviation(W0 @ W0.T, np.eye(4) - 0.25) <= FLOAT


def test_cli_lesde(tmp_path, capsys):
    """Property: ``ufm lesde --json`` reports the probability, its interval and metrics; --plot
    writes
    a PNG."""
    with pytest.raises(SystemExit) as exc:
        main(["lesde", "--K", "3", "--n", "4", "--d", "3", "--alpha", "1", "--beta", "0.2",
              "--noise", "0.1", "--time", "10", "--paths", "20", "--json",
              "--plot", str(tmp_path / "l.png")])  # fmt: skip
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert {"separable_probability", "ci_low", "ci_high", "metrics"} <= set(data)
    assert data["ci_low"] <= data["separable_probability"] <= data["ci_high"]
    assert (tmp_path / "l.png").read_bytes()[:4] == b"\x89PNG"
