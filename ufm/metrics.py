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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from ._validation import check_choice, check_labels, check_matrix
from .errors import InvalidParameter
from .tolerances import relative_deviation

__all__ = [
    "Conventions",
    "nc_metrics",
    "feature_metrics",
    "METRIC_KEYS",
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


def _etf_gram(K: int) -> np.ndarray:
    """(I - 11^T/K)/sqrt(K-1): the unit-Frobenius Gram matrix of a simplex ETF."""
    return (np.eye(K) - 1.0 / K) / np.sqrt(K - 1)


def _zero(A: np.ndarray) -> float:
    """Size under which a norm of a quantity built linearly from A counts as zero (scale-free)."""
    return RANK_RTOL * float(np.abs(A).max(initial=0.0))


def _unit_scale(A: np.ndarray) -> np.ndarray:
    """A / max|A| (A itself if it is zero)."""
    scale = np.abs(A).max(initial=0.0)
    return A / scale if scale > 0 else A


def _ratio(num: float, den: float, zero: float) -> float | None:
    return None if den <= zero else float(num / den)


def _gram_distance(G: np.ndarray, target: np.ndarray, zero: float) -> float | None:
    """||G/||G||_F - target||_F; ``zero`` bounds the factors' norm (G is quadratic in them)."""
    norm = np.linalg.norm(G)
    return None if norm <= zero**2 else float(np.linalg.norm(G / norm - target))


def _frame_stats(V: np.ndarray, zero: float) -> dict[str, float | None]:
    """Equinorm, equiangularity and max-angle of the K columns of V (d x K)."""
    K = V.shape[1]
    norms = np.linalg.norm(V, axis=0)
    out: dict[str, float | None] = {
        "equinorm": _ratio(float(norms.std()), float(norms.mean()), zero)
    }
    if norms.min() <= zero:
        out["equiangularity"] = out["max_angle"] = None
        return out
    U = V / norms
    cos = (U.T @ U)[np.triu_indices(K, 1)]
    out["equiangularity"] = float(cos.std())
    out["max_angle"] = float(np.mean(np.abs(cos + 1.0 / (K - 1))))
    return out


def class_means(H: np.ndarray, labels: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Class means M (d x K) and class sizes (K,) of features H (d x N) with integer labels."""
    counts = np.bincount(labels, minlength=K)
    M = np.zeros((H.shape[0], K))
    np.add.at(M.T, labels, H.T)
    return M / counts, counts


def _centred(M: np.ndarray, counts: np.ndarray, conv: Conventions) -> np.ndarray:
    """Class means minus the global mean of the chosen convention (d x K)."""
    weights = (
        counts / counts.sum()
        if conv.global_mean == "weighted"
        else np.full(M.shape[1], 1 / M.shape[1])
    )
    return M - (M @ weights)[:, None]


def _features(H: np.ndarray, labels: np.ndarray, K: int, conv: Conventions):
    """Everything the feature metrics need: means, centred means, within-class residuals."""
    M, counts = class_means(H, labels, K)
    N = H.shape[1]
    Mc = _centred(M, counts, conv)
    R = H - M[:, labels]
    scatter = np.bincount(labels, weights=np.einsum("ij,ij->j", R, R), minlength=K)
    delta = 1 if conv.variance == "unbiased" else 0
    if delta and np.any(counts < 2):
        raise InvalidParameter(
            "variance='unbiased' needs at least 2 samples in every class; "
            f"classes with 1 sample: {np.flatnonzero(counts < 2).tolist()}"
        )
    return M, Mc, R, scatter, counts, N - K * delta, counts - delta


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
        Keys ``nc1, nc1_trace_ratio, cdnv, equinorm_means, equiangularity_means, max_angle_means,
        etf_distance_means, of_distance_means``; ``None`` where undefined.
    """
    conv = Conventions.from_dict(conventions)
    H = check_matrix("H", H, (None, None))
    if K is None:
        K = int(np.max(labels)) + 1 if np.size(labels) else 0
    if K < 2:
        raise InvalidParameter(f"NC metrics need K >= 2 classes, got K={K}")
    labels = check_labels(labels, H.shape[1], K)
    # every feature metric is invariant to scaling H; rescaling to max |H| = 1 keeps squares of
    # tiny features (e.g. a run converging to the zero solution) from underflowing to 0/0
    H = _unit_scale(H)
    M, Mc, R, scatter, counts, dof_W, dof_k = _features(H, labels, K, conv)
    zero = _zero(H)
    U, s, _ = np.linalg.svd(Mc, full_matrices=False)
    keep = s > RANK_RTOL * s[0]
    keep[min(K - 1, H.shape[0]) :] = False
    out: dict[str, float | None] = {}
    if s[0] <= zero:
        out["nc1"] = None
    else:
        # tr(Sigma_W Sigma_B^+) = sum_i (K / s_i^2) u_i^T Sigma_W u_i, Sigma_B = Mc Mc^T / K
        proj = U[:, keep].T @ R
        quad = np.sum(proj * proj, axis=1) / dof_W
        nc1 = float(np.sum(K * quad / s[keep] ** 2))
        out["nc1"] = nc1 / K if conv.nc1_divide_by_K else nc1
    out["nc1_trace_ratio"] = _ratio(
        float(scatter.sum()) / dof_W, float(np.sum(Mc * Mc)) / K, zero**2
    )
    var = scatter / dof_k
    iu, ju = np.triu_indices(K, 1)
    dist2 = np.sum((M[:, iu] - M[:, ju]) ** 2, axis=0)
    if np.any(dist2 <= zero**2):
        out["cdnv"] = None
    else:
        out["cdnv"] = float(np.mean((var[iu] + var[ju]) / (2 * dist2)))
    for key, value in _frame_stats(Mc, zero).items():
        out[f"{key}_means"] = value
    out["etf_distance_means"] = _gram_distance(Mc.T @ Mc, _etf_gram(K), zero)
    out["of_distance_means"] = _gram_distance(M.T @ M, np.eye(K) / np.sqrt(K), zero)
    return out


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
    out = feature_metrics(H, labels, K, **conventions)
    labels = np.asarray(labels)
    Ws, Hs = _unit_scale(W), _unit_scale(H)  # the classifier metrics are scale-free as well
    Mc = _centred(*class_means(Hs, labels, K), conv)
    zero_W, zero_H = _zero(Ws), _zero(Hs)
    for key, value in _frame_stats(Ws.T, zero_W).items():
        out[f"{key}_classifiers"] = value
    G_W = Ws @ Ws.T
    out["etf_distance_classifiers"] = _gram_distance(G_W, _etf_gram(K), zero_W)
    out["of_distance_classifiers"] = _gram_distance(G_W, np.eye(K) / np.sqrt(K), zero_W)
    nW, nM = np.linalg.norm(Ws), np.linalg.norm(Mc)
    if nW <= zero_W or nM <= zero_H:
        out["nc3_papyan"] = None
    else:
        dist = float(np.linalg.norm(Ws.T / nW - Mc / nM))
        out["nc3_papyan"] = dist**2 if conv.nc3_squared else dist
    out["nc3_zhu"] = _gram_distance(Ws @ Mc, _etf_gram(K), np.sqrt(zero_W * zero_H))
    if out["nc3_papyan"] is None:  # W = 0 or coinciding means: one of the two decisions is a tie
        out["nc4"] = None
        return {key: out[key] for key in METRIC_KEYS}
    Z = W @ H + (b[:, None] if conv.nc4_bias else 0.0)
    M, _ = class_means(H, labels, K)
    dists = np.sum(H * H, axis=0)[None, :] - 2 * M.T @ H + np.sum(M * M, axis=0)[:, None]
    mismatch = float(np.mean(np.argmax(Z, axis=0) != np.argmin(dists, axis=0)))
    out["nc4"] = mismatch if conv.nc4_as == "mismatch" else 1.0 - mismatch
    return {key: out[key] for key in METRIC_KEYS}


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
