"""ufm.measure reproduces the published NC metric libraries where their conventions agree.

The two libraries' formulas are rewritten here in plain numpy from their source, read at

* rhubarbwu/neural-collapse, commit c05a0b80d6bc6e8e2e102f2180f1f33b2c9605fd (2025-04-14):
  ``neural_collapse/accumulate.py``, ``measure.py``, ``kernels.py``, ``util.py`` (torch; its
  accumulators, reductions and normalizations are mirrored step by step, in float64);
* felixsh/nc-toolbox, commit a527f99f8da0420b4e94ebfbb2d3c2b032b25af3 (2025-04-16):
  ``nc_toolbox/metrics.py``, ``statistic.py``, ``util.py`` (numpy),

and compared with ``ufm.measure`` (streamed in small chunks) on random imbalanced data, to FLOAT
(1e-12 relative). No code of either library is imported or copied; neither is installed.

Convention differences, stated once (each test passes the ufm convention that matches):

* rhubarbwu centres at the *unweighted* mean of the class means (``Accumulator.compute`` with its
  default ``weighted=False``): ``global_mean='unweighted'``; nc-toolbox centres at the mean of all
  samples (``global_embedding_mean``): ufm's default ``'weighted'``.
* Sigma_W divides by N in both (``CovarAccumulator.compute``, ``within_class_covariance``): ufm's
  default ``variance='biased'``. The per-class variances of CDNV divide by n_k in rhubarbwu
  (``VarNormAccumulator`` then ``compute``) and by n_k - 1 in nc-toolbox
  (``class_embedding_variances``): ``variance='unbiased'`` for the latter.
* rhubarbwu's NC4 (``DecAccumulator``) compares the NCC with argmax(W h), no bias:
  ``nc4_bias=False``; nc-toolbox's ``lin_classify`` adds b: ``nc4_bias=True``; both report
  agreement: ``nc4_as='agreement'``.
* rhubarbwu's NC5 takes the OOD mean as the unweighted mean of OOD *class* means; ufm's ``nc5``
  takes the mean of all OOD features (it needs no OOD labels): equal here, the OOD classes are
  balanced.
* rhubarbwu normalizes by ``norm + eps`` and divides counts by ``n + eps`` (eps of the dtype): kept
  here, a relative change of ~1e-16.
* nc-toolbox's ``nc1_weak`` returns tr S_B / (tr S_B + tr S_W) and its complement; ufm reports
  their ratio, ``nc1_trace_ratio`` = tr S_W / tr S_B = weak_within / weak_between. Its
  ``nc2_equiangularity`` with reduction 'cov' is std/mean of c + 1/(K-1) over pairs; times the
  'mean' reduction it is the population std of the cosines, ufm's ``equiangularity_means``.
* Not compared (no ufm counterpart): nc-toolbox's ``nc2_equinormness`` (mean signed log-norm
  difference over pairs) and the 'mean' reduction of ``unc3_uniform_duality``; rhubarbwu's
  ``kernel_stats`` with ``dist_kernel`` (plain distances).
"""

from __future__ import annotations

import numpy as np
import pytest

from ufm.measure import measure
from ufm.tolerances import FLOAT, relative_deviation

EPS = np.finfo(np.float64).eps
BATCH = 13  # rhubarbwu accumulates batch by batch; any batch size gives the same totals


