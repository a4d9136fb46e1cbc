"""Property tests of ufm.metrics: exact zeros on collapsed frames, NC1 >= 0, invariances, the
documented effect of each convention, None for undefined metrics. ETFs are built inline from
their formula."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import ortho_group

from ufm import nc_metrics
from ufm.errors import InvalidParameter
from ufm.metrics import GRAM_KEYS, METRIC_KEYS, feature_metrics, gram_gaps, gram_invariants
from ufm.tolerances import FLOAT, METRIC_ZERO, relative_deviation

ZERO_ON_ETF = [k for k in METRIC_KEYS if not k.startswith("of_distance")]


def rotation(d, seed):
    return ortho_group.rvs(d, random_state=seed) if d > 1 else np.eye(1)


def etf_means(K, d, seed):
    """sqrt(K/(K-1)) (I - 11^T/K) columns, embedded in R^d (d >= K) and rotated."""
    M = np.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)
    return rotation(d, seed) @ np.vstack([M, np.zeros((d - K, K))])


def orthogonal_means(K, d, seed):
    return rotation(d, seed)[:, :K]


def collapsed(M, n, alpha, beta):
    """Every sample at its (scaled) class mean; classifier = beta times the means."""
    K = M.shape[1]
    return beta * M.T, np.repeat(alpha * M, n, axis=1), np.repeat(np.arange(K), n)


frames = st.tuples(
    st.integers(2, 6),  # K
    st.integers(0, 3),  # d - K
    st.integers(1, 4),  # n
    st.floats(0.1, 10),  # alpha
    st.floats(0.1, 10),  # beta
    st.integers(0, 1000),  # seed
)


@given(frames)
def test_collapsed_etf_gives_exact_zeros(frame):
    """Property: on an exactly collapsed balanced ETF with W = beta M^T, every NC metric except the
    orthogonal-frame distances is <= METRIC_ZERO."""
    K, extra, n, alpha, beta, seed = frame
    W, H, labels = collapsed(etf_means(K, K + extra, seed), n, alpha, beta)
    m = nc_metrics(W, H, np.zeros(K), labels)
    for key in ZERO_ON_ETF:
        assert m[key] is not None and 0 <= m[key] <= METRIC_ZERO, (key, m[key])


@given(frames)
def test_collapsed_orthogonal_frame_gives_zero_of_distance(frame):
    """Property: on collapsed orthonormal means with W = beta M^T both of_distance_* vanish."""
    K, extra, n, alpha, beta, seed = frame
    W, H, labels = collapsed(orthogonal_means(K, K + extra, seed), n, alpha, beta)
    m = nc_metrics(W, H, None, labels)
    assert m["of_distance_means"] <= METRIC_ZERO
    assert m["of_distance_classifiers"] <= METRIC_ZERO
    assert m["nc1"] <= METRIC_ZERO and m["nc4"] == 0.0


def random_configuration(K, d, sizes, seed, spread=1.0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(K), sizes)
    means = spread * rng.standard_normal((d, K))
    H = means[:, labels] + rng.standard_normal((d, labels.size))
    return rng.standard_normal((K, d)), H, rng.standard_normal(K), labels


configs = st.tuples(
    st.integers(2, 5),
    st.integers(1, 6),
    st.lists(st.integers(2, 5), min_size=5, max_size=5),
    st.integers(0, 2**16),
)


@given(configs, st.sampled_from([1.0, 1e-6, 1e-9]))
def test_nc1_is_nonnegative_and_finite(config, spread):
    """Property: NC1 >= 0 and every metric is finite or None, also when Sigma_B is near-singular
    (class means 1e-9 apart relative to the within-class spread)."""
    K, d, sizes, seed = config
    W, H, b, labels = random_configuration(K, d, sizes[:K], seed, spread)
    m = nc_metrics(W, H, b, labels)
    assert m["nc1"] is None or m["nc1"] >= 0
    for key, value in m.items():
        assert value is None or np.isfinite(value), key


def assert_same(m1, m2, keys=METRIC_KEYS):
    for key in keys:
        assert (m1[key] is None) == (m2[key] is None), key
        if m1[key] is not None:
            assert relative_deviation(m1[key], m2[key]) <= FLOAT, (key, m1[key], m2[key])


@given(configs)
def test_rotation_invariance(config):
    """Property: H -> QH, W -> W Q^T (Q orthogonal) leaves every metric unchanged."""
    K, d, sizes, seed = config
    W, H, b, labels = random_configuration(K, d, sizes[:K], seed)
    Q = rotation(d, seed)
    assert_same(nc_metrics(W, H, b, labels), nc_metrics(W @ Q.T, Q @ H, b, labels))


@given(configs)
def test_class_permutation_invariance(config):
    """Property: permuting the classes (rows of W, entries of b, relabelling) changes no metric."""
    K, d, sizes, seed = config
    W, H, b, labels = random_configuration(K, d, sizes[:K], seed)
    perm = np.random.default_rng(seed).permutation(K)  # class k becomes class perm[k]
    W2, b2 = np.empty_like(W), np.empty_like(b)
    W2[perm], b2[perm] = W, b
    assert_same(nc_metrics(W, H, b, labels), nc_metrics(W2, H, b2, perm[labels]))


@given(configs, st.floats(1e-3, 1e3), st.floats(1e-3, 1e3))
def test_scale_invariance(config, c_H, c_W):
    """Property: scaling H by c_H and W by c_W (with b = 0) leaves every metric unchanged: all of
    them are ratios or normalized Gram matrices."""
    K, d, sizes, seed = config
    W, H, _, labels = random_configuration(K, d, sizes[:K], seed)
    assert_same(nc_metrics(W, H, None, labels), nc_metrics(c_W * W, c_H * H, None, labels))


@given(configs)
def test_global_mean_conventions_agree_for_balanced_classes(config):
    """Property: weighted and unweighted global means give the same metrics for balanced classes."""
    K, d, sizes, seed = config
    W, H, b, labels = random_configuration(K, d, [sizes[0]] * K, seed)
    assert_same(
        nc_metrics(W, H, b, labels, global_mean="weighted"),
        nc_metrics(W, H, b, labels, global_mean="unweighted"),
    )


@given(configs)
def test_convention_factors(config):
    """Property: nc1_divide_by_K=False multiplies NC1 by K; variance='unbiased' multiplies the
    balanced CDNV by n/(n-1); nc3_squared squares nc3_papyan; nc4_as='agreement' is 1 - mismatch."""
    K, d, sizes, seed = config
    n = sizes[0]
    W, H, b, labels = random_configuration(K, d, [n] * K, seed)
    base = nc_metrics(W, H, b, labels)
    assert (
        relative_deviation(
            nc_metrics(W, H, b, labels, nc1_divide_by_K=False)["nc1"], K * base["nc1"]
        )
        <= FLOAT
    )
    unbiased = nc_metrics(W, H, b, labels, variance="unbiased")
    assert relative_deviation(unbiased["cdnv"], base["cdnv"] * n / (n - 1)) <= FLOAT
    squared = nc_metrics(W, H, b, labels, nc3_squared=True)
    assert relative_deviation(squared["nc3_papyan"], base["nc3_papyan"] ** 2) <= FLOAT
    agreement = nc_metrics(W, H, b, labels, nc4_as="agreement")
    assert agreement["nc4"] == 1.0 - base["nc4"]


def test_nc4_bias_convention():
    """Property: nc4_bias=False ignores b; a bias that flips decisions changes NC4 only if used."""
    K, n = 3, 2
    M = etf_means(K, K, 0)
    W, H, labels = collapsed(M, n, 1.0, 1.0)
    b = np.array([100.0, 0.0, 0.0])
    assert nc_metrics(W, H, b, labels, nc4_bias=False)["nc4"] == 0.0
    assert nc_metrics(W, H, b, labels)["nc4"] == pytest.approx(2 / 3, abs=FLOAT)


def test_undefined_metrics_are_none_at_zero():
    """Property: at W = 0, H = 0 every metric is undefined (None), never NaN or 0."""
    K, d, n = 3, 4, 2
    m = nc_metrics(np.zeros((K, d)), np.zeros((d, K * n)), np.zeros(K), np.repeat(np.arange(K), n))
    assert set(m) == set(METRIC_KEYS)
    assert all(value is None for value in m.values()), m


def test_feature_metrics_agree_with_nc_metrics():
    """Property: feature_metrics returns the feature keys of nc_metrics with the same values."""
    W, H, b, labels = random_configuration(3, 4, [3, 2, 4], 5)
    full, features = nc_metrics(W, H, b, labels), feature_metrics(H, labels)
    assert_same(full, features, keys=list(features))


@given(
    st.integers(2, 6),
    st.integers(0, 3),
    st.integers(0, 2**31 - 1),
    st.booleans(),
)
def test_gram_invariants_are_rotation_invariant(K, extra_d, seed, normalize):
    """Property: W W^T, M^T M, W M are unchanged by W -> W Q^T, M -> Q M (Q orthogonal, d x d).

    Tolerance FLOAT: K x K products of O(1) entries, each side rounded independently.
    """
    d = K - 1 + extra_d
    rng = np.random.default_rng(seed)
    W, M = rng.standard_normal((K, d)), rng.standard_normal((d, K))
    Q = rotation(d, seed)
    base = gram_invariants(W, M, normalize=normalize)
    gaps = gram_gaps(gram_invariants(W @ Q.T, Q @ M, normalize=normalize), base)
    assert set(gaps) == set(GRAM_KEYS) and max(gaps.values()) <= FLOAT
    if normalize:
        for key in ("WWt", "MtM"):
            assert relative_deviation(np.diag(base[key]), 1.0) <= FLOAT


def test_gram_invariants_of_a_simplex_etf():
    """Property: unit ETF vectors have the Gram K/(K-1)(I - 11^T/K) (written from its formula)."""
    K = 4
    M = etf_means(K, K + 1, seed=3)
    target = K / (K - 1) * (np.eye(K) - 1.0 / K)
    grams = gram_invariants(2.0 * M.T, 0.5 * M, normalize=True)
    assert max(relative_deviation(grams[key], target) for key in GRAM_KEYS) <= FLOAT


def test_gram_gaps_report_non_finite_and_refuse_bad_input():
    """Property: a diverged measurement is infinitely far; wrong shapes and keys are refused."""
    W = np.eye(3)
    good = gram_invariants(W, W.T)
    bad = gram_invariants(np.full((3, 3), np.nan), W.T)
    assert gram_gaps(bad, good)["WWt"] == np.inf
    with pytest.raises(InvalidParameter, match=r"M must be a matrix of shape 3 x 3, got shape"):
        gram_invariants(W, np.ones((2, 3)))
    with pytest.raises(InvalidParameter, match=r"reference must hold .* missing \['MtM'\]"):
        gram_gaps(good, {"WWt": good["WWt"], "WM": good["WM"]})


def test_bad_input_raises_ufm_error():
    """Property: no samples (N = 0) and an unknown convention raise InvalidParameter (a ufm error),
    not a bare ValueError or TypeError."""
    from ufm import InvalidParameter

    W = np.eye(3)
    with pytest.raises(InvalidParameter, match="N = 0"):
        nc_metrics(W, np.zeros((3, 0)), None, np.zeros(0, dtype=int))
    with pytest.raises(InvalidParameter, match="unknown conventions"):
        nc_metrics(W, np.eye(3), None, np.arange(3), no_such_convention=True)
    with pytest.raises(InvalidParameter, match="unknown conventions"):
        feature_metrics(np.eye(3), np.arange(3), 3, no_such_convention=True)


@pytest.mark.parametrize("tile", [1, 10, 15])
def test_tiling_does_not_change_the_metrics(monkeypatch, tile):
    """Property: the pairwise reductions give the same metrics whatever the tile size: with
    TILE_ENTRIES = 1, 10, 15 (row tiles of 1, 1 and 2 classes for K = 7, so tiles start at a > 0)
    every metric equals the untiled one (one tile of all K rows)."""
    import ufm.metrics

    W, H, b, labels = random_configuration(7, 4, [2, 3, 2, 4, 2, 3, 2], 11)
    untiled = nc_metrics(W, H, b, labels)
    monkeypatch.setattr(ufm.metrics, "TILE_ENTRIES", tile)
    assert_same(nc_metrics(W, H, b, labels), untiled)
    assert [r for r in ufm.metrics.row_blocks(7)] == [
        (a, min(7, a + max(1, tile // 7))) for a in range(0, 7, max(1, tile // 7))
    ]


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_metrics_at_extreme_feature_scales(scale):
    """Property: W and H at 1e-300 or 1e300 (their squares and the logits W H under- or overflow
    float64) give the metrics of the same configuration at scale 1, with no bias or a constant
    one (which leaves every decision argmax(W h + b) unchanged): every metric is computed in units
    of max|H| and max|W|. At 1e-300 NC4 was 0.8 instead of 0.7 before the constant bias was
    dropped (the logits 1e-600 rounded to ties)."""
    W, H, b, labels = random_configuration(4, 3, [2, 3, 2, 3], 5)
    base = nc_metrics(W, H, None, labels)
    for bias in (None, np.zeros(4), np.full(4, 0.3)):
        assert_same(nc_metrics(scale * W, scale * H, bias, labels), base)
