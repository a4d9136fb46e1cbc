r"""Neural Collapse metrics NC1-NC4, in one numpy module.

Notation: labels y_i in 0..K-1; class means :math:`\mu_k` (d-vectors, the columns of M, d x K);
global mean :math:`\mu_G`; centred means :math:`\tilde\mu_k = \mu_k - \mu_G` (columns of
:math:`\tilde M`); classifier rows :math:`w_k` (rows of W, K x d); bias b.

.. math::
   \Sigma_W = \frac{1}{N - K\,\delta}\sum_{k}\sum_{i: y_i = k}(h_i - \mu_k)(h_i - \mu_k)^\top,
   \qquad \Sigma_B = \frac1K\sum_k \tilde\mu_k\tilde\mu_k^\top

with :math:`\delta = 0` for ``variance='biased'`` (the default, Papyan et al. 2020 [1]_) and 1 for
``'unbiased'``.

Conventions (each a field of :class:`Conventions`; the default reproduces Papyan et al. [1]_ where
they define the quantity):

===============  ==============  ===================================================================
field            default         meaning / alternatives
===============  ==============  ===================================================================
global_mean      ``'weighted'``  mean of all samples; ``'unweighted'``: mean of the class means
                                 (equal for balanced classes)
nc1_divide_by_K  ``True``        NC1 = tr(Sigma_W Sigma_B^+)/K [1]_; ``False`` drops the 1/K
variance         ``'biased'``    1/n variances; ``'unbiased'``: 1/(n-1) (CDNV), 1/(N-K) (Sigma_W)
nc3_squared      ``False``       NC3 (Papyan form) as a norm; ``True``: squared, as in [1]_, Fig. 5
nc4_bias         ``True``        the classifier decision is argmax(W h + b); ``False`` ignores b
nc4_as           ``'mismatch'``  fraction of samples where classifier and nearest class mean
                                 disagree; ``'agreement'``: one minus that
===============  ==============  ===================================================================

Sigma_B^+ is formed in float64 from the SVD of :math:`\tilde M` truncated to rank min(K-1, d) (the
rank of Sigma_B, since the weighted centred means sum to zero) and to singular values above
``RANK_RTOL * s_max``: a naive pseudo-inverse of a near-singular Sigma_B is what makes published NC1
values negative.

A metric whose denominator vanishes (all class means equal, W = 0, a zero-norm class mean) is
undefined; it is returned as ``None`` (JSON ``null``), never as NaN or as a misleading 0.

References
----------
.. [1] Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase of deep
   learning training", PNAS 117(40). NC1 (Fig. 6), NC2 (Figs. 2-4), NC3 (Fig. 5), NC4 (Fig. 7).
.. [2] Galanti, Gyorgy & Hutter (2022), "On the role of neural collapse in transfer learning", ICLR.
   Class-distance normalized variance (CDNV), Def. 1.
.. [3] Zhu, Ding, Zhou, Li, You, Sulam & Qu (2021), "A geometric analysis of neural collapse with
   unconstrained features", NeurIPS. NC2 and NC3 as Gram distances, Sec. 4.

Length: one concern (NC metrics); every metric is computed from the same sufficient statistics
(:class:`ClassStatistics`), which :mod:`ufm.measure` streams, so the formulas and their scale-safe
evaluation stay in one module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np

from ._validation import check_choice, check_labels, check_matrix
from .errors import InvalidParameter
from .tolerances import relative_deviation

__all__ = [
    "Conventions",
    "ClassStatistics",
    "nc_metrics",
    "feature_metrics",
    "metrics_from_statistics",
    "nc4_mismatches",
    "nearest_class_mean",
    "pair_sq_distances",
    "class_statistics",
    "row_blocks",
    "upper_products",
    "METRIC_KEYS",
    "FEATURE_KEYS",
    "class_means",
    "GRAM_KEYS",
    "gram_invariants",
    "gram_gaps",
]

#: Relative singular-value cut for Sigma_B^+, and the threshold (relative to the largest entry of
#: the array it comes from) under which a norm counts as zero: some 10^4 ulps, far above the
#: float64 rounding of means and Gram entries, far below any spread a real configuration has.
RANK_RTOL = 1e-12

#: Keys of :func:`nc_metrics`, in display order.
METRIC_KEYS = (
    "nc1",
    "nc1_trace_ratio",
    "cdnv",
    "equinorm_means",
    "equinorm_classifiers",
    "equiangularity_means",
    "equiangularity_classifiers",
    "max_angle_means",
    "max_angle_classifiers",
    "etf_distance_means",
    "etf_distance_classifiers",
    "of_distance_means",
    "of_distance_classifiers",
    "nc3_papyan",
    "nc3_zhu",
    "nc4",
)

#: Keys of :func:`feature_metrics` (the metrics that need no classifier), in display order.
FEATURE_KEYS = (
    "nc1",
    "nc1_trace_ratio",
    "cdnv",
    "equinorm_means",
    "equiangularity_means",
    "max_angle_means",
    "etf_distance_means",
    "of_distance_means",
)

#: Entries of one tile of a K x K pairwise quantity (rows x K): pairwise metrics over classes are
#: reduced tile by tile, so K = 10^4 classes need 32 MB per tile, never a K x K x d array.
TILE_ENTRIES = 2**22


@dataclass(frozen=True)
class Conventions:
    """How the metrics are measured; see the module docstring for each field and its source."""

    global_mean: str = "weighted"
    nc1_divide_by_K: bool = True
    variance: str = "biased"
    nc3_squared: bool = False
    nc4_bias: bool = True
    nc4_as: str = "mismatch"

    def __post_init__(self):
        check_choice("global_mean", self.global_mean, ("weighted", "unweighted"))
        check_choice("variance", self.variance, ("biased", "unbiased"))
        check_choice("nc4_as", self.nc4_as, ("mismatch", "agreement"))
        for name in ("nc1_divide_by_K", "nc3_squared", "nc4_bias"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidParameter(f"{name} must be True or False, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Conventions:
        """Inverse of :meth:`to_dict`; unknown fields are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidParameter(f"unknown conventions {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)


def _etf_target(a: int, b: int, K: int) -> np.ndarray:
    """Rows a..b-1 of (I - 11^T/K)/sqrt(K-1): the unit-Frobenius Gram matrix of a simplex ETF."""
    T = np.full((b - a, K), -1.0 / K)
    T[np.arange(b - a), np.arange(a, b)] += 1.0
    return T / np.sqrt(K - 1)


def _of_target(a: int, b: int, K: int) -> np.ndarray:
    """Rows a..b-1 of I/sqrt(K): the unit-Frobenius Gram matrix of an orthogonal frame."""
    T = np.zeros((b - a, K))
    T[np.arange(b - a), np.arange(a, b)] = 1.0 / np.sqrt(K)
    return T


def row_blocks(K: int) -> Iterator[tuple[int, int]]:
    """Row ranges [a, b) of a K x K array, each tile holding at most ~TILE_ENTRIES entries."""
    step = max(1, TILE_ENTRIES // max(K, 1))
    for a in range(0, K, step):
        yield a, min(K, a + step)


def upper_products(A: np.ndarray, B: np.ndarray):
    """Tiles of the strict upper triangle of G = A^T B (A, B of shape (m, K)).

    Yields (a, b, G_tile, mask): G_tile = G[a:b, a:] and the boolean mask of its entries with
    column > row, so ``G_tile[mask]`` are the pairs i < j with a <= i < b.
    """
    K = A.shape[1]
    for a, b in row_blocks(K):
        G = A[:, a:b].T @ B[:, a:]
        yield a, b, G, np.triu(np.ones(G.shape, dtype=bool), 1)


def _zero(A: np.ndarray) -> float:
    """Size under which a norm of a quantity built linearly from A counts as zero (scale-free)."""
    return RANK_RTOL * float(np.abs(A).max(initial=0.0))


def _unit_scale(A: np.ndarray) -> np.ndarray:
    """A / max|A| (A itself if it is zero)."""
    scale = np.abs(A).max(initial=0.0)
    return A / scale if scale > 0 else A


def _ratio(num: float, den: float, zero: float) -> float | None:
    return None if den <= zero else float(num / den)


def _gram_distance(A: np.ndarray, B: np.ndarray, target, zero: float) -> float | None:
    """||G/||G||_F - T||_F for G = A^T B (K x K), tile by tile; ``zero`` bounds the factors' norm
    (G is quadratic in them); ``target(a, b, K)`` gives rows a..b-1 of T."""
    K = A.shape[1]
    norm = np.sqrt(sum(float(np.sum((A[:, a:b].T @ B) ** 2)) for a, b in row_blocks(K)))
    if norm <= zero**2:
        return None
    dev = sum(
        float(np.sum((A[:, a:b].T @ B / norm - target(a, b, K)) ** 2)) for a, b in row_blocks(K)
    )
    return float(np.sqrt(dev))


def _frame_stats(V: np.ndarray, zero: float) -> dict[str, float | None]:
    """Equinorm, equiangularity and max-angle of the K columns of V (d x K), pairs tiled."""
    K = V.shape[1]
    norms = np.linalg.norm(V, axis=0)
    out: dict[str, float | None] = {
        "equinorm": _ratio(float(norms.std()), float(norms.mean()), zero)
    }
    if norms.min() <= zero:
        out["equiangularity"] = out["max_angle"] = None
        return out
    U = V / norms
    pairs = K * (K - 1) // 2
    total = angle = 0.0
    for _, _, G, mask in upper_products(U, U):
        cos = G[mask]
        total += float(cos.sum())
        angle += float(np.abs(cos + 1.0 / (K - 1)).sum())
    mean = total / pairs
    # two passes (mean, then squared deviations), as np.std does: no cancellation in E[c^2]-E[c]^2
    spread = sum(float(np.sum((G[mask] - mean) ** 2)) for _, _, G, mask in upper_products(U, U))
    out["equiangularity"] = float(np.sqrt(spread / pairs))
    out["max_angle"] = angle / pairs
    return out


def pair_sq_distances(X: np.ndarray):
    r"""Squared distances :math:`\|x_i - x_j\|^2` between the columns of X (m x K) in tiles.

    Yields (a, b, D, mask) with D[r, c] the squared distance between columns a + r and a + c
    (a <= a + r < b) and ``mask`` selecting the pairs i < j, as :func:`upper_products`.

    Distances come from the Gram form :math:`\|x_i\|^2 + \|x_j\|^2 - 2 x_i^\top x_j` (one matrix
    product per tile); where that form cancels (distance below 1e-3 of the norms, so that its
    relative error could exceed ~1e-12) the pair is recomputed as a plain difference. Centre X first
    when its columns share a large offset.
    """
    m = X.shape[0]
    sq = np.sum(X * X, axis=0)
    step = max(1, TILE_ENTRIES // max(m, 1))
    for a, b, G, mask in upper_products(X, X):
        norms = sq[a:b, None] + sq[None, a:]
        D = norms - 2.0 * G
        rows, cols = np.nonzero(mask & (D <= 1e-3 * norms))
        for start in range(0, rows.size, step):
            r, c = rows[start : start + step], cols[start : start + step]
            D[r, c] = np.sum((X[:, a + r] - X[:, a + c]) ** 2, axis=0)
        yield a, b, D, mask


def _cdnv(Mc: np.ndarray, var: np.ndarray, zero: float) -> float | None:
    """Average over pairs k < k' of (var_k + var_k') / (2 ||mu_k - mu_k'||^2), pairs tiled."""
    K = Mc.shape[1]
    total = 0.0
    for a, b, D, mask in pair_sq_distances(Mc):
        dist2 = D[mask]
        if np.any(dist2 <= zero**2):
            return None
        total += float(np.sum((var[a:b, None] + var[None, a:])[mask] / (2.0 * dist2)))
    return total / (K * (K - 1) // 2)


def class_means(H: np.ndarray, labels: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Class means M (d x K) and class sizes (K,) of features H (d x N) with integer labels."""
    counts = np.bincount(labels, minlength=K)
    # one bincount per feature row: the same sums, in the same order, as an unbuffered np.add.at,
    # at a tenth of its time (the descent records call this at every record point)
    M = np.zeros((H.shape[0], K))
    for j, row in enumerate(H):
        M[j] = np.bincount(labels, weights=row, minlength=K)
    return M / counts, counts


def _centred(M: np.ndarray, counts: np.ndarray, conv: Conventions) -> np.ndarray:
    """Class means minus the global mean of the chosen convention (d x K)."""
    weights = (
        counts / counts.sum()
        if conv.global_mean == "weighted"
        else np.full(M.shape[1], 1 / M.shape[1])
    )
    return M - (M @ weights)[:, None]


@dataclass(frozen=True, eq=False)
class ClassStatistics:
    r"""Sufficient statistics of labelled features for every NC metric except NC4.

    .. math::
       n_k = |\{i: y_i = k\}|, \quad \mu_k = \frac1{n_k}\sum_{y_i = k} h_i, \quad
       s_k = \sum_{y_i = k}\|h_i - \mu_k\|^2, \quad
       S_W = \sum_i (h_i - \mu_{y_i})(h_i - \mu_{y_i})^\top

    One source of these numbers is an in-memory array (:func:`class_statistics`), another the
    streaming accumulators of :mod:`ufm.measure`; :func:`metrics_from_statistics` turns either
    into the metrics, so both give the same values up to rounding.

    Attributes
    ----------
    counts : ndarray of int, shape (K,)
        Class sizes :math:`n_k`.
    means : ndarray, shape (d, K)
        Class means :math:`\mu_k` as columns.
    scatter : ndarray, shape (K,)
        Within-class sums of squares :math:`s_k`.
    within : callable or None
        ``within(U)`` for U of shape (d, r) returns :math:`\operatorname{diag}(U^\top S_W U)`,
        shape (r,); ``None`` when S_W was not accumulated (then NC1 is not computed).
    scale : float
        :math:`\max_{i,j}|H_{ji}|`; the metrics are scale-free, and dividing by it keeps
        thresholds for "zero" relative (0 for all-zero features).
    """

    counts: np.ndarray
    means: np.ndarray
    scatter: np.ndarray
    within: Callable[[np.ndarray], np.ndarray] | None
    scale: float


def class_statistics(H: np.ndarray, labels: np.ndarray, K: int) -> ClassStatistics:
    """:class:`ClassStatistics` of validated features H (d x N, float64) with labels in 0..K-1."""
    M, counts = class_means(H, labels, K)
    R = H - M[:, labels]
    scatter = np.bincount(labels, weights=np.einsum("ij,ij->j", R, R), minlength=K)
    return ClassStatistics(
        counts=counts,
        means=M,
        scatter=scatter,
        within=lambda U: np.sum((U.T @ R) ** 2, axis=1),
        scale=float(np.abs(H).max(initial=0.0)),
    )


def _column_blocks(K: int, n: int) -> Iterator[slice]:
    """Column ranges of a d x n array such that a K x block product holds ~TILE_ENTRIES entries."""
    step = max(1, TILE_ENTRIES // max(K, 1))
    for a in range(0, n, step):
        yield slice(a, min(n, a + step))


def _max_abs(A: np.ndarray) -> float:
    r""":math:`\max_{ij}|A_{ij}|` by two reductions (no copy of A; 0 for an empty array)."""
    return float(max(A.max(initial=0.0), -A.min(initial=0.0)))


def _unit_products(H: np.ndarray, s: float, *columns: np.ndarray) -> Iterator:
    r"""Blocks ``(cols, P)`` with :math:`P = H_{:,cols}^\top [A_1 | A_2 | \dots] / s`, for
    matrices :math:`A_j` (d x r_j) already at unit scale (entries at most 1 in modulus) and
    :math:`s \ge \max|H|` (s > 0): every entry of P is at most d in modulus.

    One GEMM per block and no scaled copy of H (only the small d x r matrices are scaled): the
    product is formed as :math:`H^\top (A/d)` (entries at most s, so finite at every scale) and
    then multiplied by d/s. Blocks hold ~:data:`TILE_ENTRIES` entries of P.
    """
    d = H.shape[0]
    B = np.hstack(columns) / d
    for cols in _column_blocks(B.shape[1], H.shape[1]):
        yield cols, (H[:, cols].T @ B) / s * d


def _nearest(P: np.ndarray, sq: np.ndarray) -> np.ndarray:
    """Row-wise argmin of ``sq - 2 P`` (P: n x K products at unit scale, sq: squared norms)."""
    # n x K (rows contiguous): the argmin runs along memory, not across it
    return np.argmin(sq[None, :] - 2 * P, axis=1)


def nearest_class_mean(M: np.ndarray, H: np.ndarray) -> np.ndarray:
    r"""Index of the nearest class mean, :math:`\arg\min_k\|h_i - \mu_k\|`, for each column of H.

    Computed from :math:`\|\mu_k/s\|^2 - 2\,h_i^\top\mu_k/s^2` with :math:`s = \max(|H|, |M|)`
    (the term :math:`\|h_i\|^2` and the positive factor :math:`s^{-2}` do not change the argmin;
    at unit scale nothing overflows), one GEMM per column block (:func:`_unit_products`).

    Parameters
    ----------
    M : ndarray, shape (d, K)
    H : ndarray, shape (d, n)

    Returns
    -------
    ndarray of int, shape (n,)
    """
    s = max(_max_abs(M), _max_abs(H)) or 1.0
    Mu = M / s
    sq = np.sum(Mu * Mu, axis=0)
    out = np.empty(H.shape[1], dtype=np.int64)
    for cols, P in _unit_products(H, s, Mu):
        out[cols] = _nearest(P, sq)
    return out


def nc4_mismatches(W: np.ndarray, b: np.ndarray | None, M: np.ndarray, H: np.ndarray) -> int:
    r"""Number of columns of H where :math:`\arg\max_k(Wh + b)_k \ne \arg\min_k\|h - \mu_k\|`.

    Both decisions come from one product per column block,
    :math:`H^\top[M/s \mid W^\top/s_w]/s` (:func:`_unit_products`; :math:`s = \max(|H|, |M|)`,
    :math:`s_w = \max|W|`), the nearest mean as in :func:`nearest_class_mean`.

    Parameters
    ----------
    W : ndarray, shape (K, d)
    b : ndarray, shape (K,), or None (decision without bias)
    M : ndarray, shape (d, K)
        Class means of the training features.
    H : ndarray, shape (d, n)
    """
    K = W.shape[0]
    if b is not None and not np.any(b != b[0]):
        # a constant bias (b = 0 included) leaves the argmax unchanged, while t Wu hu + b below
        # would round to ties once t = s_w s underflows (W and H both near 1e-300)
        b = None
    s = max(_max_abs(M), _max_abs(H)) or 1.0
    s_w = _max_abs(W)
    Mu = M / s
    sq = np.sum(Mu * Mu, axis=0)
    # argmax(W h + b) = argmax(t Wu hu + b) with Wu = W / s_w, hu = h / s and t = s_w s, evaluated
    # as Wu hu + b/t for t >= 1 and as t Wu hu + b otherwise: finite at every scale
    log_t = math.log(s_w) + math.log(s) if s_w > 0 else -math.inf
    Wu = W / s_w if s_w > 0 else W
    count = 0
    for _, P in _unit_products(H, s, Mu, Wu.T):
        Z = P[:, K:]
        if b is not None and log_t >= 0:
            Z = Z + b[None, :] * math.exp(-log_t)
        elif b is not None:
            Z = math.exp(log_t) * Z + b[None, :]
        count += int(np.count_nonzero(np.argmax(Z, axis=1) != _nearest(P[:, :K], sq)))
    return count


def centred_spectrum(stats: ClassStatistics, conv: Conventions) -> tuple[np.ndarray, np.ndarray]:
    r"""Thin SVD :math:`\tilde M / s = U\,\mathrm{diag}(\sigma)\,V^\top` of the centred class means
    in units of :math:`s` = ``stats.scale`` (1 for all-zero features); returns (U, sigma), U of
    shape (d, min(d, K)), sigma decreasing. :func:`metrics_from_statistics` takes it as
    ``spectrum`` so that a caller needing the singular values too computes them once."""
    inv = 1.0 / stats.scale if stats.scale > 0 else 1.0
    U, sigma, _ = np.linalg.svd(
        _centred(stats.means * inv, np.asarray(stats.counts), conv), full_matrices=False
    )
    return U, sigma


def _kept_directions(sigma: np.ndarray, K: int, d: int) -> np.ndarray:
    r"""Mask of the singular directions of :func:`centred_spectrum` that span :math:`\Sigma_B^+`:
    the first min(K - 1, d) (the rank of :math:`\Sigma_B`) whose singular value exceeds
    ``RANK_RTOL`` times the largest. NC1 needs :math:`\Sigma_W` only on these directions."""
    keep = sigma > RANK_RTOL * sigma[0]
    keep[min(K - 1, d) :] = False
    return keep


def metrics_from_statistics(
    stats: ClassStatistics,
    W=None,
    mismatches: int | None = None,
    *,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
    **conventions,
) -> dict[str, float | None]:
    r"""NC metrics from sufficient statistics: the one implementation of the formulas.

    :func:`feature_metrics` and :func:`nc_metrics` (in memory) and :func:`ufm.measure` (streaming)
    all end here; the formulas are those of the module docstring, :func:`feature_metrics` and
    :func:`nc_metrics`.

    Parameters
    ----------
    stats : ClassStatistics
    W : array_like, shape (K, d), optional
        Classifier; without it only the keys of :data:`FEATURE_KEYS` are returned.
    mismatches : int, optional
        NC4 mismatch count over the ``sum(stats.counts)`` samples (:func:`nc4_mismatches` with the
        bias or without it, per ``nc4_bias``); without it ``nc4`` is left out.
    spectrum : tuple, optional
        :func:`centred_spectrum` of ``stats`` with the same conventions, if already computed.
    **conventions
        Fields of :class:`Conventions`.

    Returns
    -------
    dict
        The metrics in display order; ``None`` where undefined. ``nc1`` is left out when
        ``stats.within`` is None.
    """
    conv = Conventions.from_dict(conventions)
    counts = np.asarray(stats.counts)
    K = counts.size
    if K < 2:
        raise InvalidParameter(f"NC metrics need K >= 2 classes, got K={K}")
    delta = 1 if conv.variance == "unbiased" else 0
    if delta and np.any(counts < 2):
        raise InvalidParameter(
            "variance='unbiased' needs at least 2 samples in every class; "
            f"classes with 1 sample: {np.flatnonzero(counts < 2).tolist()}"
        )
    # every feature metric is invariant to scaling H; working in units of max |H| keeps squares of
    # tiny features (e.g. a run converging to the zero solution) from underflowing to 0/0
    inv = 1.0 / stats.scale if stats.scale > 0 else 1.0
    zero = RANK_RTOL if stats.scale > 0 else 0.0
    M = stats.means * inv
    scatter = stats.scatter * inv**2
    d = M.shape[0]
    dof_W, dof_k = counts.sum() - K * delta, counts - delta
    Mc = _centred(M, counts, conv)
    U, s = spectrum if spectrum is not None else centred_spectrum(stats, conv)
    keep = _kept_directions(s, K, d)
    out: dict[str, float | None] = {}
    if s[0] <= zero:
        out["nc1"] = None
    elif stats.within is not None:
        # tr(Sigma_W Sigma_B^+) = sum_i (K / s_i^2) u_i^T Sigma_W u_i, Sigma_B = Mc Mc^T / K
        quad = stats.within(U[:, keep]) * inv**2 / dof_W
        nc1 = float(np.sum(K * quad / s[keep] ** 2))
        out["nc1"] = nc1 / K if conv.nc1_divide_by_K else nc1
    out["nc1_trace_ratio"] = _ratio(
        float(scatter.sum()) / dof_W, float(np.sum(Mc * Mc)) / K, zero**2
    )
    out["cdnv"] = _cdnv(Mc, scatter / dof_k, zero)
    for key, value in _frame_stats(Mc, zero).items():
        out[f"{key}_means"] = value
    out["etf_distance_means"] = _gram_distance(Mc, Mc, _etf_target, zero)
    out["of_distance_means"] = _gram_distance(M, M, _of_target, zero)
    if W is None:
        return {key: out[key] for key in FEATURE_KEYS if key in out}
    W = check_matrix("W", W, (K, d))
    Ws = _unit_scale(W)  # the classifier metrics are scale-free as well
    zero_W = _zero(Ws)
    for key, value in _frame_stats(Ws.T, zero_W).items():
        out[f"{key}_classifiers"] = value
    out["etf_distance_classifiers"] = _gram_distance(Ws.T, Ws.T, _etf_target, zero_W)
    out["of_distance_classifiers"] = _gram_distance(Ws.T, Ws.T, _of_target, zero_W)
    nW, nM = np.linalg.norm(Ws), np.linalg.norm(Mc)
    if nW <= zero_W or nM <= zero:
        out["nc3_papyan"] = None
    else:
        dist = float(np.linalg.norm(Ws.T / nW - Mc / nM))
        out["nc3_papyan"] = dist**2 if conv.nc3_squared else dist
    out["nc3_zhu"] = _gram_distance(Ws.T, Mc, _etf_target, np.sqrt(zero_W * zero))
    if mismatches is not None:
        # W = 0 or coinciding means: one of the two decisions is a tie
        mismatch = None if out["nc3_papyan"] is None else mismatches / float(counts.sum())
        if mismatch is None:
            out["nc4"] = None
        else:
            out["nc4"] = mismatch if conv.nc4_as == "mismatch" else 1.0 - mismatch
    return {key: out[key] for key in METRIC_KEYS if key in out}


def feature_metrics(H, labels, K: int | None = None, **conventions) -> dict[str, float | None]:
    r"""NC1 (three forms) and NC2 of the class means, from features and labels alone.

    .. math::
       \mathrm{NC1} = \tfrac1K\operatorname{tr}(\Sigma_W\Sigma_B^+), \qquad
       \text{trace ratio} = \operatorname{tr}\Sigma_W / \operatorname{tr}\Sigma_B, \qquad
       \mathrm{CDNV} = \operatorname*{avg}_{k<k'}
       \frac{\sigma_k^2 + \sigma_{k'}^2}{2\|\mu_k - \mu_{k'}\|^2}

    with :math:`\sigma_k^2 = \frac{1}{n_k - \delta}\sum_{i:y_i=k}\|h_i - \mu_k\|^2` (Galanti et al.
    [2]_). The NC2 keys for the means are those of :func:`nc_metrics`. Use this for models without a
    classifier (e.g. the locally elastic SDE, whose features are logits).

    Parameters
    ----------
    H : array_like, shape (d, N)
    labels : array_like of int, shape (N,)
        Values in 0..K-1, every class non-empty (columns need not be grouped).
    K : int, optional
        Number of classes; default ``labels.max() + 1``.
    **conventions
        Fields of :class:`Conventions`.

    Returns
    -------
    dict
        Keys of :data:`FEATURE_KEYS` (``nc1, nc1_trace_ratio, cdnv, equinorm_means,
        equiangularity_means, max_angle_means, etf_distance_means, of_distance_means``); ``None``
        where undefined.
    """
    Conventions.from_dict(conventions)
    H = check_matrix("H", H, (None, None))
    if K is None:
        K = int(np.max(labels)) + 1 if np.size(labels) else 0
    if K < 2:
        raise InvalidParameter(f"NC metrics need K >= 2 classes, got K={K}")
    labels = check_labels(labels, H.shape[1], K)
    return metrics_from_statistics(class_statistics(_unit_scale(H), labels, K), **conventions)


def nc_metrics(W, H, b, labels, **conventions) -> dict[str, float | None]:
    r"""All NC metrics of a configuration (W, H, b) with labels, in one call.

    Besides :func:`feature_metrics` (NC1, NC2 of the means):

    * NC2 of the classifier rows: equinorm std/mean of :math:`\|w_k\|`; equiangularity std of the
      pairwise cosines; max-angle
      :math:`\operatorname{avg}_{k<k'}|\cos(w_k,w_{k'}) + 1/(K-1)|` [1]_;
    * Gram distances [3]_: ``etf_distance_*``
      :math:`= \|G/\|G\|_F - (I - \mathbf 1\mathbf 1^\top/K)/\sqrt{K-1}\|_F` and ``of_distance_*``
      :math:`= \|G/\|G\|_F - I/\sqrt K\|_F`, with :math:`G = WW^\top` for the classifiers,
      :math:`G = \tilde M^\top\tilde M` (centred means) for the ETF distance of the means and
      :math:`G = M^\top M` (uncentred: the orthogonal frame of the bias-free MSE model is not
      centred) for the orthogonal-frame distance of the means;
    * NC3: ``nc3_papyan`` :math:`= \|W^\top/\|W\|_F - \tilde M/\|\tilde M\|_F\|_F` (squared if
      ``nc3_squared``) [1]_ and ``nc3_zhu``
      :math:`= \|W\tilde M/\|W\tilde M\|_F - (I - \mathbf 1\mathbf 1^\top/K)/\sqrt{K-1}\|_F` [3]_;
    * NC4: fraction of samples whose decision :math:`\arg\max_k (Wh + b)_k` differs from
      :math:`\arg\min_k\|h - \mu_k\|` (``nc4_as='agreement'`` reports one minus it) [1]_.

    Pairwise quantities over classes are reduced in tiles of at most :data:`TILE_ENTRIES` entries,
    so memory stays O(K d) plus one tile.

    Parameters
    ----------
    W : array_like, shape (K, d)
    H : array_like, shape (d, N)
    b : array_like, shape (K,), or None (no bias)
    labels : array_like of int, shape (N,)
    **conventions
        Fields of :class:`Conventions`.

    Returns
    -------
    dict
        The keys of :data:`METRIC_KEYS`, each a float or ``None`` (undefined).

    Raises
    ------
    InvalidParameter
        Shapes that do not match, non-finite entries, labels outside 0..K-1, an empty class, an
        unknown convention.

    Examples
    --------
    >>> import numpy as np
    >>> K = 3; M = np.eye(K) - 1 / K                      # a simplex ETF in R^3
    >>> m = nc_metrics(M.T, np.repeat(M, 2, axis=1), np.zeros(K), np.repeat(np.arange(K), 2))
    >>> round(m['nc1'], 12), round(m['etf_distance_means'], 12), m['nc4']
    (0.0, 0.0, 0.0)
    """
    W = check_matrix("W", W, (None, None))
    K, d = W.shape
    H = check_matrix("H", H, (d, None))
    b = np.zeros(K) if b is None else check_matrix("b", b, (K,))
    conv = Conventions.from_dict(conventions)
    if K < 2:
        raise InvalidParameter(f"NC metrics need K >= 2 classes, got K={K}")
    labels = check_labels(labels, H.shape[1], K)
    mismatches = nc4_mismatches(W, b if conv.nc4_bias else None, class_means(H, labels, K)[0], H)
    stats = class_statistics(_unit_scale(H), labels, K)
    return metrics_from_statistics(stats, W, mismatches, **conventions)


#: Keys of :func:`gram_invariants`, in display order.
GRAM_KEYS = ("WWt", "MtM", "WM")


def _real_matrix(name: str, value, shape: tuple[int | None, int | None]) -> np.ndarray:
    """``value`` as a float64 matrix of the given shape; unlike ``check_matrix``, keeps NaN/inf."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameter(f"{name} must be a real matrix: {exc}") from None
    if arr.ndim != 2 or any(s not in (None, a) for s, a in zip(shape, arr.shape, strict=True)):
        want = " x ".join("any" if s is None else str(s) for s in shape)
        raise InvalidParameter(f"{name} must be a matrix of shape {want}, got shape {arr.shape}")
    return arr


def gram_invariants(W, M, *, normalize: bool = False) -> dict[str, np.ndarray]:
    r"""Rotation-free description of a classifier and class means: three K x K Gram matrices.

    .. math:: W W^\top,\qquad M^\top M,\qquad W M

    are unchanged by :math:`W \to W Q^\top`, :math:`M \to Q M` for every orthogonal Q (d x d), the
    symmetry of the UFM objective (:mod:`ufm.objectives`): two configurations agree up to a rotation
    of feature space iff their invariants agree (a Gram matrix fixes its vectors up to isometry).
    This is how a computed configuration (a closed form, a convex certificate, the end of gradient
    descent) is compared with a theorem or with another configuration [2]_; :func:`gram_gaps`
    measures the difference.

    Parameters
    ----------
    W : array_like, shape (K, d)
        Classifier, row k is :math:`w_k`.
    M : array_like, shape (d, K)
        Class means, column k is :math:`\mu_k` (e.g. from :func:`class_means`).
    normalize : bool
        Scale every row of W and every column of M to unit norm first, so that the Grams hold the
        cosines between the vectors (a simplex ETF then has the Gram
        :math:`\frac{K}{K-1}(I - \mathbf 1\mathbf 1^\top/K)`, Papyan et al. 2020 [1]_, NC2).

    Returns
    -------
    dict
        ``{'WWt', 'MtM', 'WM'}`` (:data:`GRAM_KEYS`), float64 arrays of shape (K, K). Non-finite
        entries of W or M propagate (a diverged run then compares as infinitely far).

    Raises
    ------
    InvalidParameter
        If W is not a real K x d matrix or M not a real d x K matrix.

    References
    ----------
    .. [1] Papyan, Han & Donoho (2020), PNAS 117(40): NC2 (Figs. 2-4), NC3 (Fig. 5).
    .. [2] Zhu et al. (2021), "A geometric analysis of neural collapse with unconstrained
       features", NeurIPS: the global minimizers, unique up to this rotation (Thm 3.1).

    Examples
    --------
    >>> import numpy as np
    >>> Q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    >>> W = np.eye(3) - 1 / 3
    >>> gaps = gram_gaps(gram_invariants(W @ Q.T, Q @ W.T), gram_invariants(W, W.T))
    >>> max(gaps.values()) < 1e-12
    True
    """
    W = _real_matrix("W", W, (None, None))
    M = _real_matrix("M", M, (W.shape[1], W.shape[0]))
    if normalize:
        # the vectors as columns of d x K arrays: features and classifiers live in the same space
        V = W.T / np.linalg.norm(W.T, axis=0)
        M = M / np.linalg.norm(M, axis=0)
        return {"WWt": V.T @ V, "MtM": M.T @ M, "WM": V.T @ M}
    return {"WWt": W @ W.T, "MtM": M.T @ M, "WM": W @ M}


def gram_gaps(measured: dict, reference: dict) -> dict[str, float]:
    r"""Scale-free deviations of Gram invariants from reference ones, key by key.

    .. math:: \mathrm{gap}_G = \max_{ij}\frac{|G_{ij} - G^\star_{ij}|}{1 + |G^\star_{ij}|},
              \qquad G \in \{WW^\top, M^\top M, WM\}

    (:func:`ufm.tolerances.relative_deviation`), compared with ``tolerances.DESCENT_GRAM`` after
    gradient descent and ``tolerances.CONVEX_ARGMIN`` for a convex solution.

    Parameters
    ----------
    measured, reference : dict
        Outputs of :func:`gram_invariants` (the same K); ``reference`` is the scale.

    Returns
    -------
    dict
        ``{'WWt', 'MtM', 'WM'}`` to float; ``inf`` where ``measured`` is not finite.

    Raises
    ------
    InvalidParameter
        If either argument lacks one of the keys :data:`GRAM_KEYS`.
    """
    for name, grams in (("measured", measured), ("reference", reference)):
        missing = [key for key in GRAM_KEYS if key not in grams]
        if missing:
            raise InvalidParameter(
                f"{name} must hold the Gram invariants {GRAM_KEYS} (gram_invariants), "
                f"missing {missing}"
            )
    return {key: relative_deviation(measured[key], reference[key]) for key in GRAM_KEYS}
