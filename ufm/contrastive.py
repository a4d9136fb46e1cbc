r"""The full-batch supervised contrastive (SupCon) loss on a sphere of radius rho.

Features :math:`z_1, \dots, z_N` are the columns of Z (d x N, columns grouped by class as in
:mod:`ufm.objectives`), each on the sphere :math:`\|z_i\| = \rho`. Every sample is an anchor; the
positives of anchor i are the other samples of its class, :math:`P(i) = \{p \ne i : y_p = y_i\}`;
the denominator runs over every other sample :math:`a \ne i`:

.. math:: \mathcal L_{SC}(Z) = \frac1N\sum_{i=1}^N \frac{-1}{|P(i)|}\sum_{p\in P(i)}
          \log\frac{e^{\langle z_i, z_p\rangle}}{\sum_{a\ne i} e^{\langle z_i, z_a\rangle}}
          = \frac1N\sum_{i=1}^N\Big(\log\sum_{a\ne i}e^{G_{ia}}
          - \frac1{|P(i)|}\sum_{p\in P(i)}G_{ip}\Big),\qquad G = Z^\top Z.

This is the loss of Khosla et al. (2020) ("L_out") on the whole data set as one batch, averaged
over anchors, in the form analysed by Graf et al. (2021) [1]_. Their temperature
:math:`\tau` on unit features is folded into the radius: :math:`\langle u, v\rangle/\tau =
\langle z_u, z_v\rangle` with :math:`\rho = \tau^{-1/2}`. It needs at least two samples per class
(|P(i)| >= 1). The loss depends on Z only through the Gram matrix G, and is convex in G (a
log-sum-exp of linear functions minus a linear function), which :mod:`ufm.relaxations` uses.

References
----------
.. [1] Graf, Hofer, Niethammer & Kwitt (2021), "Dissecting supervised contrastive learning", ICML.
.. [2] Khosla et al. (2020), "Supervised contrastive learning", NeurIPS.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_int, check_labels, check_matrix, check_positive
from .errors import InvalidParameter

__all__ = ["supcon_loss", "positive_weights"]


def positive_weights(labels, K: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validated labels and the N x N matrix B with :math:`B_{ip} = 1/|P(i)|` for p in P(i), 0
    elsewhere (the positives' weights of the SupCon loss).

    Raises
    ------
    InvalidParameter
        labels not a 1-D integer array with values in 0..K-1, or a class with < 2 samples.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise InvalidParameter(f"labels must be a non-empty 1-D array, got shape {labels.shape}")
    if K is None and np.issubdtype(labels.dtype, np.integer):
        K = max(int(labels.max()) + 1, 2)
    labels = check_labels(labels, labels.shape[0], check_int("K", K, 2))
    same = (labels[:, None] == labels[None, :]).astype(float)
    np.fill_diagonal(same, 0.0)
    counts = same.sum(axis=1)
    if counts.min() < 1:
        i = int(counts.argmin())
        raise InvalidParameter(
            f"labels must give every class >= 2 samples (SupCon needs a positive for each "
            f"anchor); sample {i} (class {int(labels[i])}) is alone in its class"
        )
    return labels, same / counts[:, None]


def supcon_loss(Z, labels, rho: float, *, K: int | None = None) -> tuple[float, np.ndarray]:
    r"""Value and Euclidean gradient of the full-batch SupCon loss (module docstring).

    .. math:: \mathcal L_{SC}(Z) = \frac1N\sum_i\Big(\log\sum_{a\ne i}e^{\langle z_i,z_a\rangle}
              - \frac1{|P(i)|}\sum_{p\in P(i)}\langle z_i, z_p\rangle\Big),
              \qquad \nabla_Z\mathcal L_{SC} = \frac1N Z(S + S^\top - B - B^\top),

    with :math:`S_{ia}` the softmax of row i of G over :math:`a \ne i` and :math:`B_{ip} =
    1/|P(i)|` on the positives.

    Parameters
    ----------
    Z : array_like, shape (d, N)
        Features, column i on the sphere of radius ``rho`` (within ``tolerances.UNIT_NORM``
        relative to rho).
    labels : array_like of int, shape (N,)
        Class of each column, in 0..K-1, every class with >= 2 samples.
    rho : float
        Radius of the sphere, > 0 (temperature tau = 1/rho^2 on unit features).
    K : int, optional
        Number of classes (default: ``max(labels) + 1``).

    Returns
    -------
    (float, ndarray of shape (d, N))
        The loss and its Euclidean gradient (project it onto the tangent spaces of the spheres for
        the Riemannian gradient).

    Raises
    ------
    InvalidParameter
        Z not a finite 2-D array, labels of the wrong length or range, a class with < 2 samples,
        rho <= 0, a column off the sphere.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[1.0, 1.0, -1.0, -1.0]])  # K = 2 classes collapsed to antipodes, rho = 1
    >>> value, grad = supcon_loss(Z, [0, 0, 1, 1], 1.0)
    >>> bool(abs(value - np.log(1 + 2 * np.exp(-2.0))) < 1e-15)
    True
    """
    from .tolerances import UNIT_NORM

    rho = check_positive("rho", rho)
    Z = check_matrix("Z", Z, (None, None))
    labels, B = positive_weights(labels, K)
    if labels.shape[0] != Z.shape[1]:
        raise InvalidParameter(
            f"labels must have one entry per column of Z ({Z.shape[1]}), got {labels.shape[0]}"
        )
    off = np.abs(np.linalg.norm(Z, axis=0) / rho - 1.0)
    if off.max() > UNIT_NORM:
        raise InvalidParameter(
            f"the columns of Z must have norm rho={rho:g} (relative {UNIT_NORM:g}); column "
            f"{int(off.argmax())} is off by {off.max():.3g} (relative)"
        )
    N = Z.shape[1]
    G = Z.T @ Z
    # the anchor itself leaves the denominator: -inf on the diagonal, a stable softmax per row
    np.fill_diagonal(G, -np.inf)
    top = G.max(axis=1, keepdims=True)
    E = np.exp(G - top)
    total = E.sum(axis=1, keepdims=True)
    np.fill_diagonal(G, 0.0)
    value = float(np.mean(np.log(total[:, 0]) + top[:, 0] - np.sum(B * G, axis=1)))
    A = E / total - B
    return value, Z @ (A + A.T) / N
