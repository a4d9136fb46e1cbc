r"""Class-exchange symmetry: matrices that commute with permutations of equal-size classes.

Classes of equal size are exchangeable in every relaxation of this package: permuting them
(simultaneously on the rows and columns of a class-indexed matrix) leaves the objective and the
constraints unchanged. A convex program with such a symmetry group has an optimum in the
fixed-point subspace (average any optimum over the group), so it may be solved there.

**The fixed-point subspace** (derived here). Group the K classes into G groups of equal size:
group i holds :math:`g_i` classes of size :math:`s_i`, and :math:`\gamma(k)` is the group of class
k. A K x K matrix fixed by all permutations within groups has the form

.. math:: Z_{rk} = c_{\gamma(r)\gamma(k)} + a_{\gamma(k)}\,\delta_{rk},

i.e. blocks :math:`Z_{ij} = c_{ij}J` (i != j) and :math:`Z_{ii} = a_iI + c_{ii}J`: G + G^2
parameters. (For a group of one class, :math:`a_i` and :math:`c_{ii}` enter only through their sum;
the code then sets :math:`a_i = 0` where it matters.) Let :math:`V_i` be the vectors supported on
group i with zero sum, and :math:`e_i = \mathbf 1_{g_i}/\sqrt{g_i}` the normalized group
indicators. Since :math:`J` kills :math:`V_i`, such a Z acts on :math:`V_i` as :math:`a_iI`
(and so does :math:`Z^\top`), while on :math:`\operatorname{span}(e_1..e_G)` it acts as the G x G
matrix

.. math:: T_{ij} = \langle e_i, Z e_j\rangle = a_j\delta_{ij} + \sqrt{g_ig_j}\,c_{ij}.

These subspaces are orthogonal and together span :math:`\mathbb R^K`, so the spectrum (singular
values, or eigenvalues for symmetric Z) of Z is that of T together with :math:`a_i` repeated
:math:`g_i - 1` times.

**Logits of a class** (used by the data terms). For a matrix L of this form (entry (i, j): the
logit of a *non-own* class of group i for a sample of a class of group j) and own-class logit
:math:`L_{jj} + a_j`, a class of group j sees its own logit once, :math:`L_{jj}` for the
:math:`g_j - 1` other classes of its group and :math:`L_{ij}` for the :math:`g_i` classes of each
other group i. The cross-entropy and squared-error terms of a class are therefore sums with these
multiplicities (see :func:`exchange_data`).
"""

from __future__ import annotations

import numpy as np

from ..losses import get_loss

__all__ = ["ClassGroups", "expand", "exchange_data"]


class ClassGroups:
    """Classes grouped by size (exact equality of the given sizes), in order of first appearance.

    Attributes
    ----------
    sizes : ndarray, shape (G,)
        s_i, the common size of the classes of group i.
    counts : ndarray, shape (G,)
        g_i, the number of classes in group i.
    index : ndarray of int, shape (K,)
        :math:`\\gamma(k)`, the group of class k.
    """

    def __init__(self, class_sizes) -> None:
        values, first, index, counts = np.unique(
            np.asarray(class_sizes, dtype=float),
            return_index=True,
            return_inverse=True,
            return_counts=True,
        )
        order = np.argsort(first)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        self.sizes = values[order]
        self.counts = counts[order].astype(float)
        self.index = rank[index.ravel()]

    @property
    def G(self) -> int:
        return int(self.sizes.size)

    def multiplicities(self) -> np.ndarray:
        """m_ij: how many non-own classes of group i a class of group j sees (g_i; g_j - 1 if
        i = j)."""
        m = np.repeat(self.counts[:, None], self.G, axis=1)
        np.fill_diagonal(m, self.counts - 1)
        return m

    def root_counts(self) -> np.ndarray:
        """:math:`\\sqrt{g_ig_j}`, the factor between c_ij and the entries of T."""
        return np.sqrt(np.outer(self.counts, self.counts))


def expand(a: np.ndarray, C: np.ndarray, index: np.ndarray) -> np.ndarray:
    r"""The K x K matrix :math:`Z_{rk} = C_{\gamma(r)\gamma(k)} + a_{\gamma(k)}\delta_{rk}`.

    Parameters
    ----------
    a : ndarray, shape (G,)
    C : ndarray, shape (G, G)
    index : ndarray of int, shape (K,)
        Group of each class.
    """
    return C[np.ix_(index, index)] + np.diag(a[index])


def exchange_data(cp, loss, L, a, groups: ClassGroups, weights: np.ndarray):
    r"""Normalized data term of a class-exchange-symmetric logit matrix, as a cvxpy expression.

    With own logit :math:`o_j = L_{jj} + a_j` and multiplicities :math:`m_{ij}`
    (:meth:`ClassGroups.multiplicities`), a class of group j has the logit :math:`o_j` once and
    :math:`L_{ij}` :math:`m_{ij}` times, and targets :math:`t_\circ` (own) and :math:`t_\times`
    (every other class) (:mod:`ufm.losses`), so it contributes

    .. math:: \text{softmax link:}\ \log\Big(e^{o_j} + \sum_i m_{ij}e^{L_{ij}}\Big) - t_\circ o_j
              - t_\times\sum_i m_{ij}L_{ij}, \qquad
              \text{square link:}\ \tfrac12\Big((o_j - t_\circ)^2
              + \sum_i m_{ij}(L_{ij} - t_\times)^2\Big),

    and the term is :math:`\sum_j w_j\,(\cdot)_j` with :math:`w_j` the total weight of group j.
    Multiplicities enter the log-sum-exp as additive :math:`\log m_{ij}`; where
    :math:`m_{jj} = 0` (a group of one class) the entry is replaced by a second copy of
    :math:`o_j`, each copy carrying :math:`\log\frac12`, which keeps the matrix rectangular and
    the value exact.

    Parameters
    ----------
    cp : module
        cvxpy.
    loss : ufm.losses.Loss or str
        The loss (or a registered name without parameters).
    L : cvxpy expression, shape (G, G)
    a : cvxpy expression, shape (G,)
    groups : ClassGroups
    weights : ndarray, shape (G,)
        w_j = g_j s_j / N (the share of the samples in group j).
    """
    G = groups.G
    m = groups.multiplicities()
    own = cp.diag(L) + a
    single = (groups.counts == 1).astype(float)
    logits = cp.vstack([cp.reshape(own, (1, G), order="F"), L + cp.diag(cp.multiply(single, a))])
    offsets = np.vstack([np.zeros(G), np.log(np.where(m > 0, m, 1.0))])
    halves = np.flatnonzero(single)
    offsets[0, halves] = offsets[1 + halves, halves] = np.log(0.5)
    loss = get_loss(loss)
    t_own, t_other = loss.target_pair(int(groups.counts.sum()))
    return loss.link_impl.cvx_exchange(cp, own, L, logits + offsets, m, weights, t_own, t_other)
