"""Tests of ufm.measure: the streamed metrics equal the in-memory ufm.nc_metrics for any chunking,
order, layout, file format and Dask blocking; errors name the file and the row; the new metrics
against brute-force twins written here from their formulas; the ``ufm measure`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group

import ufm
import ufm.geometry
import ufm.metrics as metrics_module
from ufm import nc_metrics
from ufm.cli import main
from ufm.errors import InvalidFile, InvalidParameter
from ufm.measure import (
    Accumulator,
    effective_rank,
    etf_procrustes_distance,
    hyperspherical_uniformity,
    measure,
    ood_orthogonality,
    unc3_cosine_cov,
    unc3_dot_variance,
)
from ufm.metrics import METRIC_KEYS, feature_metrics
from ufm.tolerances import FLOAT, METRIC_ZERO, STREAMING, relative_deviation


def features(K, d, sizes, seed, spread=2.0):
    """(N, d) features around random class means, labels shuffled (not grouped by class)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(K), sizes))
    means = spread * rng.normal(size=(K, d))
    X = means[labels] + rng.normal(size=(labels.size, d))
    return X, labels, rng.normal(size=(K, d)), rng.normal(size=K)


def assert_close(got: dict, want: dict, keys, tol=STREAMING):
    for key in keys:
        g, w = got[key], want[key]
        assert (g is None) == (w is None), (key, g, w)
        if w is not None:
            assert relative_deviation(g, w) <= tol, (key, g, w)


conventions = st.fixed_dictionaries(
    {
        "global_mean": st.sampled_from(["weighted", "unweighted"]),
        "variance": st.sampled_from(["biased", "unbiased"]),
        "nc4_bias": st.booleans(),
        "nc4_as": st.sampled_from(["mismatch", "agreement"]),
        "nc3_squared": st.booleans(),
    }
)


@settings(max_examples=25)
@given(
    K=st.integers(2, 6),
    d=st.integers(1, 9),
    extra=st.lists(st.integers(0, 6), min_size=6, max_size=6),
    chunk_rows=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    conv=conventions,
)
def test_streamed_metrics_equal_nc_metrics(K, d, extra, chunk_rows, seed, conv):
    """Property: for random imbalanced data, any chunk size and any convention, measure() returns
    every key of nc_metrics with the same value (relative deviation <= STREAMING)."""
    sizes = [2 + e for e in extra[:K]]
    X, labels, W, b = features(K, d, sizes, seed)
    want = nc_metrics(W, X.T, b, labels, **conv)
    got = measure(X, labels, W, b, chunk_rows=chunk_rows, **conv).metrics
    assert_close(got, want, METRIC_KEYS)


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), chunk_rows=st.integers(1, 50))
def test_row_order_does_not_matter(seed, chunk_rows):
    """Property: permuting the samples (with their labels) leaves every streamed metric unchanged
    to STREAMING, so chunks can be read in any order."""
    X, labels, W, b = features(4, 5, [7, 3, 9, 5], seed)
    perm = np.random.default_rng(seed + 1).permutation(labels.size)
    one = measure(X, labels, W, b, chunk_rows=chunk_rows).metrics
    two = measure(X[perm], labels[perm], W, b, chunk_rows=chunk_rows).metrics
    assert_close(two, one, one)


def test_accumulator_merges_are_associative_and_match_one_chunk():
    """Property: ((a+b)+c), (a+(b+c)) and (c+a)+b equal the statistics of the whole array in one
    chunk (counts exactly, float entries to STREAMING)."""
    X, labels, _, _ = features(3, 4, [5, 6, 7], 3)
    parts = [slice(0, 4), slice(4, 11), slice(11, None)]
    a, b, c = (Accumulator.from_chunk(X[s], labels[s], 3, True) for s in parts)
    whole = Accumulator.from_chunk(X, labels, 3, True)
    for merged in (a.merge(b).merge(c), a.merge(b.merge(c)), c.merge(a).merge(b)):
        np.testing.assert_array_equal(merged.counts, whole.counts)
        for name in ("means", "scatter", "within"):
            assert relative_deviation(getattr(merged, name), getattr(whole, name)) <= STREAMING
        assert merged.scale == whole.scale


