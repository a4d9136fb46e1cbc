r""":func:`measure`: NC metrics of real networks' features, streamed from disk or a Dask array.

Passes over the data (each reads one chunk of rows at a time):

1. class counts, means, within-class sums of squares and (``covariance=True``) the pooled
   within-class scatter matrix, merged chunk by chunk (:mod:`ufm.measure._accumulate`);
2. with a classifier W: the NC4 mismatch count (the nearest class mean needs the means of pass 1);
   with ``covariance='projected'``: the within-class scatter on the span of the centred means
   (:class:`~ufm.measure._accumulate.ProjectedScatter`, which needs them too), in the same pass;
3. with test features: their own class statistics and the nearest-class-mean accuracy against the
   training means; with OOD features: their global mean.

The metrics of :func:`ufm.nc_metrics` then come from the same function that computes them in
memory (:func:`ufm.metrics.metrics_from_statistics`), so both agree to rounding for any chunking
and order. Memory: O(K d + d^2) plus one chunk (O(K d) without the d x d matrix), never O(N d).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .._validation import check_choice, check_int, check_matrix, check_positive
from ..errors import InvalidParameter
from ..metrics import (
    Conventions,
    _centred,
    _kept_directions,
    centred_spectrum,
    metrics_from_statistics,
    nc4_mismatches,
    nearest_class_mean,
)
from ._accumulate import FEATURE_RANGE, Accumulator, ProjectedScatter
from ._compare import Comparison
from ._compare import compare_ufm as _compare_ufm
from ._extra import (
    GNC2_REDUCTIONS,
    effective_rank,
    etf_procrustes_distance,
    hyperspherical_uniformity,
    ood_orthogonality,
    unc3_cosine_cov,
    unc3_dot_variance,
)
from ._readers import Source, check_rows, open_array, open_features, read_labels

__all__ = ["measure", "Measurement", "MEMORY_LIMIT", "CHUNK_BYTES", "memory_estimate"]

#: Default ceiling (bytes) on the memory :func:`measure` plans to use beyond the input chunk: the
#: d x d scatter matrix and its eigen-decomposition (3 d^2 floats) plus the K x d class means and
#: their SVD (4 K d floats). 2 GiB allows d ~ 9000 with K = 1000; pass ``memory_limit`` (CLI
#: ``--memory-limit``) to raise it, or ``covariance='projected'`` (``--projected``) or ``False``
#: (``--trace-only``) to skip the d x d matrix.
MEMORY_LIMIT = 2 * 2**30

#: Target size (bytes, as float64) of one chunk of rows read from a non-Dask source.
CHUNK_BYTES = 2**26

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class Measurement:
    """Result of :func:`measure`.

    Attributes
    ----------
    metrics : dict
        Metric name -> float, or None where undefined; the keys of :func:`ufm.nc_metrics` that
        apply (``nc1`` needs ``covariance=True``, the classifier keys need W) and the new ones.
    counts : ndarray of int, shape (K,)
        Class sizes.
    means : ndarray, shape (d, K)
        Class means (the units of the features).
    variances : ndarray, shape (K,)
        Per-class variances :math:`\\frac1{n_k-\\delta}\\sum_{y_i=k}\\|h_i-\\mu_k\\|^2`.
    conventions : dict
        The :class:`ufm.metrics.Conventions` used, and ``gnc2_reduction``.
    N, d, K : int
    comparison : Comparison or None
        The UFM's predicted geometry for the measured class sizes (``compare_ufm=True``); its
        distances are also in ``metrics``.
    """

    metrics: dict
    counts: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    conventions: dict
    N: int
    d: int
    K: int
    sources: dict = field(default_factory=dict)
    comparison: Comparison | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary: the metrics (flat, as ``ufm metrics --json``), then K, d, N,
        class sizes, ``ufm_geometry`` (with a comparison) and conventions."""
        out = dict(self.metrics)
        out.update(K=self.K, d=self.d, N=self.N, class_sizes=self.counts.tolist())
        if self.comparison is not None:
            out["ufm_geometry"] = self.comparison.geometry
        out["conventions"] = dict(self.conventions)
        return out


