"""The locally elastic SDE: the modal kernel against a numpy twin, its moments against the exact
Gaussian law, scale-safe separability, the I model's transition, the L model's boundary, and the
cross-entropy variant."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ufm.dynamics import (
    _kernels,
    is_separable,
    lesde_moments,
    readout,
    separability_exact,
    separability_probability,
    simulate_lesde,
)
from ufm.dynamics import _lesde_model as mdl
from ufm.errors import InvalidParameter
from ufm.tolerances import (
    FLOAT,
    KERNEL_TWIN,
    LESDE_MOMENTS,
    MONTE_CARLO_SIGMAS,
    relative_deviation,
)


def _numpy_twin(model, K, n, d, alpha, beta, sigma, T, dt, paths, seed, init_scale, records):
    """Plain-numpy Euler-Maruyama of the modal scheme, drawing the same normals in the same order
    (numba's np.random equals numpy's legacy RandomState for a given seed)."""
    steps = round(T / dt)
    q, r = d * K, K * d * (n - 1)
    blocks = mdl.mode_blocks(model, K, d)
    A_alpha, A_beta, block = mdl.assemble(blocks, q)
    rng = np.random.default_rng(seed)
    Y = init_scale / math.sqrt(n) * rng.standard_normal((paths, q))
    Z = init_scale * rng.standard_normal((paths, r))
    rs = np.random.RandomState(int(rng.integers(2**31 - 1)))
    L2 = np.zeros((paths, len(blocks)))
    every = -(-steps // (records - 1))
    out, acc = [], 0.0
    for s in range(steps):
        if s % every == 0:
            out.append((Y.copy(), L2.copy(), Z.copy()))
        A = alpha * dt * A_alpha + beta * dt * A_beta
        Y = (
            Y
            + Y @ A.T
            + sigma * math.sqrt(dt / n) * 2.0 ** -L2[:, block] * rs.standard_normal((paths, q))
        )
        for b in range(len(blocks)):
            big = np.abs(Y[:, block == b]).max(axis=1) > 2.0**_kernels.LESDE_RENORM_AT
            Y[np.ix_(big, block == b)] *= 2.0**-_kernels.LESDE_RENORM_STEP
            L2[big, b] += _kernels.LESDE_RENORM_STEP
        acc += sigma**2 * dt
        if (s + 1) % every == 0 or s == steps - 1:
            Z = Z + math.sqrt(acc) * rs.standard_normal((paths, r))
            acc = 0.0
    out.append((Y, L2, Z))
    return out


@pytest.mark.parametrize(
    "model,K,n,d,alpha,beta,T",
    [("I", 3, 4, 2, 1.0, 0.3, 2.0), ("L", 3, 3, 5, 0.4, 1.2, 2.0), ("I", 3, 2, 2, 9.0, 8.0, 120.0)],
)
def test_kernel_equals_numpy_twin(model, K, n, d, alpha, beta, T):
    """Property: with noise, the kernel equals the numpy twin record for record (the third case
    grows past 2**600, so the renormalization is exercised)."""
    kw = dict(dt=0.05, paths=3, seed=4, init_scale=0.5, records=5)
    res = simulate_lesde(K, n, d, alpha, beta, 0.3, T, model=model, **kw)
    twin = _numpy_twin(model, K, n, d, alpha, beta, 0.3, T, **kw)
    Y, L2, Z, _ = res._modes
    if T > 100:
        assert L2[-1].max() > 0
    for r, (Yt, L2t, Zt) in enumerate(twin):
        np.testing.assert_array_equal(L2[r], L2t)
        assert relative_deviation(Y[r], Yt) <= KERNEL_TWIN
        assert relative_deviation(Z[r], Zt) <= KERNEL_TWIN


def _chain_moments(model, K, n, d, alpha, beta, sigma, T, dt, init_scale):
    """Exact mean-zero covariance of the Euler-Maruyama chain per block (no sampling error):
    S <- F S F^T + sigma^2 dt/n I with F = I + dt G; deviations: s^2 + sigma^2 T."""
    steps = round(T / dt)
    out = []
    for blk in mdl.mode_blocks(model, K, d):
        m = blk.G_alpha.shape[0]
        F = np.eye(m) + dt * (alpha * blk.G_alpha + beta * blk.G_beta)
        S = init_scale**2 / n * np.eye(m)
        for _ in range(steps):
            S = F @ S @ F.T + sigma**2 * dt / n * np.eye(m)
        out.append(S)
    return out, init_scale**2 + sigma**2 * T


@pytest.mark.parametrize("model,alpha,beta", [("I", 1.5, 0.5), ("I", 0.5, 1.5), ("L", 1.0, 2.0)])
def test_kernel_moments_match_the_chain_within_monte_carlo_error(model, alpha, beta):
    """Property: over 4000 paths the kernel's sample covariance of every mode (and the deviation
    variance) equals the Euler chain's exact covariance within MONTE_CARLO_SIGMAS standard errors
    (sd of a sample variance of a Gaussian: sqrt(2/P) relative; of a covariance: sqrt((S_ii S_jj
    + S_ij^2)/P)); the sample means are 0 within the same number of standard errors."""
    K, n, d, sigma, T, dt, s0, P = 3, 4, 3, 0.4, 3.0, 0.02, 0.3, 4000
    res = simulate_lesde(K, n, d, alpha, beta, sigma, T, model=model, dt=dt, paths=P, seed=11,
                         init_scale=s0, records=2)  # fmt: skip
    Y, L2, Z, _ = res._modes
    assert np.all(L2 == 0)
    covs, dev_var = _chain_moments(model, K, n, d, alpha, beta, sigma, T, dt, s0)
    for blk, S in zip(mdl.mode_blocks(model, K, d), covs, strict=True):
        for row in blk.indices:
            sample = Y[-1][:, row]
            diag = np.sqrt(np.diag(S))
            assert np.all(np.abs(sample.mean(axis=0)) <= MONTE_CARLO_SIGMAS * diag / math.sqrt(P))
            C = sample.T @ sample / P
            se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / P)
            assert np.all(np.abs(C - S) <= MONTE_CARLO_SIGMAS * se)
    z = Z[-1].ravel()
    assert abs(z.var() / dev_var - 1) <= MONTE_CARLO_SIGMAS * math.sqrt(2 / z.size)


@pytest.mark.parametrize("model,alpha,beta", [("I", 1.5, 0.5), ("L", 1.0, 2.0), ("L", 0.3, -1.0)])
def test_chain_converges_to_exact_moments_first_order(model, alpha, beta):
    """Property: the Euler chain's covariance tends to lesde_moments' exact covariance as dt -> 0
    with order 1 (halving dt halves the error, within 10%)."""
    K, n, d, sigma, T, s0 = 3, 4, 3, 0.4, 3.0, 0.3
    exact = lesde_moments(K, n, d, alpha, beta, sigma, T, model=model, init_scale=s0)
    errors = []
    for dt in (0.02, 0.01):
        covs, _ = _chain_moments(model, K, n, d, alpha, beta, sigma, T, dt, s0)
        errors.append(max(
            relative_deviation(S, math.exp(2 * law.log_scale) * law.cov)
            for S, law in zip(covs, exact.blocks, strict=True)
        ))  # fmt: skip
    assert abs(errors[0] / errors[1] - 2.0) <= 0.2


@pytest.mark.parametrize("alpha,beta,T", [(2.0, 1.0, 600.0), (1.0, 2.0, 600.0), (1.3, 1.3, 5.0)])
def test_closed_form_van_loan_and_ode_agree(alpha, beta, T):
    """Property: I model, three evaluations of the exact law agree (log scales and normalized
    covariances): the OU closed form, Van Loan with doubling, the moment ODE; including t = 600,
    where the common mode is e^800 and would overflow float64 unnormalized."""
    args = (3, 5, 2, alpha, beta, 0.2, T)
    laws = [lesde_moments(*args, method=m).blocks for m in ("closed", "van_loan", "ode")]
    for other in laws[1:]:
        for a, b in zip(laws[0], other, strict=True):
            assert relative_deviation(b.log_scale, a.log_scale) <= LESDE_MOMENTS
            assert relative_deviation(b.cov, a.cov) <= LESDE_MOMENTS


def test_time_varying_moments_and_kernel():
    """Property: constant callables reproduce the constant-coefficient law (ODE vs closed form);
    with alpha(t) switching at t = 1 the kernel's contrast variance over 4000 paths matches the
    ODE's within MONTE_CARLO_SIGMAS standard errors plus the Euler bias at dt (bounded by twice
    the dt-halving difference, first order)."""
    const = lesde_moments(3, 4, 2, 1.0, 0.2, 0.3, 2.0)
    func = lesde_moments(3, 4, 2, lambda t: 1.0, lambda t: 0.2, lambda t: 0.3, 2.0)
    for a, b in zip(const.blocks, func.blocks, strict=True):
        assert (
            relative_deviation(
                b.log_scale + 0.5 * math.log(b.cov[0, 0]), a.log_scale + 0.5 * math.log(a.cov[0, 0])
            )
            <= LESDE_MOMENTS
        )

    def alpha(t):
        return 2.0 if t < 1.0 else 0.5

    law = lesde_moments(3, 4, 2, alpha, 0.4, 0.3, 2.0)
    want = math.exp(2 * law.blocks[1].log_scale) * law.blocks[1].cov[0, 0]
    var = []
    for dt in (0.02, 0.01):
        res = simulate_lesde(3, 4, 2, alpha, 0.4, 0.3, 2.0, dt=dt, paths=4000, seed=3, records=2)
        Y = res._modes[0][-1]
        var.append(float((Y[:, (np.arange(6) % 3) != 0] ** 2).mean()))
    se = want * math.sqrt(2 / (4000 * 4))
    bias = 2 * abs(var[0] - var[1]) + MONTE_CARLO_SIGMAS * se
    assert abs(var[1] - want) <= bias + MONTE_CARLO_SIGMAS * se


def test_separability_is_scale_safe():
    """Property: the LP decision is invariant under translation and scaling: the same point sets at
    scale 1, 3e9 and 1e32 (and shifted by 100 times the scale) get the same answer, separable and
    not."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    good = np.eye(3)[:, labels] * 5 + 0.1 * rng.standard_normal((3, 60))
    bad = rng.standard_normal((3, 60))
    for scale in (1.0, 3e9, 1e32):
        assert is_separable(scale * good, labels)
        assert is_separable(scale * (good + 100.0), labels)
        assert not is_separable(scale * bad, labels)
    with pytest.raises(InvalidParameter, match="finite"):
        is_separable(np.full((3, 60), np.inf), labels)