def test_dask_and_layouts_equal_in_memory():
    """Property: a Dask array with irregular blocks (rows and columns), and the (d, N) layout, give
    the in-memory metrics (to STREAMING)."""
    import dask.array as da

    X, labels, W, b = features(5, 6, [9, 4, 11, 6, 8], 7)
    want = nc_metrics(W, X.T, b, labels)
    blocks = da.from_array(X, chunks=((13, 7, 18), (4, 2)))
    assert_close(measure(blocks, labels, W, b).metrics, want, METRIC_KEYS)
    assert_close(measure(blocks, labels, W, b, scheduler="synchronous").metrics, want, METRIC_KEYS)
    assert_close(measure(X.T, labels, W, b, chunk_rows=5).metrics, want, METRIC_KEYS)
    assert_close(measure(da.from_array(X.T), labels, W, b).metrics, want, METRIC_KEYS)


@pytest.mark.parametrize("fmt", ["npy", "npz", "npz-key", "zarr", "hdf5"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_file_formats(tmp_path, fmt, dtype):
    """Property: features stored as .npy, .npz, Zarr or HDF5 in float16/32/64 give the metrics of
    the same numbers in memory (converted to float64)."""
    X, labels, W, b = features(3, 4, [6, 5, 7], 11)
    X = X.astype(dtype)
    want = nc_metrics(W, X.T.astype(np.float64), b, labels)
    path = tmp_path / "feats"
    if fmt == "npy":
        spec = path.with_suffix(".npy")
        np.save(spec, X)
    elif fmt == "npz":
        spec = path.with_suffix(".npz")
        np.savez(spec, X=X)
    elif fmt == "npz-key":
        np.savez(path.with_suffix(".npz"), X=X, other=np.zeros(3))
        spec = f"{path.with_suffix('.npz')}:X"
    elif fmt == "zarr":
        import zarr

        spec = path.with_suffix(".zarr")
        zarr.save_array(str(spec), X)
    else:
        import h5py

        spec = path.with_suffix(".h5")
        with h5py.File(spec, "w") as handle:
            handle["features"] = X
    np.save(tmp_path / "y.npy", labels)
    got = measure(str(spec), str(tmp_path / "y.npy"), W, b, chunk_rows=4).metrics
    assert_close(got, want, METRIC_KEYS)


def test_trace_only_drops_nc1_and_keeps_the_rest():
    """Property: covariance=False leaves out nc1 and the scatter effective ranks; every other key
    is unchanged."""
    X, labels, W, b = features(3, 5, [4, 6, 5], 2)
    full = measure(X, labels, W, b).metrics
    trace = measure(X, labels, W, b, covariance=False).metrics
    dropped = {"nc1", "effective_rank_within", "effective_rank_features"}
    assert set(full) - set(trace) == dropped
    assert_close(trace, full, trace)


#: Relative singular-value cut for the brute-force pseudo-inverse of Sigma_B in the projected-route
#: twin: rank-deficient means leave eigenvalues of Sigma_B at rounding level (~1e-16 of the
#: largest), which 1e-10 drops, while the kept ones of these O(1) random means exceed 1e-3.
PINV_RCOND = 1e-10


def brute_nc1(X, labels, K, **conv):
    """tr(Sigma_W Sigma_B^+)/K from explicit d x d matrices (numpy's pinv), the formula's twin."""
    counts = np.bincount(labels, minlength=K)
    means = np.stack([X[labels == k].mean(axis=0) for k in range(K)])
    weights = counts / counts.sum() if conv.get("global_mean") != "unweighted" else np.ones(K) / K
    Mc = means - weights @ means
    R = X - means[labels]
    delta = 1 if conv.get("variance") == "unbiased" else 0
    Sigma_W = R.T @ R / (labels.size - K * delta)
    return float(np.trace(Sigma_W @ np.linalg.pinv(Mc.T @ Mc / K, rcond=PINV_RCOND))) / K


@settings(max_examples=20)
@given(
    shape=st.sampled_from([(6, 3), (6, 5), (6, 9), (2, 1), (3, 2), (4, 12)]),
    chunk_rows=st.integers(1, 40),
    with_W=st.booleans(),
    seed=st.integers(0, 10_000),
    conv=conventions,
)
def test_projected_scatter_equals_nc_metrics(shape, chunk_rows, with_W, seed, conv):
    """Property: covariance='projected' (nc1 from S_W on the span of the centred means, on a second
    pass) returns every key of nc_metrics with its value to STREAMING for d < K - 1, d = K - 1 and
    d > K - 1, any chunking and convention, with or without W, and nc1 equals the brute-force
    tr(Sigma_W Sigma_B^+)/K; only effective_rank_within/features are left out."""
    K, d = shape
    X, labels, W, b = features(K, d, [3 + k for k in range(K)], seed)
    W, b = (W, b) if with_W else (None, None)
    want = nc_metrics(W, X.T, b, labels, **conv) if with_W else feature_metrics(X.T, labels, **conv)
    m = measure(X, labels, W, b, covariance="projected", chunk_rows=chunk_rows, **conv).metrics
    assert_close(m, want, want)
    full = measure(X, labels, W, b, chunk_rows=chunk_rows, **conv).metrics
    assert set(full) - set(m) == {"effective_rank_within", "effective_rank_features"}
    assert relative_deviation(m["nc1"], brute_nc1(X, labels, K, **conv)) <= STREAMING


@pytest.mark.parametrize("rank", [1, 2])
def test_projected_scatter_with_rank_deficient_means(rank):
    """Property: class means spanning only a rank-1 or rank-2 affine subspace (K = 5, d = 6; two
    classes share their mean in the rank-1 case) give the nc1 of nc_metrics, of covariance=True
    and of the brute-force pseudo-inverse, in chunks of 3 rows and as Dask blocks."""
    import dask.array as da

    rng = np.random.default_rng(rank)
    K, d = 5, 6
    labels = rng.permutation(np.repeat(np.arange(K), [6, 7, 5, 8, 6]))
    coords = rng.normal(size=(K, rank)) * 3.0
    if rank == 1:
        coords[4] = coords[3]
    means = 1.5 + coords @ rng.normal(size=(rank, d))
    X = means[labels] + rng.normal(size=(labels.size, d))
    W, b = rng.normal(size=(K, d)), rng.normal(size=K)
    want = nc_metrics(W, X.T, b, labels)
    for source in (X, da.from_array(X, chunks=(7, 6))):
        got = measure(source, labels, W, b, covariance="projected", chunk_rows=3).metrics
        assert_close(got, want, METRIC_KEYS)
    full = measure(X, labels, covariance=True, chunk_rows=3).metrics["nc1"]
    assert relative_deviation(got["nc1"], full) <= STREAMING
    assert relative_deviation(got["nc1"], brute_nc1(X, labels, K)) <= STREAMING


def test_projected_scatter_contract_and_bad_covariance(files):
    """Property: the projected scatter answers for its own basis only (another basis is an error,
    not a wrong number); covariance outside {True, 'projected', False} is refused by name; the
    projected route fits a memory limit the d x d matrix does not."""
    from ufm.measure._accumulate import ProjectedScatter

    _, X, labels, _ = files
    basis = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 2)))[0]
    part = ProjectedScatter.from_chunk(X, labels, np.zeros((3, 4)), basis)
    np.testing.assert_allclose(part(basis), np.sum((X @ basis) ** 2, axis=0), rtol=FLOAT)
    with pytest.raises(InvalidParameter, match=r"accumulated on a basis of shape \(4, 2\)"):
        part(basis[:, :1])
    with pytest.raises(InvalidParameter, match="covariance must be True, 'projected' or False"):
        measure(X, labels, covariance="full")
    # K=3, d=4: the d x d route plans 768 bytes, the projected one 480 (its K x d basis added)
    with pytest.raises(InvalidParameter, match=r"covariance='projected' \(CLI --projected\)"):
        measure(X, labels, memory_limit=500)
    assert "nc1" in measure(X, labels, covariance="projected", memory_limit=500).metrics