def memory_estimate(K: int, d: int, covariance, compare: bool = False) -> int:
    """Bytes :func:`measure` plans to hold besides one chunk (see :data:`MEMORY_LIMIT`); the
    projected scatter holds its basis (K d floats); the UFM comparison adds the K x K SVD behind
    the predicted geometry (4 K^2 floats)."""
    full, projected = covariance is True, covariance == "projected"
    return 8 * (3 * d * d * full + (4 + projected) * K * d + 4 * K * K * compare)


def _compute(graph, scheduler):
    import dask

    if scheduler is None or scheduler in ("threads", "synchronous", "processes"):
        return dask.compute(graph, scheduler=scheduler or "threads")[0]
    from distributed import Client

    with Client(scheduler) as client:
        return client.compute(graph, sync=True)


def _stream(
    src: Source,
    labels: np.ndarray | None,
    chunk: Callable,
    merge: Callable,
    *,
    chunk_rows: int,
    scheduler,
    progress: Progress | None,
    stage: str,
):
    """Reduce ``chunk(X, y, start)`` over the row chunks of src with ``merge``."""
    N = src.N
    if src.is_dask:
        from dask import delayed

        X = src.as_dask()
        stops = np.cumsum(X.chunks[0])

        def part(block, start, stop):
            rows = check_rows(np.asarray(block, dtype=np.float64), start, src)
            return chunk(rows, None if labels is None else labels[start:stop], start)

        parts = [
            delayed(part)(block, int(stop - n), int(stop))
            for block, stop, n in zip(X.to_delayed().ravel(), stops, X.chunks[0], strict=True)
        ]
        while len(parts) > 1:  # a balanced tree of pairwise merges
            pairs = [delayed(merge)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
            parts = pairs + (parts[-1:] if len(parts) % 2 else [])
        result = _compute(parts[0], scheduler)
        if progress:
            progress(stage, N, N)
        return result
    result = None
    for start in range(0, N, chunk_rows):
        stop = min(N, start + chunk_rows)
        part_ = chunk(src.rows(start, stop), None if labels is None else labels[start:stop], start)
        result = part_ if result is None else merge(result, part_)
        if progress:
            progress(stage, stop, N)
    return result


def _size(nbytes: float) -> str:
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= factor:
            return f"{nbytes / factor:.2f} {unit}"
    return f"{nbytes:.0f} bytes"


def _check_labels(
    labels: np.ndarray, K: int, name: str, allow_empty: bool = False, inferred: bool = False
):
    bad = np.flatnonzero((labels < 0) | (labels >= K))
    if bad.size:
        row = int(bad[0])
        raise InvalidParameter(
            f"{name}: row {row} has label {labels[row]}, outside 0..{K - 1} (K={K})"
        )
    counts = np.bincount(labels, minlength=K)
    if not allow_empty and np.any(counts == 0):
        empty = np.flatnonzero(counts == 0)
        raise InvalidParameter(
            f"{name}: class {int(empty[0])} has no sample ({empty.size} empty classes of K={K}, "
            f"first {empty[:10].tolist()}); every class 0..{K - 1} needs one"
            + (
                f" (K was taken from the largest label, {K - 1} at row "
                f"{int(np.argmax(labels))}: pass K or W if that is right)"
                if inferred
                else ""
            )
        )


def _load_small(value, name: str, shape):
    if value is None:
        return None
    if isinstance(value, str) or hasattr(value, "__fspath__"):
        array, name = open_array(value, name)
        value = np.asarray(array)
    return check_matrix(name, value, shape)


def measure(
    features,
    labels,
    W=None,
    b=None,
    *,
    K: int | None = None,
    layout: str = "auto",
    test=None,
    test_labels=None,
    ood=None,
    covariance: bool = True,
    memory_limit: float = MEMORY_LIMIT,
    chunk_rows: int | None = None,
    scheduler=None,
    progress: Progress | None = None,
    gnc2_reduction: str = "variance",
    compare_ufm: bool = False,
    **conventions,
) -> Measurement:
    r"""Neural Collapse metrics of a trained network's features, streamed chunk by chunk.

    Computes every metric of :func:`ufm.nc_metrics` (same formulas, conventions and keys; one
    implementation, :func:`ufm.metrics.metrics_from_statistics`) from mergeable float64
    accumulators, plus

    * ``effective_rank_means``, ``effective_rank_within``, ``effective_rank_features``: effective
      rank [4]_ of the centred class means :math:`\tilde M`, of the within-class scatter
      :math:`S_W` and of the total scatter :math:`S_W + \sum_k n_k\tilde\mu_k\tilde\mu_k^\top`
      (for a scatter matrix S the singular values are :math:`\sqrt{\operatorname{eig}(S)}`, those of
      the centred data);
    * ``gnc2_log``, ``gnc2_riesz``: hyperspherical uniformity [1]_ (``gnc2_reduction``: the
      variance over pairs, as rhubarbwu/neural-collapse reports it, or the mean);
    * ``etf_procrustes_means`` (and ``_classifiers``): distance to the nearest simplex ETF up to
      rotation (:func:`~ufm.measure._extra.etf_procrustes_distance`);
    * with W: ``unc3_dot_variance`` and ``unc3_cosine_cov``, the two published uniform-duality
      computations [2]_;
    * with test features: ``ncc_accuracy_test`` (nearest training class mean vs label, when the test
      labels are training classes; generalization) and ``cdnv_test`` (CDNV of the test features'
      own classes; on held-out classes this is the transfer measure of [5]_);
    * with OOD features: ``nc5`` [3]_;
    * with ``compare_ufm``: the distances of the measured geometry to the UFM's prediction for the
      measured class sizes, the simplex ETF or SELI (:func:`~ufm.measure._compare.compare_ufm`,
      keys :data:`~ufm.measure._compare.COMPARE_KEYS`).

    Parameters
    ----------
    features : path or array_like
        Shape (N, d) or (d, N) (see ``layout``): a ``.npy``/``.npz``/``.zarr``/``.h5`` path
        (``PATH:KEY`` for a file holding several arrays), a numpy/memmap/Zarr/HDF5/torch array, or
        a Dask array (processed block by block).
    labels : path or array_like of int, shape (N,)
        Values in 0..K-1, every class non-empty.
    W : path or array_like, shape (K, d), optional
        Classifier rows (enables NC2/NC3 of the classifier, NC4, UNC3).
    b : path or array_like, shape (K,), optional
        Bias of the classifier (NC4 decision with ``nc4_bias``).
    K : int, optional
        Number of classes; default W's rows, else ``max(labels) + 1``.
    layout : {'auto', 'N,d', 'd,N'}
        Which axis holds the samples; ``'auto'`` takes the axis of length N.
    test, test_labels : path or array_like, optional
        Held-out features (same d) and their labels.
    ood : path or array_like, optional
        Out-of-distribution features (same d), no labels.
    covariance : {True, 'projected', False}
        ``True``: accumulate the d x d within-class scatter :math:`S_W` (``nc1`` and the effective
        ranks of the scatter matrices; n d (d+1)/2 multiply-adds per chunk of n rows).
        ``'projected'``: ``nc1`` from :math:`S_W` on the span of the centred means only
        (:class:`~ufm.measure._accumulate.ProjectedScatter`: n d r multiply-adds with
        r <= min(K - 1, d), on the NC4 pass or, without W, on a pass of its own; memory O(K d);
        no ``effective_rank_within``/``_features``, which need the whole spectrum of
        :math:`S_W`). ``False``: neither, one pass without W, memory O(K d).
    memory_limit : float
        Bytes; refuse up front when :func:`memory_estimate` exceeds it.
    chunk_rows : int, optional
        Rows per chunk for non-Dask sources (default: :data:`CHUNK_BYTES` of float64).
    scheduler : str, optional
        Dask scheduler for Dask inputs: ``'threads'`` (default), ``'synchronous'``, or the address
        of a running ``distributed`` scheduler (``'tcp://host:8786'``).
    progress : callable, optional
        ``progress(stage, rows_done, rows_total)``, called after each chunk.
    gnc2_reduction : {'variance', 'mean'}
    compare_ufm : bool
        Compare with the UFM's predicted geometry (K x K matrices: memory O(K^2)).
    **conventions
        Fields of :class:`ufm.metrics.Conventions`.

    Returns
    -------
    Measurement

    Raises
    ------
    InvalidParameter, InvalidFile
        Shapes that do not match, a label out of range or an empty class, NaN or infinite rows
        (naming the file or argument and the row), an unreadable file, a memory estimate above
        ``memory_limit``.

    References
    ----------
    See :mod:`ufm.measure._extra` ([1]_-[5]_) and :mod:`ufm.metrics`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> H = rng.normal(size=(60, 5)); y = np.arange(60) % 3     # N x d features
    >>> m = measure(H, y, chunk_rows=7)
    >>> from ufm.metrics import feature_metrics
    >>> bool(abs(m.metrics["nc1"] - feature_metrics(H.T, y)["nc1"]) < 1e-12)
    True
    """
    conv = Conventions.from_dict(conventions)
    check_choice("gnc2_reduction", gnc2_reduction, GNC2_REDUCTIONS)
    projected = isinstance(covariance, str) and covariance == "projected"
    if not (projected or covariance is True or covariance is False):
        raise InvalidParameter(f"covariance must be True, 'projected' or False, got {covariance!r}")
    check_positive("memory_limit", memory_limit)
    if not isinstance(compare_ufm, bool):
        raise InvalidParameter(f"compare_ufm must be True or False, got {compare_ufm!r}")
    labels, labels_name = read_labels(labels)
    W = _load_small(W, "W", (None, None))
    inferred = K is None and W is None
    if K is None:
        K = W.shape[0] if W is not None else (int(labels.max()) + 1 if labels.size else 0)
    K = check_int("K", K, 2)
    if W is not None and W.shape[0] != K:
        raise InvalidParameter(f"W must have K={K} rows, got shape {W.shape}")
    src = open_features(features, "features", layout, labels.size)
    d = src.d
    if W is not None and W.shape[1] != d:
        raise InvalidParameter(f"W has {W.shape[1]} columns but {src.name} has d={d} features")
    b = _load_small(b, "b", (K,))
    _check_labels(labels, K, labels_name, inferred=inferred)
    need = memory_estimate(K, d, covariance, compare_ufm)
    if need > memory_limit:
        hint = (
            "pass covariance='projected' (CLI --projected) for every metric but "
            "effective_rank_within/features, or covariance=False (CLI --trace-only) for the "
            "trace-based metrics (all but nc1 and those two), or raise memory_limit"
            if covariance is True
            else "raise memory_limit"
        )
        if compare_ufm:
            hint = "drop compare_ufm (CLI --compare-ufm; its K x K SVD), " + hint
        raise InvalidParameter(
            f"measuring K={K} classes in d={d} needs about {_size(need)}, above "
            f"memory_limit={_size(memory_limit)}: {hint}"
        )
    if chunk_rows is None:
        chunk_rows = max(1, CHUNK_BYTES // (8 * d))
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)
    stream = dict(chunk_rows=chunk_rows, scheduler=scheduler, progress=progress)

    acc = _stream(
        src,
        labels,
        lambda X, y, _: Accumulator.from_chunk(X, y, K, covariance is True),
        Accumulator.merge,
        stage="statistics",
        **stream,
    )
    lo, hi = FEATURE_RANGE
    if acc.scale > 0 and not lo <= acc.scale <= hi:
        raise InvalidParameter(
            f"the largest feature magnitude is {acc.scale:.3g}; the streaming accumulators square "
            f"raw features and need it in [{lo:g}, {hi:g}] (float64 squares stay normal). Every NC "
            "metric is scale-invariant: divide the features by a common factor, or use "
            "ufm.nc_metrics in memory, which works in units of max |H| at every scale"
        )
    stats = acc.statistics()
    M = stats.means
    spectrum = centred_spectrum(stats, conv)  # one SVD for nc1/nc2 and the effective rank
    basis = spectrum[0][:, _kept_directions(spectrum[1], K, d)] if projected else None
    bias = b if (b is not None and conv.nc4_bias) else None

    def second(X, y, _):
        within = ProjectedScatter.from_chunk(X, y, acc.means, basis) if projected else None
        return within, (None if W is None else nc4_mismatches(W, bias, M, X.T))

    def merge(a, b):
        return (
            None if a[0] is None else a[0].merge(b[0]),
            None if a[1] is None else a[1] + b[1],
        )

    within, mismatches = None, None
    if W is not None or projected:
        within, mismatches = _stream(
            src, labels, second, merge, stage="nc4" if W is not None else "nc1", **stream
        )
    if within is not None:
        stats = replace(stats, within=within)
    metrics = metrics_from_statistics(stats, W, mismatches, spectrum=spectrum, **conventions)

    Mc = _centred(M, acc.counts, conv)
    metrics["effective_rank_means"] = effective_rank(spectrum[1])  # scale-free
    if acc.within is not None:
        scale2 = acc.scale**2 if acc.scale > 0 else 1.0
        S_W = acc.within / scale2
        S_T = S_W + (Mc * acc.counts) @ Mc.T / scale2
        for key, S in (("effective_rank_within", S_W), ("effective_rank_features", S_T)):
            metrics[key] = effective_rank(np.sqrt(np.clip(np.linalg.eigvalsh(S), 0, None)))
    for kernel in ("log", "riesz"):
        metrics[f"gnc2_{kernel}"] = hyperspherical_uniformity(Mc, kernel, gnc2_reduction)
    metrics["etf_procrustes_means"] = etf_procrustes_distance(Mc)
    if W is not None:
        metrics["etf_procrustes_classifiers"] = etf_procrustes_distance(W.T)
        metrics["unc3_dot_variance"] = unc3_dot_variance(W, Mc)
        metrics["unc3_cosine_cov"] = unc3_cosine_cov(W, Mc)
    sources = {"features": src.name, "labels": labels_name}
    if (test is None) != (test_labels is None):
        raise InvalidParameter("test features and test_labels go together: give both or neither")
    if test is not None:
        metrics.update(_test_metrics(test, test_labels, M, K, d, layout, stream, conventions))
        sources["test"] = str(test) if isinstance(test, str) else "array"
    if ood is not None:
        ood_src = open_features(ood, "ood", layout if layout != "auto" else "N,d", None)
        if ood_src.d != d:
            raise InvalidParameter(f"{ood_src.name} has d={ood_src.d} features, training d={d}")
        ood_acc = _stream(
            ood_src,
            None,
            lambda X, y, _: Accumulator.from_chunk(X, np.zeros(len(X), dtype=np.int64), 1, False),
            Accumulator.merge,
            stage="ood",
            **stream,
        )
        metrics["nc5"] = ood_orthogonality(M, ood_acc.means[0])
    comparison = _compare_ufm(M, acc.counts, W) if compare_ufm else None
    if comparison is not None:
        metrics.update(comparison.distances)
    dof = acc.counts - (1 if conv.variance == "unbiased" else 0)
    return Measurement(
        metrics=metrics,
        counts=acc.counts,
        means=M,
        variances=acc.scatter / dof,
        conventions={**conv.to_dict(), "gnc2_reduction": gnc2_reduction},
        N=src.N,
        d=d,
        K=K,
        sources=sources,
        comparison=comparison,
    )


def _test_metrics(test, test_labels, M, K, d, layout, stream, conventions) -> dict:
    """``ncc_accuracy_test`` (test labels within the training classes) and ``cdnv_test``."""
    y, name = read_labels(test_labels, "test_labels")
    src = open_features(test, "test", layout, y.size)
    if src.d != d:
        raise InvalidParameter(f"{src.name} has d={src.d} features, training d={d}")
    _check_labels(y, max(K, int(y.max(initial=-1)) + 1), name, allow_empty=True)
    classes = np.unique(y)
    K_test = classes.size
    same = bool(classes[-1] < K) if K_test else False

    def chunk(X, labels, _):
        correct = int(np.sum(nearest_class_mean(M, X.T) == labels)) if same else 0
        return Accumulator.from_chunk(X, np.searchsorted(classes, labels), K_test, False), correct

    def merge(a, b):
        return a[0].merge(b[0]), a[1] + b[1]

    acc, correct = _stream(src, y, chunk, merge, stage="test", **stream)
    out = {}
    if same:
        out["ncc_accuracy_test"] = correct / y.size
    if K_test >= 2:
        out["cdnv_test"] = metrics_from_statistics(acc.statistics(), **conventions)["cdnv"]
    return out