#: N = 150 >> d = 3 (Cover: chance separability of 150 points in 3 dimensions is negligible).
TRANSITION = dict(K=3, n=50, d=3, noise=0.1, dt=0.05, paths=20, records=2, seed=5)


@pytest.mark.parametrize("T", [6.0, 60.0, 600.0])
def test_i_model_transition(T):
    """Property: I model, N >> d: with alpha < beta no path is separable at t = 6, 60, 600 (by the
    kernel and by sampling the exact law); with alpha > beta every path is separable at t = 60 and
    600 (float64 features would be 1e34 and inf there: the modal simulation keeps the signal)."""
    for alpha, beta in ((1.0, 2.0), (2.0, 1.0)):
        res = simulate_lesde(alpha=alpha, beta=beta, time=T, **TRANSITION)
        kernel = res.separability()
        exact = separability_exact(res.exact(), paths=20, seed=1)
        if alpha < beta:
            assert kernel.separable == exact.separable == 0
        elif T > 6:
            assert kernel.separable == exact.separable == 20


def test_l_model_boundary():
    """Property: L model, K = 3: alpha = 1 < beta = 2 is separable at t = 60 (rate (alpha + beta/
    (K-1))/K = 2/3 > 0), and so is alpha = -0.3, beta = 1 (rate 0.2/3); alpha = -1, beta = 1 (rate
    -0.5/3, and alpha - beta < 0) is not, by the kernel and by the exact law."""
    kw = dict(K=3, n=50, d=3, noise=0.1, model="L", dt=0.05, paths=20, records=2, seed=2)
    for alpha, beta, T, want in (
        (1.0, 2.0, 60.0, 20),
        (-0.3, 1.0, 300.0, 20),
        (-1.0, 1.0, 60.0, 0),
    ):
        res = simulate_lesde(alpha=alpha, beta=beta, time=T, **kw)
        assert res.separability().separable == want
        assert separability_exact(res.exact(), paths=20, seed=3).separable == want


