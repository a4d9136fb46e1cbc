r"""Mergeable float64 accumulators of class statistics (one pass, any chunking, any order).

A chunk of n labelled features gives its class counts :math:`n_k`, class means :math:`\mu_k`,
within-class sums of squares :math:`s_k = \sum_{y_i=k}\|h_i-\mu_k\|^2` and (optionally) the pooled
within-class scatter matrix :math:`S_W = \sum_i (h_i-\mu_{y_i})(h_i-\mu_{y_i})^\top`. Two partial
results a, b merge exactly (Chan, Golub & LeVeque [1]_, eq. 2.1, applied class by class):

.. math::
   n_k = n^a_k + n^b_k,\quad \delta_k = \mu^b_k - \mu^a_k,\quad
   \mu_k = \mu^a_k + \frac{n^b_k}{n_k}\delta_k,\quad
   s_k = s^a_k + s^b_k + \frac{n^a_k n^b_k}{n_k}\|\delta_k\|^2,\quad
   S_W = S^a_W + S^b_W + \sum_k \frac{n^a_k n^b_k}{n_k}\delta_k\delta_k^\top .

The merge is associative and commutative up to rounding, so sequential streams, tree reductions
over Dask blocks and results from several workers all agree with the in-memory statistics.

NC1 needs :math:`S_W` only on the span of the centred class means: with B (d x r) an orthonormal
basis of it and :math:`\Sigma_B^+ = B\,\Lambda^+B^\top`,
:math:`\operatorname{tr}(\Sigma_W\Sigma_B^+) = \sum_j \Lambda^+_j (B^\top\Sigma_W B)_{jj}`.
:class:`ProjectedScatter` accumulates that diagonal on a pass after the means are known (plain sums,
the means being fixed), at n d r multiply-adds per chunk of n rows instead of the n d (d+1)/2 of
:math:`S_W`, and O(d r) memory instead of O(d^2).

References
----------
.. [1] Chan, Golub & LeVeque (1979), "Updating formulae and a pairwise algorithm for computing
   sample variances", Stanford CS report STAN-CS-79-773.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import InvalidParameter
from ..metrics import ClassStatistics, _max_abs

__all__ = ["Accumulator", "ProjectedScatter", "class_sums"]


def class_sums(X: np.ndarray, y: np.ndarray, K: int) -> np.ndarray:
    """Per-class sums of the rows of X (n x d) as a K x d array (a sparse one-hot product)."""
    n = y.size
    onehot = sp.csr_matrix((np.ones(n), (y, np.arange(n))), shape=(K, n))
    return np.asarray(onehot @ X)


#: Largest feature magnitudes the accumulators accept: they sum squares of raw features, which stay
#: normal float64 numbers (2.2e-308 .. 1.8e308) with room for N d-term sums only for magnitudes in
#: this range; outside it ``measure`` refuses the input with a clear message (never NaN or inf).
FEATURE_RANGE = (1e-150, 1e150)


@dataclass(eq=False)
class Accumulator:
    """Class statistics of the features seen so far; :meth:`merge` combines two of them.

    Attributes
    ----------
    counts : ndarray of int64, shape (K,)
    means : ndarray, shape (K, d)
        Row k is the mean of class k (zero for a class not seen yet).
    scatter : ndarray, shape (K,)
    within : ndarray, shape (d, d), or None
        Pooled within-class scatter matrix; None when not accumulated (trace-only metrics).
    scale : float
        Largest absolute entry seen.
    """

    counts: np.ndarray
    means: np.ndarray
    scatter: np.ndarray
    within: np.ndarray | None
    scale: float

    @classmethod
    def empty(cls, K: int, d: int, covariance: bool) -> Accumulator:
        """Statistics of no sample."""
        return cls(
            np.zeros(K, dtype=np.int64),
            np.zeros((K, d)),
            np.zeros(K),
            np.zeros((d, d)) if covariance else None,
            0.0,
        )

    @classmethod
    def from_chunk(cls, X: np.ndarray, y: np.ndarray, K: int, covariance: bool) -> Accumulator:
        """Statistics of one chunk: X (n x d, float64, finite), y (n,) labels in 0..K-1."""
        counts = np.bincount(y, minlength=K).astype(np.int64)
        means = class_sums(X, y, K) / np.maximum(counts, 1)[:, None]
        R = means[y]
        np.subtract(X, R, out=R)  # the residuals h_i - mu_{y_i}, in the gathered buffer
        scatter = np.bincount(y, weights=np.einsum("ij,ij->i", R, R), minlength=K)
        # numpy computes R^T R by BLAS syrk (one triangle, half the flops), symmetric on return
        return cls(counts, means, scatter, R.T @ R if covariance else None, _max_abs(X))

    def merge(self, other: Accumulator) -> Accumulator:
        """Statistics of the union of both sample sets (Chan et al.'s pairwise update)."""
        counts = self.counts + other.counts
        na, nb = self.counts.astype(float), other.counts.astype(float)
        # over all classes at once: a class seen on one side only has weight 0 and, since the
        # means of an unseen class are 0, takes the other side's mean exactly (0 + 1 * mu)
        share = nb / np.maximum(na + nb, 1.0)
        weight = na * share
        delta = other.means - self.means
        means = self.means + share[:, None] * delta
        scatter = self.scatter + other.scatter + weight * np.einsum("ij,ij->i", delta, delta)
        within = None
        if self.within is not None and other.within is not None:
            within = self.within + other.within + (delta * weight[:, None]).T @ delta
        return Accumulator(counts, means, scatter, within, max(self.scale, other.scale))

    def statistics(self) -> ClassStatistics:
        """The accumulated statistics in the form :func:`ufm.metrics.metrics_from_statistics`
        takes."""
        S = self.within
        return ClassStatistics(
            counts=self.counts,
            means=self.means.T.copy(),
            scatter=self.scatter,
            within=None if S is None else (lambda U: np.einsum("ij,ij->j", U, S @ U)),
            scale=self.scale,
        )


@dataclass(eq=False)
class ProjectedScatter:
    r"""The pooled within-class scatter on a fixed orthonormal basis B (d x r), as its diagonal

    .. math:: q_j = (B^\top S_W B)_{jj} = \sum_i \big(b_j^\top(h_i - \mu_{y_i})\big)^2,

    summed chunk by chunk once the class means :math:`\mu_k` are final (a second pass); the sums
    of two parts add (:meth:`merge`). Called as ``within(U)`` (see
    :class:`ufm.metrics.ClassStatistics`) it answers for ``U == basis`` only.

    Attributes
    ----------
    basis : ndarray, shape (d, r)
    diag : ndarray, shape (r,)
    """

    basis: np.ndarray
    diag: np.ndarray

    @classmethod
    def from_chunk(cls, X: np.ndarray, y: np.ndarray, means: np.ndarray, basis: np.ndarray):
        """Projected residuals of one chunk: X (n x d, float64), y (n,), means (K x d)."""
        R = means[y]
        np.subtract(X, R, out=R)  # residuals first, then projected: no cancellation of h . b_j
        E = R @ basis
        return cls(basis, np.einsum("ij,ij->j", E, E))

    def merge(self, other: ProjectedScatter) -> ProjectedScatter:
        """Diagonal over the union of both chunks (same basis)."""
        return ProjectedScatter(self.basis, self.diag + other.diag)

    def __call__(self, U: np.ndarray) -> np.ndarray:
        if U.shape != self.basis.shape or not np.array_equal(U, self.basis):
            raise InvalidParameter(
                f"the within-class scatter was accumulated on a basis of shape {self.basis.shape} "
                f"only; asked for its diagonal on another one, shape {U.shape}"
            )
        return self.diag