def data(K, d, seed):
    """Imbalanced labelled features (N x d), a classifier and bias, balanced OOD features."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(8, 40, size=K)
    labels = rng.permutation(np.repeat(np.arange(K), sizes))
    means = 3.0 * rng.normal(size=(K, d))
    X = means[labels] + rng.normal(size=(labels.size, d))
    ood_labels = np.repeat(np.arange(K), 10)
    X_ood = rng.normal(size=(ood_labels.size, d)) + 0.5
    return X, labels, rng.normal(size=(K, d)), rng.normal(size=K), X_ood, ood_labels


def close(got, want):
    assert got is not None
    assert relative_deviation(got, want) <= FLOAT, (got, want)


# ---- rhubarbwu/neural-collapse, in numpy --------------------------------------------------------


def _batches(X, y):
    for start in range(0, len(y), BATCH):
        yield X[start : start + BATCH], y[start : start + BATCH]


def rw_means(X, y, K):
    """MeanAccumulator.accumulate over batches, then compute(): (avg (K x d), unweighted avg_G)."""
    counts, totals = np.zeros(K), np.zeros((K, X.shape[1]))
    for Xb, yb in _batches(X, y):
        onehot = (yb[:, None] == np.arange(K)).astype(float)
        counts += onehot.sum(axis=0)
        totals += onehot.T @ Xb
    avg = totals / (counts[:, None] + EPS)
    return avg, avg.mean(axis=0)


def rw_covariance(X, y, M):
    """CovarAccumulator: sum of (x - mu_y)(x - mu_y)^T over batches, / (N + eps)."""
    total = np.zeros((X.shape[1], X.shape[1]))
    for Xb, yb in _batches(X, y):
        diff = Xb - M[yb]
        total += diff.T @ diff
    return total / (len(y) + EPS)


def rw_var_norms(X, y, M):
    """VarNormAccumulator then compute(): per-class sum of ||x - mu_y||^2 / (n_k + eps)."""
    K = M.shape[0]
    counts, totals = np.zeros(K), np.zeros(K)
    for Xb, yb in _batches(X, y):
        onehot = (yb[:, None] == np.arange(K)).astype(float)
        counts += onehot.sum(axis=0)
        totals += onehot.T @ np.sum((Xb - M[yb]) ** 2, axis=1)
    return totals / (counts + EPS)


def rw_normalize(A):
    return A / (np.linalg.norm(A, axis=-1, keepdims=True) + EPS)


def rw_symm_reduce(grid, reduce=np.sum):
    """util.symm_reduce: fold the strict upper triangle row pairs, reduce, / (K (K-1) / 2)."""
    K = grid.shape[0]
    total = 0.0
    for i in range((K - 1) // 2):
        total += reduce(np.concatenate((grid[i, i + 1 :], grid[K - i - 2, K - i - 1 :])))
    if K % 2 == 0:
        total += reduce(grid[K // 2 - 1, K // 2 :])
    return total / (K * (K - 1) / 2)


def rw_kernel_stats(M, m_G, kernel):
    """kernels.kernel_stats: (mean, variance) over pairs of the kernel of normalized M - m_G."""
    U = rw_normalize(M - m_G)
    dist = np.linalg.norm(U[:, None, :] - U[None, :, :], axis=-1)
    with np.errstate(divide="ignore"):
        grid = (
            np.log(dist**-1.0)
            if kernel == "log"
            else np.sign(U.shape[1] - 2) * dist ** (-(U.shape[1] - 2))
        )
    avg = rw_symm_reduce(grid)
    return avg, rw_symm_reduce(grid, lambda row: np.sum((row - avg) ** 2))


def rw_structure_error(A, B):
    """measure.structure_error: ||B A^T / ||B A^T||_F - (I - J/K)/sqrt(K-1)||_F."""
    K = A.shape[0]
    struct = B @ A.T
    struct = struct / np.linalg.norm(struct)
    struct = struct + 1 / K / np.sqrt(K - 1)
    struct[np.diag_indices(K)] -= 1 / np.sqrt(K - 1)
    return np.linalg.norm(struct)


def rw_agreement(X, y, W, M):
    """DecAccumulator (no FAISS): NCC by expanded squared distances vs argmax(X W^T), hit rate
    weighted by class sizes (compute(weighted=True))."""
    K = M.shape[0]
    hits, counts = np.zeros(K), np.zeros(K)
    for Xb, yb in _batches(X, y):
        dists = np.sum(Xb**2, axis=1)[:, None] + np.sum(M**2, axis=1)[None, :] - 2 * Xb @ M.T
        match = (dists.argmin(axis=1) == (Xb @ W.T).argmax(axis=1)).astype(float)
        np.add.at(hits, yb, match)
        counts += np.bincount(yb, minlength=K)
    rates = hits / (counts + EPS)
    return counts @ rates / (counts.sum() + EPS)


@pytest.mark.parametrize("K, d, seed", [(5, 8, 0), (7, 4, 1), (4, 12, 2)])
def test_rhubarbwu_neural_collapse(K, d, seed):
    """Property: 13 rhubarbwu/neural-collapse quantities (NC1 pinv/svd/quotient, CDNV, simplex ETF
    and self-duality errors, GNC2 log and Riesz mean and variance, UNC3, NC4 agreement, NC5) equal
    ufm.measure's under the matching conventions, to FLOAT."""
    X, y, W, _, X_ood, y_ood = data(K, d, seed)
    M, m_G = rw_means(X, y, K)
    V_intra = rw_covariance(X, y, M)
    Mc = M - m_G
    V_inter = Mc.T @ Mc / K
    # torch.linalg.pinv's default cut: rtol = max(rows, cols) * eps
    pinv = np.linalg.pinv(V_inter, rcond=d * EPS)
    vals, vecs = np.linalg.eigh(V_inter)  # "svd": the top K - 1 eigenpairs of the PSD V_inter
    top = slice(max(0, d - (K - 1)), d)
    inv_Sb = (vecs[:, top] / vals[top]) @ vecs[:, top].T
    V_norms = rw_var_norms(X, y, M)
    iu = np.triu_indices(K, 1)
    cdnv_grid = np.zeros((K, K))
    cdnv_grid[iu] = (V_norms[iu[0]] + V_norms[iu[1]]) / 2 / np.sum((M[iu[0]] - M[iu[1]]) ** 2, 1)
    cdnv_grid += cdnv_grid.T
    _, m_G_ood = rw_means(X_ood, y_ood, K)
    cosines = (M @ m_G_ood) / np.maximum(np.linalg.norm(M, axis=1) * np.linalg.norm(m_G_ood), 1e-8)
    conv = dict(global_mean="unweighted", nc4_bias=False, nc4_as="agreement")
    got = measure(X, y, W, ood=X_ood, chunk_rows=11, **conv).metrics
    got_mean = measure(X, y, W, chunk_rows=11, gnc2_reduction="mean", **conv).metrics
    log_mean, log_var = rw_kernel_stats(M, m_G, "log")
    riesz_mean, riesz_var = rw_kernel_stats(M, m_G, "riesz")
    close(got["nc1"], np.trace(pinv @ V_intra) / K)
    if d >= K - 1:  # "svd" takes K - 1 eigenpairs: the inverse on the range only when they exist
        close(got["nc1"], np.trace(V_intra @ inv_Sb) / K)
    close(got["nc1_trace_ratio"], np.trace(V_intra) / np.trace(V_inter))
    close(got["cdnv"], rw_symm_reduce(cdnv_grid))
    close(got["etf_distance_means"], rw_structure_error(Mc, Mc))
    close(got["nc3_zhu"], rw_structure_error(Mc, W))
    close(got["gnc2_log"], log_var)
    close(got_mean["gnc2_log"], log_mean)
    close(got["gnc2_riesz"], riesz_var)
    close(got_mean["gnc2_riesz"], riesz_mean)
    close(got["unc3_dot_variance"], np.var(np.sum(W * Mc, axis=1), ddof=1))
    close(got["nc4"], rw_agreement(X, y, W, M))
    close(got["nc5"], np.mean(np.abs(cosines)))