def test_separation_ratio_matches_exact_at_zero_noise():
    """Property: noise 0, I model: every path's contrast grows by exactly (1 + dt lambda)^steps
    (Euler), which tends to the exact e^{(A - B)/K} reported by separation_ratio_predicted."""
    res = simulate_lesde(3, 5, 3, 2.0, 1.0, 0.0, 6.0, dt=1e-3, paths=3, records=2)
    assert relative_deviation(res.separation_ratio(), (1 + 1e-3 / 3) ** 6000) <= FLOAT * 1e3
    assert abs(res.separation_ratio() / res.separation_ratio_predicted() - 1) <= 6 * 1e-3 / 18


def test_ce_variant_keeps_its_readout_criterion():
    """Property: model='ce' is the earlier cross-entropy model: separable by its readout for
    alpha > beta, not for alpha < beta (reversed simplex), at zero-noise-like settings."""
    kw = dict(K=3, n=10, d=3, noise=0.1, time=20.0, paths=20, seed=1, records=3, model="ce")
    assert simulate_lesde(alpha=1.0, beta=0.2, **kw).separability().separable == 20
    res = simulate_lesde(alpha=0.2, beta=1.0, **kw)
    assert res.separability().separable == 0
    assert res.separability("linear").separable == 20


@settings(max_examples=20, derandomize=True)
@given(S=st.integers(0, 30), extra=st.integers(0, 30))
def test_clopper_pearson_interval(S, extra):
    """Property: the interval equals scipy's exact binomial interval (an independent
    implementation)."""
    from scipy.stats import binomtest

    P = S + extra
    if P == 0:
        return
    W0 = readout(2, 2)
    labels = np.array([0, 1])
    good, bad = np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[-1.0, 1.0], [1.0, -1.0]])
    est = separability_probability(np.array([good] * S + [bad] * extra), labels, W0)
    ci = binomtest(S, P).proportion_ci(confidence_level=0.95, method="exact")
    assert est.probability == S / P
    assert relative_deviation([est.ci_low, est.ci_high], [ci.low, ci.high]) <= FLOAT


