r"""Measured geometry against the UFM's prediction for the measured class sizes.

The unconstrained features model predicts, for class sizes :math:`n_1..n_K`,

* balanced sizes: the simplex ETF (Papyan et al. 2020 [1]_; the UFM's global minimizers, Zhu et
  al. 2021 [2]_, Thm 3.1): class means and classifier rows with Gram matrices proportional to
  :math:`P = I - J/K`, and :math:`W M \propto P`;
* imbalanced sizes: the SELI geometry (Thrampoulidis et al. 2022 [3]_, the certified imbalanced
  optimum of the catalogue's ``seli.max-margin``): :math:`WW^\top = (PDP)^{1/2}`,
  :math:`M^\top M = D^{-1/2}(D^{1/2}PD^{1/2})^{1/2}D^{-1/2}` (D = diag(n_k)) and
  :math:`WM = P` (:func:`ufm.geometry.seli_class_factors`).

For balanced sizes SELI *is* the ETF (``proofs/seli.py``), so one construction serves both; the
name says which one it is. Geometry is compared up to scale and rotation, the UFM's symmetries:

.. math::
   \mathrm{dist}_G = \Big\|\frac{G}{\|G\|_F} - \frac{G^\star}{\|G^\star\|_F}\Big\|_F,\qquad
   G \in \{\tilde M^\top\tilde M,\ WW^\top,\ W\tilde M\},

the same form as ``etf_distance_*`` and ``nc3_zhu`` of :mod:`ufm.metrics` (equal to them for
balanced classes), and by orthogonal Procrustes, :func:`~ufm.measure._extra.procrustes_distance`.
The measured means are centred at the unweighted mean of the class means, where the SELI means
are centred (:math:`M^\star\mathbf 1 = 0`); for balanced classes every convention agrees.

References
----------
.. [1] Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase of
   deep learning training", PNAS 117(40).
.. [2] Zhu, Ding, Zhou, Li, You, Sulam & Qu (2021), "A geometric analysis of neural collapse with
   unconstrained features", NeurIPS.
.. [3] Thrampoulidis, Kini, Vakilian & Behnia (2022), "Imbalance trouble: revisiting
   neural-collapse geometry", NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import seli_class_factors
from ..metrics import RANK_RTOL, _etf_target, _gram_distance, _unit_scale, _zero
from ._extra import procrustes_distance

__all__ = ["Comparison", "compare_ufm", "COMPARE_KEYS"]

#: Keys :func:`compare_ufm` adds to the metrics (the classifier ones only with W).
COMPARE_KEYS = (
    "ufm_distance_means",
    "ufm_procrustes_means",
    "ufm_distance_classifiers",
    "ufm_procrustes_classifiers",
    "ufm_distance_duality",
)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Result of :func:`compare_ufm`.

    Attributes
    ----------
    geometry : str
        ``'simplex ETF'`` (balanced sizes) or ``'SELI'``.
    W, M : ndarray, shapes (K, K-1) and (K-1, K)
        The predicted classifier and class means (:func:`ufm.geometry.seli_class_factors`).
    distances : dict
        The keys of :data:`COMPARE_KEYS` that apply -> float, None where undefined.
    """

    geometry: str
    W: np.ndarray
    M: np.ndarray
    distances: dict


def _target(A: np.ndarray):
    """Rows of :math:`A^\\top A/\\|A^\\top A\\|_F` (A is r x K), one tile at a time."""
    norm = float(np.linalg.norm(A @ A.T))  # = ||A^T A||_F, from the small r x r product

    def rows(a: int, b: int, K: int) -> np.ndarray:
        return A[:, a:b].T @ A / norm

    return rows


def compare_ufm(M: np.ndarray, counts, W: np.ndarray | None = None) -> Comparison:
    r"""Distances between measured class means (and classifier) and the UFM's prediction.

    Parameters
    ----------
    M : ndarray, shape (d, K)
        Measured class means (uncentred).
    counts : array_like of int, shape (K,)
        Class sizes :math:`n_k` (each >= 1).
    W : ndarray, shape (K, d), optional
        Measured classifier rows.

    Returns
    -------
    Comparison
        ``ufm_distance_means``, ``ufm_procrustes_means`` and, with W, ``ufm_distance_classifiers``,
        ``ufm_procrustes_classifiers``, ``ufm_distance_duality`` (formulas in the module
        docstring); each in [0, 2], 0 when the measured geometry is the predicted one up to scale
        and rotation. Procrustes distances need d >= K - 1 (None otherwise).

    Raises
    ------
    InvalidParameter
        Fewer than two classes or an empty class.

    Examples
    --------
    >>> from ufm.geometry import simplex_etf
    >>> c = compare_ufm(simplex_etf(4, 5, seed=0), [7, 7, 7, 7])
    >>> c.geometry, bool(c.distances["ufm_distance_means"] < 1e-12)
    ('simplex ETF', True)
    """
    counts = np.asarray(counts)
    W_star, M_star = seli_class_factors(counts.tolist())
    geometry = "simplex ETF" if np.all(counts == counts[0]) else "SELI"
    # units of max|M| (not of the centred means): means that coincide stay undefined
    Mc = _unit_scale(M)
    Mc = Mc - Mc.mean(axis=1, keepdims=True)
    zero = RANK_RTOL if np.abs(M).max(initial=0.0) > 0 else 0.0
    out = {
        "ufm_distance_means": _gram_distance(Mc, Mc, _target(M_star), zero),
        "ufm_procrustes_means": procrustes_distance(Mc, M_star),
    }
    if W is not None:
        Ws = _unit_scale(W).T
        zero_W = _zero(Ws)
        out["ufm_distance_classifiers"] = _gram_distance(Ws, Ws, _target(W_star.T), zero_W)
        out["ufm_procrustes_classifiers"] = procrustes_distance(Ws, W_star.T)
        # W* M* = P exactly: the target is the ETF Gram, as for nc3_zhu
        out["ufm_distance_duality"] = _gram_distance(Ws, Mc, _etf_target, np.sqrt(zero * zero_W))
    return Comparison(geometry=geometry, W=W_star, M=M_star, distances=out)