def test_pairwise_tiles_do_not_change_the_metrics(monkeypatch):
    """Property: with tiles of 7 entries (many tiles per row of the K x K pairs) every metric,
    old and new, equals the one-tile computation to FLOAT (the sums are only regrouped)."""
    X, labels, W, b = features(9, 6, [5] * 9, 4)
    ood = np.random.default_rng(0).normal(size=(10, 6)) + 1.0
    whole = measure(X, labels, W, b, test=X[:20], test_labels=labels[:20], ood=ood).metrics
    monkeypatch.setattr(metrics_module, "TILE_ENTRIES", 7)
    tiled = measure(X, labels, W, b, test=X[:20], test_labels=labels[:20], ood=ood).metrics
    assert_close(tiled, whole, whole, tol=FLOAT)


def test_ufm_measure_is_callable():
    """Property: ``ufm.measure(...)`` (the package, called) is ``ufm.measure.measure``."""
    X, labels, _, _ = features(3, 4, [4, 4, 4], 1)
    assert ufm.measure(X, labels).metrics == measure(X, labels).metrics


# --- errors -------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    X, labels, W, b = features(3, 4, [5, 5, 5], 0)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", labels)
    np.save(tmp_path / "W.npy", W)
    return tmp_path, X, labels, W


def test_nan_row_is_named(files):
    """Property: a NaN entry is reported with the file name and its row, for files, arrays and
    Dask arrays alike."""
    import dask.array as da

    tmp_path, X, labels, _ = files
    X = X.copy()
    X[9, 2] = np.nan
    np.save(tmp_path / "bad.npy", X)
    with pytest.raises(InvalidFile, match=r"bad\.npy: row 9 has NaN"):
        measure(str(tmp_path / "bad.npy"), labels, chunk_rows=4)
    with pytest.raises(InvalidParameter, match="features: row 9 has NaN"):
        measure(X, labels, chunk_rows=4)
    with pytest.raises(InvalidParameter, match="row 9 has NaN"):
        measure(da.from_array(X, chunks=(4, 4)), labels, scheduler="synchronous")