def test_invalid_input_is_rejected():
    """Property: bad arguments raise InvalidParameter naming the argument."""
    cases = [
        (dict(model="L", d=2), "d >= K"),
        (dict(noise=-0.1), "noise"),
        (dict(alpha=float("nan")), "alpha"),
        (dict(beta=lambda t: float("inf")), "beta"),
        (dict(lr=0.0), "lr"),
        (dict(model="X"), "model"),
        (dict(linear=True), "linear"),
    ]
    base = dict(K=3, n=2, d=3, alpha=1.0, beta=0.0, noise=0.1, time=1.0)
    for change, name in cases:
        with pytest.raises(InvalidParameter, match=name):
            simulate_lesde(**{**base, **change})
    with pytest.raises(InvalidParameter, match="confidence"):
        separability_probability(np.zeros((1, 2, 2)), np.array([0, 1]), confidence=1.0)
    with pytest.raises(InvalidParameter, match="closed"):
        lesde_moments(3, 2, 3, 1.0, 0.0, 0.1, 1.0, model="L", method="closed")


def test_learning_rate_scales_the_noise():
    """Property: lr = eta with noise sigma gives the same law as lr = 1 with noise sqrt(eta) sigma
    (the stochastic-modified-equation scaling), exactly path by path for the same seed."""
    a = simulate_lesde(3, 4, 3, 1.0, 0.5, 0.2, 2.0, lr=0.25, paths=3, records=2)
    b = simulate_lesde(3, 4, 3, 1.0, 0.5, 0.1, 2.0, lr=1.0, paths=3, records=2)
    assert relative_deviation(a.final, b.final) <= KERNEL_TWIN


