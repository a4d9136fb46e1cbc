"""Property tests that pin conventions and failure paths (hand-computed cases, invariances, a
statistical test of the random rotation, failure injection, +-inf wherever NaN is refused)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ufm
from ufm.errors import InvalidParameter
from ufm.geometry import random_rotation
from ufm.io import atomic_write
from ufm.metrics import feature_metrics, nc_metrics
from ufm.objectives import objective
from ufm.tolerances import relative_deviation

# --- hand-computed metrics -----------------------------------------------------------------------

#: d = 1, K = 2: class 0 at {0, 2} (mean 1), class 1 at {5, 7} (mean 6); global mean 3.5.
H_1D = np.array([[0.0, 2.0, 5.0, 7.0]])
LABELS_1D = np.array([0, 0, 1, 1])


@pytest.mark.parametrize(
    "variance, nc1, cdnv",
    [
        # Sigma_W = (1/N) sum (h - mu)^2 = 4/4 = 1; Sigma_B = (2.5^2 + 2.5^2)/2 = 6.25;
        # NC1 = tr(Sigma_W Sigma_B^+)/K = (1/6.25)/2; CDNV = (1 + 1)/(2 * 5^2) with var_k = 1
        ("biased", 0.08, 0.04),
        # unbiased: Sigma_W = 4/(N - K) = 2, var_k = 2/(n - 1) = 2
        ("unbiased", 0.16, 0.08),
    ],
)
def test_nc1_and_cdnv_on_a_hand_computed_case(variance, nc1, cdnv):
    """Property: NC1 and CDNV equal their hand-computed values in both variance conventions."""
    m = feature_metrics(H_1D, LABELS_1D, 2, variance=variance)
    assert m["nc1"] == pytest.approx(nc1, rel=1e-14)
    assert m["cdnv"] == pytest.approx(cdnv, rel=1e-14)


def test_unweighted_global_mean_on_a_hand_computed_case():
    """Property: with sizes 1 and 3, the weighted global mean (of samples) and the unweighted one
    (of class means) give the hand-computed Sigma_B, hence NC1 = tr(Sigma_W)/(K tr Sigma_B)."""
    H = np.array([[0.0, 4.0, 5.0, 6.0]])  # class 0: {0}, class 1: {4, 5, 6} (mean 5)
    labels = np.array([0, 1, 1, 1])
    sigma_w = 2.0 / 4  # (1 + 0 + 1)/N, biased
    for convention, mu_g in (("weighted", 15.0 / 4), ("unweighted", 2.5)):
        sigma_b = ((0 - mu_g) ** 2 + (5 - mu_g) ** 2) / 2
        m = feature_metrics(H, labels, 2, global_mean=convention)
        assert m["nc1"] == pytest.approx(sigma_w / sigma_b / 2, rel=1e-14), convention


# --- invariances ---------------------------------------------------------------------------------


@given(
    st.integers(2, 4),
    st.integers(0, 2**16),
    st.floats(-6, -1),  # log10 of the separation of the class means
    st.floats(-3, 3),  # log10 of the common shift
)
def test_nc1_is_unchanged_by_a_common_shift_even_for_nearly_coincident_means(K, seed, sep, shift):
    """Property: h_i -> h_i + c for all i leaves NC1 (and the CDNV) unchanged, with class means
    10^-6..10^-1 apart and shifts up to 10^3. Tolerance: the shift costs the float64 features
    eps |c| absolute, i.e. a relative error ~ eps |c| / (separation x spread) in the second moments;
    at most 2.2e-16 * 1e3 / (1e-6 * 1e-1) ~ 2e-6, so 1e-5."""
    rng = np.random.default_rng(seed)
    d, n = K + 1, 4
    means = 10.0**sep * rng.standard_normal((d, K))
    H = np.repeat(means, n, axis=1) + 0.1 * 10.0**sep * rng.standard_normal((d, K * n))
    labels = np.repeat(np.arange(K), n)
    c = 10.0**shift * rng.standard_normal((d, 1))
    base, moved = feature_metrics(H, labels, K), feature_metrics(H + c, labels, K)
    for key in ("nc1", "nc1_trace_ratio", "cdnv"):
        assert relative_deviation(moved[key], base[key]) <= 1e-5, key


@given(st.integers(2, 5), st.integers(0, 2**16), st.sampled_from([1e-200, 1e-30, 1e30, 1e200]))
def test_every_metric_is_scale_free_at_every_scale(K, seed, scale):
    """Property: every metric of nc_metrics, NC4 included, is unchanged when W is scaled by s and
    H by 1/s (the logits W H + b are unchanged) for s in 1e-200..1e200; the decisions and
    distances are computed at unit scale, so only rounding differs (1e-9)."""
    rng = np.random.default_rng(seed)
    d, n = K + 1, 3
    W = rng.standard_normal((K, d))
    H = np.repeat(rng.standard_normal((d, K)), n, axis=1) + 0.3 * rng.standard_normal((d, K * n))
    b = rng.standard_normal(K)
    labels = np.repeat(np.arange(K), n)
    base = nc_metrics(W, H, b, labels)
    scaled = nc_metrics(scale * W, H / scale, b, labels)
    for key, value in base.items():
        if value is None:
            assert scaled[key] is None, key
        else:
            assert relative_deviation(scaled[key], value) <= 1e-9, key


# --- the random rotation is Haar -----------------------------------------------------------------


def test_random_rotation_is_haar_distributed():
    """Property: over seeds 0..3999 the d = 3 rotations have the Haar moments of O(3):
    E[Q_ij] = 0, E[Q_ij^2] = 1/d, E[tr Q] = 0, E[(tr Q)^2] = 1. Each sample mean is compared with
    5 standard errors (Q_ij^2 has variance 2/(d(d+2)) - ... <= 1/d^2 here, tr Q variance 1): for a
    truly random sample the false-alarm rate is < 6e-7 per statistic. A QR without the sign fix
    (Q_11 = -|a_11|/||a|| < 0 always) fails the first."""
    d, m = 3, 4000
    Q = np.array([random_rotation(d, seed) for seed in range(m)])
    se = 5 / math.sqrt(m)
    assert np.all(np.abs(Q.mean(axis=0)) <= se * math.sqrt(1 / d))
    assert np.all(np.abs((Q**2).mean(axis=0) - 1 / d) <= se * math.sqrt(2 / (d * (d + 2))) * 2)
    trace = np.trace(Q, axis1=1, axis2=2)
    assert abs(trace.mean()) <= se and abs((trace**2).mean() - 1) <= se * math.sqrt(2) * 2
    assert np.allclose(np.einsum("sij,sik->sjk", Q, Q), np.eye(d), atol=1e-12)


# --- failure injection ---------------------------------------------------------------------------


def test_a_failing_fsync_keeps_the_old_file(tmp_path, monkeypatch):
    """Property: when fsync fails (disk full, I/O error) the save raises InvalidParameter naming the
    file, the previous file is intact and no temporary is left behind."""
    path = tmp_path / "config.npz"
    path.write_bytes(b"old contents")

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(InvalidParameter, match=r"cannot write .*config\.npz.*Input/output error"):
        atomic_write(path, lambda fh: fh.write(b"new contents"))
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["config.npz"]


# --- +-inf wherever NaN is refused ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_entries_are_refused_everywhere(bad):
    """Property: an infinite or NaN entry in W, H or b is refused with InvalidParameter by the
    objective, the metrics and the Configuration, naming the array."""
    p = ufm.Problem(loss="ce", K=2, d=2, n=1, lambda_W=0.1, lambda_H=0.1, bias="free")
    W, H, b = np.eye(2), np.eye(2), np.zeros(2)
    for name in ("W", "H", "b"):
        arrays = {"W": W.copy(), "H": H.copy(), "b": b.copy()}
        arrays[name].flat[0] = bad
        with pytest.raises(InvalidParameter, match=rf"{name} must be finite"):
            objective(p, arrays["W"], arrays["H"], arrays["b"])
        with pytest.raises(InvalidParameter, match=rf"{name} must be finite"):
            nc_metrics(arrays["W"], arrays["H"], arrays["b"], p.labels)
        with pytest.raises(InvalidParameter, match=rf"{name} must be finite"):
            ufm.Configuration(arrays["W"], arrays["H"], arrays["b"], problem=p)


# --- every verdict can say no ------------------------------------------------------------------


def test_verdict_functions_say_no():
    """Property: each verdict-returning function answers "no" where it must:
    verify_convergence after too few steps (gaps reported, ok False); classify_critical_point at a
    non-critical point; gap of a configuration far from the optimum (well above the solver's
    tolerance); is_separable for interleaved classes."""
    from ufm.dynamics import is_separable, verify_convergence
    from ufm.landscape import classify_critical_point
    from ufm.relaxations import gap, nuclear_relaxation
    from ufm.tolerances import CONVEX_CLARABEL

    p = ufm.Problem(loss="ce", K=3, d=3, n=2, lambda_W=5e-3, lambda_H=5e-3, bias="free")
    report = verify_convergence(p, steps=3, lr=0.1, seed=0)
    assert report.objective_gap > report.tolerances["objective"] and report.ok is False
    rng = np.random.default_rng(0)
    W, H, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 6)), rng.standard_normal(3)
    assert classify_critical_point(p, W, H, b).verdict == "not critical"
    cert = nuclear_relaxation(p)
    assert gap((W, H, b), p, certificate=cert) > 100 * CONVEX_CLARABEL * (1 + abs(cert.objective))
    X = np.array([[0.0, 1.0, 2.0, 3.0]])  # labels 0 1 0 1 on a line: no separating threshold
    assert not is_separable(X, np.array([0, 1, 0, 1]), criterion="linear")