def test_label_errors_name_the_row(files):
    """Property: a label outside 0..K-1 names the labels file, the row and the value; an empty
    class names the class; a wrong number of labels names both lengths; float labels are
    refused."""
    tmp_path, X, labels, W = files
    bad = labels.copy()
    bad[6] = 5
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(InvalidParameter, match=r"bad\.npy: row 6 has label 5, outside 0\.\.2"):
        measure(X, str(tmp_path / "bad.npy"), W)
    with pytest.raises(InvalidParameter, match=r"class 3 has no sample.*5 at row 6"):
        measure(X, bad)
    with pytest.raises(InvalidParameter, match="there are 14 labels"):
        measure(X, labels[:-1], layout="N,d")
    with pytest.raises(InvalidParameter, match="must hold integers"):
        measure(X, labels.astype(float))


def test_shape_and_file_errors(files):
    """Property: mismatched d, a square array without a layout, a missing file, an unknown format
    and an ambiguous .npz each give one clear error."""
    tmp_path, X, labels, W = files
    with pytest.raises(InvalidParameter, match="W has 3 columns but .* d=4"):
        measure(X, labels, W[:, :3])
    with pytest.raises(InvalidParameter, match="square"):
        measure(np.zeros((15, 15)), labels)
    with pytest.raises(InvalidFile, match="does not exist"):
        measure(str(tmp_path / "nope.npy"), labels)
    (tmp_path / "X.csv").write_text("1,2\n")
    with pytest.raises(InvalidFile, match="unsupported format"):
        measure(str(tmp_path / "X.csv"), labels)
    np.savez(tmp_path / "two.npz", a=X, b=X)
    with pytest.raises(InvalidFile, match=r"holds 2 arrays \['a', 'b'\]: name one"):
        measure(str(tmp_path / "two.npz"), labels)


def test_memory_limit_is_refused_up_front_with_the_estimate(files):
    """Property: a d x d matrix above memory_limit is refused before reading, with the estimate
    and the trace-only remedy; covariance=False then fits."""
    _, X, labels, _ = files
    with pytest.raises(InvalidParameter, match=r"needs about .*covariance=False"):
        measure(X, labels, memory_limit=400)
    assert "nc1" not in measure(X, labels, covariance=False, memory_limit=400).metrics


# --- new metrics against brute-force twins --------------------------------------------------------


def etf_columns(K, d, seed, scale=1.0):
    M = np.sqrt(K / (K - 1)) * (np.eye(K) - 1.0 / K)
    return scale * ortho_group.rvs(d, random_state=seed) @ np.vstack([M, np.zeros((d - K, K))])