def test_cli_lesde(tmp_path, capsys):
    """Property: ``ufm lesde --json`` keeps the probability, its interval and metrics, and adds the
    model, the criterion and the measured and predicted separation ratios (root-mean-square, within
    30% at 20 paths: the ratio's sampling sd is ~ sqrt(2/(20 d (K-1))) = 0.13 relative); --plot
    writes a PNG."""
    import json

    from ufm.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["lesde", "--K", "3", "--n", "4", "--d", "3", "--alpha", "2", "--beta", "1",
              "--noise", "0.1", "--time", "12", "--paths", "20", "--lr", "0.5", "--json",
              "--plot", str(tmp_path / "l.png")])  # fmt: skip
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert {"separable_probability", "ci_low", "ci_high", "metrics", "model", "criterion"} <= set(
        data
    )
    assert data["model"] == "I" and data["criterion"] == "linear"
    assert data["ci_low"] <= data["separable_probability"] <= data["ci_high"]
    ratio = data["separation_ratio_measured"] / data["separation_ratio_predicted"]
    assert abs(ratio - 1) <= 0.3
    assert (tmp_path / "l.png").read_bytes()[:4] == b"\x89PNG"


#: Planted elasticities for the fits: alpha, beta piecewise constant on [0, 2), [2, 4].
FIT_EDGES = np.array([0.0, 2.0, 4.0])
FIT_ALPHA = np.array([2.0, 0.5])
FIT_BETA = np.array([0.5, 1.0])


def _planted(values):
    return lambda t: float(values[0] if t < FIT_EDGES[1] else values[1])


def _fit_start(K, n, d, seed):
    """Features with both mode families of either model O(1): class means 1 + s_c u_c K/(K-1)
    (so that u_c^T m_c = s_c) plus unit within-class deviations."""
    s = np.array([1.5, 0.5, -0.5])
    M = np.ones((d, K))
    for c in range(K):
        u = -np.ones(d) / K
        u[K:] = 0.0
        u[c] += 1.0
        M[:, c] += s[c] * u * K / (K - 1)
    dev = np.random.default_rng(seed).standard_normal((d, K, n))
    dev -= dev.mean(axis=2, keepdims=True)
    return (M[:, :, None] + dev).reshape(1, d, K * n)