# ---- felixsh/nc-toolbox, in numpy ---------------------------------------------------------------


def nt_statistics(X, y):
    """statistic.py: class means (np.unique order), unbiased class variances, mu_g, S_B, S_W."""
    classes = np.unique(y)
    mu_c = np.stack([X[y == c].mean(axis=0) for c in classes])
    var_c = np.array([np.square(X[y == c] - mu_c[c]).sum() / (np.sum(y == c) - 1) for c in classes])
    mu_g = X.mean(axis=0)
    diff = mu_c - mu_g
    sigma_b = diff.T @ diff / len(classes)
    centred = X - mu_c[y]
    sigma_w = centred.T @ centred / len(y)
    return mu_c, var_c, mu_g, sigma_b, sigma_w


@pytest.mark.parametrize("K, d, seed", [(5, 8, 3), (7, 4, 4), (4, 12, 5)])
def test_felixsh_nc_toolbox(K, d, seed):
    """Property: 9 nc-toolbox quantities (nc1_strong, nc1_weak's two ratios, nc1_cdnv,
    nc2_equiangularity as cov x mean, gnc2 hyperspherical uniformity, nc3_self_duality,
    unc3_uniform_duality 'cov', nc4_classifier_agreement) equal ufm.measure's, to FLOAT."""
    X, y, W, b, _, _ = data(K, d, seed)
    mu_c, var_c, mu_g, sigma_b, sigma_w = nt_statistics(X, y)
    got = measure(X, y, W, b, chunk_rows=11, nc4_as="agreement").metrics
    got_unbiased = measure(X, y, chunk_rows=11, variance="unbiased").metrics
    got_mean = measure(X, y, chunk_rows=11, gnc2_reduction="mean").metrics
    iu = np.triu_indices(K, 1)
    mu_centered = mu_c - mu_g
    unit = mu_centered / np.linalg.norm(mu_centered, axis=1)[:, None]
    W_unit = W / np.linalg.norm(W, axis=1)[:, None]

    close(got["nc1"], np.trace((sigma_w @ np.linalg.pinv(sigma_b)) / K))
    tr_b, tr_w = np.trace(sigma_b), np.trace(sigma_w)
    weak_between, weak_within = tr_b / (tr_b + tr_w), tr_w / (tr_b + tr_w)
    close(got["nc1_trace_ratio"], weak_within / weak_between)
    close(1.0 / (1.0 + got["nc1_trace_ratio"]), weak_between)
    cdnv = (var_c[iu[0]] + var_c[iu[1]]) / (2 * np.square(mu_c[iu[0]] - mu_c[iu[1]]).sum(axis=1))
    close(got_unbiased["cdnv"], cdnv.mean())
    shifted = (unit @ unit.T)[iu] - (-1 / (K - 1))
    close(got["equiangularity_means"], shifted.std() / shifted.mean() * shifted.mean())
    dist = np.linalg.norm(unit[iu[0]] - unit[iu[1]], axis=1)
    close(got_mean["gnc2_log"], np.log(np.reciprocal(dist)).mean())
    duality = W / np.linalg.norm(W) - mu_centered / np.linalg.norm(mu_centered)
    close(got["nc3_papyan"], np.linalg.norm(duality))
    cossim = (W_unit @ unit.T)[iu]
    close(got["unc3_cosine_cov"], cossim.std() / cossim.mean())
    linear = np.argmax(X @ W.T + b, axis=1)
    ncc = np.array([np.argmin(np.linalg.norm(mu_c - h, axis=1)) for h in X])
    close(got["nc4"], np.mean(linear == ncc))