def test_effective_rank_values():
    """Property: effective rank is 1 for one non-zero singular value, r for r equal ones, and
    exp(entropy) in general; None for a zero matrix."""
    assert effective_rank([3.0, 0.0, 0.0]) == pytest.approx(1.0, abs=FLOAT)
    assert effective_rank([2.0] * 5) == pytest.approx(5.0, abs=FLOAT)
    p = np.array([1.0, 2.0, 3.0]) / 6
    assert effective_rank([1.0, 2.0, 3.0]) == pytest.approx(np.exp(-np.sum(p * np.log(p))))
    assert effective_rank([0.0, 0.0]) is None


@given(K=st.integers(3, 7), extra=st.integers(0, 3), seed=st.integers(0, 1000))
def test_new_metrics_vanish_on_a_collapsed_etf(K, extra, seed):
    """Property: at an exactly collapsed simplex ETF with W = M~^T, the GNC2 variances, UNC3 dot
    variance, Procrustes distances and NCC test error are <= METRIC_ZERO; NC4 is 0."""
    d = K + extra
    M = etf_columns(K, d, seed, scale=3.0)
    labels = np.repeat(np.arange(K), 3)
    X = M[:, labels].T
    m = measure(X, labels, M.T, np.zeros(K), test=X, test_labels=labels).metrics
    for key in ("gnc2_log", "gnc2_riesz", "unc3_dot_variance", "etf_procrustes_means"):
        assert m[key] is not None and abs(m[key]) <= METRIC_ZERO, (key, m[key])
    assert m["etf_procrustes_classifiers"] <= METRIC_ZERO
    assert m["ncc_accuracy_test"] == 1.0 and m["nc4"] == 0.0


def test_gnc2_and_unc3_cosine_against_full_matrices():
    """Property: the tiled GNC2 (log, Riesz; mean and variance) and UNC3 cosine CoV equal the same
    formulas on full K x K matrices (to FLOAT)."""
    rng = np.random.default_rng(5)
    K, d = 6, 5
    Mc, W = rng.normal(size=(d, K)), rng.normal(size=(K, d))
    U = Mc / np.linalg.norm(Mc, axis=0)
    iu = np.triu_indices(K, 1)
    dist = np.linalg.norm(U[:, iu[0]] - U[:, iu[1]], axis=0)
    for kernel, values in (("log", np.log(1 / dist)), ("riesz", dist ** (-(d - 2)))):
        got = hyperspherical_uniformity(Mc, kernel, "mean")
        assert relative_deviation(got, values.mean()) <= FLOAT
        assert hyperspherical_uniformity(Mc, kernel, "variance") == pytest.approx(
            values.var(), rel=FLOAT
        )
    Wn = W / np.linalg.norm(W, axis=1, keepdims=True)
    cos = (Wn @ U)[iu]
    assert unc3_cosine_cov(W, Mc) == pytest.approx(cos.std() / cos.mean(), rel=FLOAT)
    dots = np.array([W[k] @ Mc[:, k] for k in range(K)])
    assert unc3_dot_variance(W, Mc) == pytest.approx(np.var(dots, ddof=1), rel=FLOAT)


def test_procrustes_distance_equals_explicit_procrustes():
    """Property: the nuclear-norm formula equals an explicit orthogonal Procrustes fit of a
    canonical ETF B (B^T B = P/(K-1)) to X/||X||_F; None when d < K - 1."""
    rng = np.random.default_rng(8)
    K, d = 5, 7
    X = rng.normal(size=(d, K))
    P = np.eye(K) - 1.0 / K
    vals, vecs = np.linalg.eigh(P)
    B = vecs[:, vals > 0.5].T / np.sqrt(K - 1)
    A = X / np.linalg.norm(X)
    u, _, vt = np.linalg.svd(A @ B.T, full_matrices=False)
    want = np.linalg.norm(A - u @ vt @ B)
    assert etf_procrustes_distance(X) == pytest.approx(want, abs=FLOAT)
    assert etf_procrustes_distance(rng.normal(size=(3, 6))) is None