@pytest.mark.parametrize("model", ["I", "L"])
@pytest.mark.parametrize("sigma", [0.0, 0.05])
def test_fit_recovers_planted_elasticities(model, sigma):
    """Property: fit_lesde on one Euler-Maruyama path of the model with planted piecewise-constant
    alpha(t), beta(t) recovers them: noiseless, to Euler's rate bias (LESDE_EULER_RATE per mode
    rate, times K for the inversion); with noise, within LESDE_FIT_SIGMAS standard deviations of the
    bound c * 2 delta / tau of ufm.tolerances (delta from sigma, n, T and the planted growth)."""
    from ufm import fit_lesde
    from ufm.dynamics._lesde_fit import elasticities, mode_vectors
    from ufm.tolerances import LESDE_EULER_RATE, LESDE_FIT_SIGMAS

    K, n, d, T, dt = 3, 50, 3, 4.0, 1e-3
    init = _fit_start(K, n, d, seed=5)
    res = simulate_lesde(
        K, n, d, _planted(FIT_ALPHA), _planted(FIT_BETA), sigma, T, model=model, dt=dt, paths=1,
        records=41, init=init, seed=2,
    )  # fmt: skip
    fit = fit_lesde(res.snapshots[:, 0], res.labels, res.times, model=model, windows=FIT_EDGES)
    tol = K * LESDE_EULER_RATE
    if sigma > 0:
        # the planted mode rates, hence min_t phi(t) of every mode, and |y(0)| of each mode
        rates = (
            np.array(
                [
                    [(1.0, K - 1.0), (1.0, -1.0)]
                    if model == "I"
                    else [(1.0, -1.0), (1.0, 1 / (K - 1))]
                ]
            )[0]
            @ np.vstack((FIT_ALPHA, FIT_BETA))
            / K
        )
        logs = np.cumsum(rates * np.diff(FIT_EDGES), axis=1)
        low = np.exp(np.minimum(logs.min(axis=1), 0.0))
        M0 = init[0].reshape(d, K, n).mean(axis=2)[None]
        size = np.array([np.linalg.norm(y[0]) for y in mode_vectors(model, M0)])
        # per-coordinate noise sd of each mode over sigma sqrt(T/n): I: the mean of K class means,
        # a class mean minus that mean; L: s_c = u_c^T m_c (|u_c|^2 = (K-1)/K), their mean, and s_c
        # minus the mean
        keep = (K - 1) / K
        share = [1 / math.sqrt(K), math.sqrt(keep)] if model == "I" else [
            math.sqrt(keep / K), keep]  # fmt: skip
        delta = (sigma * math.sqrt(T / n) * np.array(share) / (size * low)).max()
        tol += LESDE_FIT_SIGMAS * (K if model == "I" else 2 * (K - 1)) * 2 * delta / 2.0
    assert np.max(np.abs(fit.alpha - FIT_ALPHA)) <= tol
    assert np.max(np.abs(fit.beta - FIT_BETA)) <= tol
    A, B = elasticities(model, K, fit.log_growth[:, 0], fit.log_growth[:, 1])
    assert relative_deviation([fit.A, fit.B], [A, B]) <= FLOAT
    if sigma == 0:
        assert fit.residual <= FLOAT and fit.direction_residual.max() <= FLOAT


def test_fit_authors_inversion_is_exact_on_the_modes():
    """Property: from noiseless class means built mode by mode with A(t) = 2t, B(t) = 0.5t, the
    snapshot estimates A(t_r), B(t_r) (the authors' A-hat, B-hat) equal the planted integrals,
    for both models, and a constant fit (windows=1) returns alpha = 2, beta = 0.5."""
    from ufm import fit_lesde
    from ufm.dynamics._lesde_fit import mode_vectors

    K, d = 4, 5
    t = np.linspace(0.0, 3.0, 7)
    M0 = np.random.default_rng(0).standard_normal((d, K)) + 1.0
    for model, rates in (("I", (2.0 + 3 * 0.5, 2.0 - 0.5)), ("L", (2.0 - 0.5, 2.0 + 0.5 / 3))):
        if model == "I":
            mean = M0.mean(axis=1, keepdims=True)
            M = np.stack([np.exp(rates[0] * s / K) * mean + np.exp(rates[1] * s / K) * (M0 - mean)
                          for s in t])  # fmt: skip
        else:
            # L: only s_c = u_c^T m_c moves, along u_c; build m_c(t) = m_c(0) + (s_c(t) - s_c(0))
            # u_c / |u_c|^2
            y1, y2 = (v[0] for v in mode_vectors("L", M0[None]))
            U = np.eye(d, K) - np.vstack((np.full((K, K), 1 / K), np.zeros((d - K, K))))
            M = np.stack([
                M0 + U * ((np.exp(rates[0] * s / K) - 1) * y1 + (np.exp(rates[1] * s / K) - 1) * y2)
                * K / (K - 1)
                for s in t
            ])  # fmt: skip
        fit = fit_lesde(M, times=t, model=model)
        assert relative_deviation([fit.A, fit.B], [2.0 * t, 0.5 * t]) <= FLOAT
        assert relative_deviation([fit.alpha[0], fit.beta[0]], [2.0, 0.5]) <= FLOAT