def test_nc5_and_test_metrics():
    """Property: NC5 is 0 for OOD features whose mean is orthogonal to every class mean and 1 for
    OOD features along the class means' common direction; ncc_accuracy_test and cdnv_test equal
    their in-memory definitions; held-out test classes give cdnv_test only."""
    M = np.vstack([np.eye(3), np.zeros((1, 3))])  # class means e_1, e_2, e_3 in R^4
    assert ood_orthogonality(M, np.array([0, 0, 0, 2.0])) == pytest.approx(0.0, abs=FLOAT)
    assert ood_orthogonality(np.ones((4, 3)), np.ones(4)) == pytest.approx(1.0, abs=FLOAT)
    X, labels, _, _ = features(4, 5, [10, 8, 9, 7], 12, spread=0.7)
    T, test_labels, _, _ = features(4, 5, [5, 6, 4, 5], 13, spread=0.7)
    m = measure(X, labels, test=T, test_labels=test_labels, chunk_rows=6).metrics
    means = np.stack([X[labels == k].mean(axis=0) for k in range(4)])
    nearest = np.argmin(((T[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert m["ncc_accuracy_test"] == np.mean(nearest == test_labels)
    want = feature_metrics(T.T, test_labels)["cdnv"]
    assert relative_deviation(m["cdnv_test"], want) <= STREAMING
    held_out = measure(X, labels, test=T, test_labels=test_labels + 4).metrics
    assert "ncc_accuracy_test" not in held_out
    assert relative_deviation(held_out["cdnv_test"], want) <= STREAMING


# --- command line -------------------------------------------------------------------------------


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_cli_json_matches_the_library(files, capsys):
    """Property: ``ufm measure X.npy --labels y.npy --weights W.npy --json`` prints every key of
    ``ufm metrics`` plus the new ones, with the values of ufm.measure."""
    tmp_path, X, labels, W = files
    argv = ["measure", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.npy")]
    code, out, err = run([*argv, "--weights", str(tmp_path / "W.npy"), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert set(METRIC_KEYS) <= set(result)
    want = measure(X, labels, W).metrics
    assert_close(result, want, want)
    assert result["K"] == 3 and result["N"] == 15 and result["d"] == 4
    code, out, _ = run([*argv, "--trace-only", "--chunk-rows", "4"], capsys)
    assert code == 0 and "nc1_trace_ratio" in out and "nc1 " not in out
    code, out, _ = run([*argv, "--projected", "--chunk-rows", "4", "--json"], capsys)
    assert code == 0
    assert_close(json.loads(out), measure(X, labels, covariance="projected").metrics, ["nc1"])
    code, _, err = run([*argv, "--projected", "--trace-only"], capsys)
    assert code == 2 and "exclude each other" in err


def test_cli_bad_input_is_one_line_exit_2(files, capsys):
    """Property: a bad labels file gives exit status 2 and one ``error:`` line naming it."""
    tmp_path, X, labels, _ = files
    np.save(tmp_path / "short.npy", labels[:-2])
    argv = ["measure", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "short.npy")]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "X.npy" in err


@settings(max_examples=15)
@given(K=st.integers(2, 6), d=st.integers(1, 8), n=st.integers(2, 5), seed=st.integers(0, 1000))
def test_compare_ufm_balanced_is_the_etf_metrics(K, d, n, seed):
    """Property: for balanced classes the UFM prediction is the simplex ETF, and the comparison's
    distances are the ETF metrics already measured: etf_distance_means/classifiers, nc3_zhu and
    etf_procrustes_means/classifiers (to FLOAT; the Procrustes distances squared, since the square
    root turns rounding near 0 into ~1e-8)."""
    X, labels, W, _ = features(K, d, [n] * K, seed)
    m = measure(X, labels, W, compare_ufm=True)
    assert m.comparison.geometry == "simplex ETF" and m.to_dict()["ufm_geometry"] == "simplex ETF"
    pairs = {
        "ufm_distance_means": "etf_distance_means",
        "ufm_distance_classifiers": "etf_distance_classifiers",
        "ufm_distance_duality": "nc3_zhu",
        "ufm_procrustes_means": "etf_procrustes_means",
        "ufm_procrustes_classifiers": "etf_procrustes_classifiers",
    }
    for new, old in pairs.items():
        got, want = m.metrics[new], m.metrics[old]
        assert (got is None) == (want is None), (new, got, want)
        if want is not None:
            power = 2 if "procrustes" in new else 1
            assert relative_deviation(got**power, want**power) <= FLOAT, (new, got, want)


@settings(max_examples=15)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=3, max_size=6).filter(lambda s: len(set(s)) > 1),
    extra=st.integers(0, 3),
    seed=st.integers(0, 1000),
)
def test_compare_ufm_vanishes_on_seli_and_not_on_the_etf(sizes, extra, seed):
    """Property: features at the SELI of their (imbalanced) class sizes, rotated, scaled and
    shifted, are at distance <= METRIC_ZERO from the prediction in every key; the same sizes placed
    on a simplex ETF are not (means and classifier distances > 1e-3: the comparison can say no;
    K >= 3, as for K = 2 every centred pair of means is antipodal, SELI and ETF alike)."""
    S = ufm.geometry.seli(sizes)
    K = len(sizes)
    W, H, _ = S.realize(K - 1 + extra, seed=seed)
    shift = np.arange(1.0, K + extra)
    m = measure(7.0 * (H.T + shift), S.labels, 3.0 * W, compare_ufm=True)
    assert m.comparison.geometry == "SELI"
    for key in ufm.measure.COMPARE_KEYS:
        assert m.metrics[key] is not None and m.metrics[key] <= METRIC_ZERO, (key, m.metrics)
    M = etf_columns(K, K + extra, seed)
    etf = measure(M[:, S.labels].T, S.labels, M.T, compare_ufm=True).metrics
    assert etf["ufm_distance_means"] > 1e-3 and etf["ufm_distance_classifiers"] > 1e-3


def test_compare_ufm_against_the_closed_form_grams():
    """Property: on random imbalanced data the Gram distances equal the formula written out with
    full matrices and PSD square roots by eigh with the known zero eigenvalue set to 0 (these
    matrices have rank K - 1; the square root of its rounding, ~1e-8, is what scipy's sqrtm loses):
    M*^T M* = D^{-1/2}(D^{1/2} P D^{1/2})^{1/2} D^{-1/2}, W* W*^T = (P D P)^{1/2} (Thrampoulidis et
    al. 2022), means centred at their unweighted mean."""

    def sqrtm(A):
        vals, vecs = np.linalg.eigh(A)
        vals[0] = 0.0
        return (vecs * np.sqrt(vals)) @ vecs.T

    sizes = [9, 4, 2, 6]
    X, labels, W, _ = features(4, 5, sizes, 3)
    got = measure(X, labels, W, compare_ufm=True).metrics
    K = len(sizes)
    D, P = np.diag(np.asarray(sizes, float)), np.eye(K) - 1.0 / K
    root = np.sqrt(D)
    inv_root = np.linalg.inv(root)
    M_gram = inv_root @ sqrtm(root @ P @ root) @ inv_root
    W_gram = sqrtm(P @ D @ P)
    M = np.stack([X[labels == k].mean(axis=0) for k in range(K)], axis=1)
    Mc = M - M.mean(axis=1, keepdims=True)

    def dist(G, T):
        return np.linalg.norm(G / np.linalg.norm(G) - T / np.linalg.norm(T))

    assert relative_deviation(got["ufm_distance_means"], dist(Mc.T @ Mc, M_gram)) <= FLOAT
    assert relative_deviation(got["ufm_distance_classifiers"], dist(W @ W.T, W_gram)) <= FLOAT
    assert relative_deviation(got["ufm_distance_duality"], dist(W @ Mc, P)) <= FLOAT


def test_compare_ufm_undefined_and_refused():
    """Property: coinciding class means give undefined (None) Gram distances; compare_ufm must be a
    bool; the estimate grows by the K x K SVD, and a refusal names the option to drop."""
    X = np.ones((6, 3))
    m = measure(X, np.arange(6) % 2, compare_ufm=True).metrics
    assert m["ufm_distance_means"] is None and m["ufm_procrustes_means"] is None
    with pytest.raises(InvalidParameter, match="compare_ufm must be True or False"):
        measure(X, np.arange(6) % 2, compare_ufm="yes")
    assert (
        ufm.measure.memory_estimate(10, 3, False, True) - ufm.measure.memory_estimate(10, 3, False)
        == 8 * 4 * 100
    )


def test_cli_compare_ufm_and_plot(files, capsys):
    """Property: ``--compare-ufm --json`` adds ufm_geometry and the ufm_* keys with the library's
    values; ``--plot F.png`` writes a PNG; a bad plot suffix is refused (exit 2) before reading."""
    tmp_path, X, labels, W = files
    argv = ["measure", str(tmp_path / "X.npy"), "--labels", str(tmp_path / "y.npy")]
    argv += ["--weights", str(tmp_path / "W.npy")]
    figure = tmp_path / "m.png"
    code, out, err = run([*argv, "--compare-ufm", "--json", "--plot", str(figure)], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["ufm_geometry"] == "simplex ETF"
    want = measure(X, labels, W, compare_ufm=True).metrics
    assert_close(result, want, ufm.measure.COMPARE_KEYS)
    assert figure.read_bytes()[:4] == b"\x89PNG"
    code, out, err = run([*argv, "--compare-ufm"], capsys)
    assert code == 0 and "UFM prediction for these class sizes: simplex ETF" in out
    code, out, err = run([*argv, "--plot", str(tmp_path / "m.txt")], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_plot_measurement_panels():
    """Property: the figure has the measured and predicted cosine maps (the prediction's diagonal
    is 1, its off-diagonal -1/(K-1) for balanced classes) and one variance bar per class; K > 2000
    is refused."""
    from ufm.plot import plot_measurement

    X, labels, W, _ = features(3, 4, [5, 5, 5], 1)
    fig = plot_measurement(measure(X, labels, W))
    heat, predicted, bars = fig.axes[:3]
    C = predicted.get_images()[0].get_array()
    assert relative_deviation(np.diag(C), 1.0) <= FLOAT
    assert relative_deviation(C[0, 1], -0.5) <= FLOAT
    assert len(bars.patches) == 3
    assert "simplex ETF" in predicted.get_title()
    big = ufm.measure.Measurement(
        metrics={}, counts=np.ones(2001, int), means=np.zeros((1, 2001)), variances=np.zeros(2001),
        conventions={}, N=2001, d=1, K=2001,
    )  # fmt: skip
    with pytest.raises(InvalidParameter, match="K=2001"):
        plot_measurement(big)


def test_procrustes_distance_against_an_explicit_fit():
    """Property: for X (d x K) and Y (r x K), d >= r, the nuclear-norm formula equals the residual
    of the explicit orthogonal Procrustes fit Q = U V^T (SVD of X Y^T), after scaling both to unit
    Frobenius norm; it is 0 for X = c Q Y and None when d < r or a matrix is zero."""
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(6, 5)), rng.normal(size=(4, 5))
    A, B = X / np.linalg.norm(X), Y / np.linalg.norm(Y)
    u, _, vt = np.linalg.svd(A @ B.T, full_matrices=False)
    want = np.linalg.norm(A - u @ vt @ B)
    assert relative_deviation(ufm.measure.procrustes_distance(X, Y), want) <= FLOAT
    Q = np.linalg.qr(rng.normal(size=(6, 4)))[0]
    assert ufm.measure.procrustes_distance(2.5 * Q @ Y, Y) <= METRIC_ZERO
    assert ufm.measure.procrustes_distance(Y, X) is None
    assert ufm.measure.procrustes_distance(np.zeros((6, 5)), Y) is None


@pytest.mark.parametrize("scale", [1e-200, 1e-140, 1e140, 1e200])
def test_measure_at_extreme_scales_is_right_or_refused(scale):
    """Property: inside FEATURE_RANGE the streamed metrics are scale-invariant (equal to those at
    scale 1 to STREAMING); outside it the input is refused with InvalidParameter naming the range,
    never NaN or an OverflowError."""
    import warnings

    from ufm.errors import InvalidParameter
    from ufm.measure._accumulate import FEATURE_RANGE
    from ufm.tolerances import STREAMING, relative_deviation

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 5)
    H = rng.standard_normal((4, 15))
    reference = ufm.measure(H.T, labels).metrics
    lo, hi = FEATURE_RANGE
    if lo <= scale * np.abs(H).max() <= hi:
        metrics = ufm.measure((H * scale).T, labels).metrics
        for key in ("nc1", "nc1_trace_ratio", "cdnv"):
            assert relative_deviation(metrics[key], reference[key]) <= STREAMING, key
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the chunk's squares over/underflow
            with pytest.raises(InvalidParameter, match="streaming accumulators"):
                ufm.measure((H * scale).T, labels)