def test_fit_rejects_bad_input():
    """Property: bad snapshots, labels, times, windows or a zero mode raise InvalidParameter naming
    the problem."""
    from ufm import fit_lesde

    good = np.random.default_rng(1).standard_normal((4, 3, 3)) + 1.0
    cases = [
        (dict(snapshots=good[0]), "shape"),
        (dict(snapshots=np.full((4, 3, 3), np.nan)), "finite"),
        (dict(snapshots=good[:1]), "R >= 2"),
        (dict(times=[0.0, 1.0, 1.0, 2.0]), "increasing"),
        (dict(windows=[0.0, 5.0]), "edges"),
        (dict(windows=0), "windows"),
        (dict(times=[0.0, 1.0, 1.5, 3.0], windows=[0.0, 1.2, 1.4, 3.0]), "hold no snapshot"),
        (dict(snapshots=good - good.mean(axis=2, keepdims=True)), "common mode is zero"),
        (dict(model="L", snapshots=good[:, :2, :]), "d >= K"),
        (dict(labels=np.array([0.5, 1, 2])), "labels"),
        (dict(model="Q"), "model"),
    ]
    for change, match in cases:
        args = {"snapshots": good, **change}
        with pytest.raises(InvalidParameter, match=match):
            fit_lesde(**args)


def _run_cli(argv, capsys):
    from ufm.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_cli_lesde_fit(tmp_path, capsys):
    """Property: ``ufm lesde fit FILE --json`` fits features saved with labels and times in an .npz
    (the envelope's command is 'lesde fit'), recovering noiseless planted elasticities to Euler's
    bias; --plot writes a PNG; the table form prints one row per window."""
    import json

    from ufm.tolerances import LESDE_EULER_RATE

    K, n, d = 3, 4, 3
    res = simulate_lesde(
        K, n, d, _planted(FIT_ALPHA), _planted(FIT_BETA), 0.0, 4.0, dt=1e-3, paths=1, records=9,
        init=_fit_start(K, n, d, seed=1),
    )  # fmt: skip
    path = tmp_path / "snaps.npz"
    np.savez(path, snapshots=res.snapshots[:, 0], labels=res.labels, times=res.times)
    argv = [
        "lesde",
        "fit",
        str(path),
        "--windows",
        "2",
        "--json",
        "--plot",
        str(tmp_path / "f.png"),
    ]
    code, out, err = _run_cli(argv, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["command"] == "lesde fit" and data["model"] == "I"
    assert np.max(np.abs(np.array(data["alpha"]) - FIT_ALPHA)) <= K * LESDE_EULER_RATE
    assert np.max(np.abs(np.array(data["beta"]) - FIT_BETA)) <= K * LESDE_EULER_RATE
    assert data["residual"] <= FLOAT and len(data["A"]) == len(data["times"]) == 9
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = _run_cli(["lesde", "fit", str(path), "--windows", "2"], capsys)
    assert code == 0 and "[0, 2]" in out and "[2, 4]" in out


def test_cli_lesde_fit_errors(tmp_path, capsys):
    """Property: a missing, non-npz or wrongly keyed file, an impossible fit, and simulation options
    before ``fit`` each give one ``error:`` line and exit status 2; the simulation without a
    required option still says which one is missing."""
    np.savez(tmp_path / "wrong.npz", features=np.ones((3, 2, 2)))
    (tmp_path / "text.npz").write_text("not an archive")
    np.savez(tmp_path / "flat.npz", snapshots=np.ones((3, 2, 2)))  # a zero contrast mode
    cases = [
        (["lesde", "fit", str(tmp_path / "absent.npz")], "no such file"),
        (["lesde", "fit", str(tmp_path / "text.npz")], "not a readable .npz"),
        (["lesde", "fit", str(tmp_path / "wrong.npz")], "'snapshots'"),
        (["lesde", "fit", str(tmp_path / "flat.npz")], "contrast mode is zero"),
        (["lesde", "--K", "3", "fit", str(tmp_path / "flat.npz")], "do not apply"),
        ("lesde --K 3 --n 2 --d 3 --alpha 1 --beta 0 --noise 0.1".split(), "--time"),
    ]
    for argv, match in cases:
        code, out, err = _run_cli(argv, capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
        assert match in lines[0], err
