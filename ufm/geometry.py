r"""Exact and numeric geometry of Neural Collapse: the simplex ETF, the orthogonal frame and SELI.

Notation: K classes, feature dimension d; a *frame* is a d x K matrix M whose columns are the class
directions (class means, or classifier rows transposed). :math:`\mathbf 1` is the all-ones K-vector,
:math:`J = \mathbf 1\mathbf 1^\top` and :math:`P = I - J/K` the centring projection.

* Simplex ETF (Papyan et al. 2020 [1]_): K unit vectors with Gram matrix

  .. math:: M^\top M = \frac{K}{K-1}\Bigl(I - \frac1K J\Bigr) = \frac{K}{K-1} P,

  i.e. equal norms, all pairwise cosines :math:`-1/(K-1)`, :math:`M\mathbf 1 = 0` and rank K - 1;
  realizable exactly when d >= K - 1.
* Orthogonal frame (Tirer & Bruna 2022 [2]_, Zhou et al. 2022 [3]_): :math:`M^\top M = I` (d >= K).
* SELI (Thrampoulidis et al. 2022 [4]_): for class sizes :math:`n_1..n_K` the simplex-encoded label
  matrix :math:`\hat Z = P Y` (Y the K x N one-hot labels) with SVD :math:`\hat Z = U\Lambda V^\top`
  determines :math:`W = U\Lambda^{1/2}`, :math:`H = \Lambda^{1/2}V^\top` (up to a rotation of
  feature space), so :math:`WW^\top = (\hat Z\hat Z^\top)^{1/2}`,
  :math:`H^\top H = (\hat Z^\top\hat Z)^{1/2}` and :math:`WH = \hat Z`.

Exact frames are sympy matrices with entries in closed form (square roots of rationals, no floats):
the ``d = K - 1`` ETF is built from the Helmert basis of :math:`\mathbf 1^\perp`, the ``d >= K``
ETF is :math:`\sqrt{K/(K-1)}\,P` padded with zero rows.

The ``is_*``/``has_*`` predicates return an exact verdict for sympy input
(``simplify(lhs - rhs) == 0``) and a float verdict within :data:`ufm.tolerances.FLOAT` for float
input.

References
----------
.. [1] Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase of deep
   learning training", PNAS 117(40), Definition of the simplex ETF (Sec. 1, property (NC2)).
.. [2] Tirer & Bruna (2022), "Extended unconstrained features model for exploring deep neural
   collapse", ICML.
.. [3] Zhou, Li, Ding, You, Qu & Zhu (2022), "On the optimization landscape of neural collapse under
   MSE loss: global optimality with unconstrained features", ICML.
.. [4] Thrampoulidis, Kini, Vakilian & Behnia (2022), "Imbalance trouble: revisiting neural-collapse
   geometry", NeurIPS. The SELI geometry (its definition is rederived here from the abstract's
   description: W and H interpolate the simplex-encoded labels and are given by its SVD factors).

Length: one concern (the frames of NC and their exact and numeric constructions); the sympy and
numpy forms of each frame stay side by side so that each is checked against its twin in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy import QQ
from sympy.polys.matrices import DomainMatrix

from ._limits import check_memory
from ._repr import short_repr
from ._validation import check_int
from .errors import InvalidParameter
from .tolerances import FLOAT, relative_deviation

__all__ = [
    "simplex_etf",
    "orthogonal_frame",
    "etf_gram",
    "etf_cosine",
    "etf_max_min_angle",
    "random_rotation",
    "helmert_basis",
    "gram",
    "is_unit_norm",
    "is_equinorm",
    "has_etf_gram",
    "has_equal_cosines",
    "is_centered",
    "frame_rank",
    "min_pairwise_angle",
    "is_simplex_etf",
    "SELI",
    "seli",
    "seli_class_factors",
]

Frame = np.ndarray | sp.Matrix


def _check_dims(K, d, minimum_d: int, what: str) -> tuple[int, int]:
    K = check_int("K", K, 2)
    if d is None:
        d = K
    d = check_int("d", d, 1)
    if d < minimum_d(K):
        raise InvalidParameter(f"{what} needs d >= {minimum_d(K)} for K={K} classes, got d={d}")
    # a frame and its intermediates (P = I - J/K or the Helmert basis, a d x d rotation, the
    # K x K Gram matrix) are at most four float64 arrays of max(K, d)^2 entries
    check_memory(f"{what} (K={K}, d={d})", 4 * 8 * max(K, d) ** 2, "lower K or d")
    return K, d


def helmert_basis(K: int, *, exact: bool = False) -> Frame:
    r"""Orthonormal basis of :math:`\mathbf 1^\perp\subset\mathbb R^K`, as the rows of a matrix E.

    E is (K-1) x K, with

    .. math:: E_{j,i} = \frac{1}{\sqrt{j(j+1)}}\ (i < j),\quad
              E_{j,j} = \frac{-j}{\sqrt{j(j+1)}},\quad
              E_{j,i} = 0\ (i > j),\qquad j = 1..K-1,

    so :math:`EE^\top = I_{K-1}`, :math:`E\mathbf 1 = 0` and :math:`E^\top E = P = I - J/K`.

    Parameters
    ----------
    K : int
        K >= 2.
    exact : bool
        Return a sympy Matrix with exact entries instead of float64.

    Examples
    --------
    >>> helmert_basis(2, exact=True)
    Matrix([[sqrt(2)/2, -sqrt(2)/2]])
    """
    K = check_int("K", K, 2)
    if exact:
        return sp.Matrix(
            K - 1,
            K,
            lambda r, i: (
                (1 if i < r + 1 else -(r + 1) if i == r + 1 else 0) / sp.sqrt((r + 1) * (r + 2))
            ),
        )
    j = np.arange(1, K)[:, None]
    i = np.arange(K)[None, :]
    E = np.where(i < j, 1.0, np.where(i == j, -j.astype(float), 0.0))
    return E / np.sqrt(j * (j + 1.0))


def random_rotation(d: int, seed) -> np.ndarray:
    """A Haar-distributed d x d orthogonal matrix from ``numpy.random.default_rng(seed)``.

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q (Mezzadri 2007), which makes
    the distribution exactly Haar.
    """
    d = check_int("d", d, 1)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


def _finish(M: Frame, d: int, exact: bool, seed) -> Frame:
    """Pad a frame with zero rows to dimension d, then rotate it (float only)."""
    rows = M.shape[0]
    if exact:
        if seed is not None:
            raise InvalidParameter(
                "seed (a random rotation) applies only to float frames, got exact=True"
            )
        return M.col_join(sp.zeros(d - rows, M.shape[1])) if d > rows else M
    M = np.vstack([M, np.zeros((d - rows, M.shape[1]))])
    return M if seed is None else random_rotation(d, seed) @ M


def simplex_etf(K: int, d: int | None = None, *, exact: bool = False, seed=None) -> Frame:
    r"""A d x K simplex equiangular tight frame: unit columns, :math:`M^\top M = \frac{K}{K-1}P`.

    For d = K - 1 the columns are :math:`\sqrt{K/(K-1)}` times the columns of the Helmert basis E
    (:func:`helmert_basis`); for d >= K they are :math:`\sqrt{K/(K-1)}\,(e_k - \mathbf 1/K)` padded
    with zero rows. Both have exactly the Gram matrix above, since :math:`E^\top E = P = P^\top P`.

    Parameters
    ----------
    K : int
        Number of classes, K >= 2.
    d : int, optional
        Dimension, d >= K - 1 (default K).
    exact : bool
        Return a sympy Matrix with exact entries.
    seed : int or numpy Generator, optional
        Rotate by :func:`random_rotation` (float frames only).

    Returns
    -------
    ndarray or sympy.Matrix, shape (d, K)

    Raises
    ------
    InvalidParameter
        K < 2, d < K - 1, or a seed with ``exact=True``.

    Examples
    --------
    >>> simplex_etf(3, 2, exact=True)
    Matrix([
    [sqrt(3)/2, -sqrt(3)/2,  0],
    [      1/2,        1/2, -1]])
    """
    K, d = _check_dims(K, d, lambda K: K - 1, "a simplex ETF of K unit vectors")
    scale = sp.sqrt(sp.Rational(K, K - 1)) if exact else np.sqrt(K / (K - 1))
    if d == K - 1:
        M = scale * helmert_basis(K, exact=exact)
    else:
        P = sp.eye(K) - sp.ones(K, K) / K if exact else np.eye(K) - 1.0 / K
        M = scale * P
    return _finish(M, d, exact, seed)


def orthogonal_frame(K: int, d: int | None = None, *, exact: bool = False, seed=None) -> Frame:
    r"""A d x K frame with orthonormal columns, :math:`M^\top M = I_K` (d >= K; default d = K).

    The first K standard basis vectors, optionally rotated by :func:`random_rotation` (float only).

    Raises
    ------
    InvalidParameter
        K < 2, d < K, or a seed with ``exact=True``.
    """
    K, d = _check_dims(K, d, lambda K: K, "an orthogonal frame of K vectors")
    return _finish(sp.eye(K) if exact else np.eye(K), d, exact, seed)


def etf_gram(K: int, *, exact: bool = True) -> Frame:
    r"""The K x K Gram matrix of a unit simplex ETF.

    .. math:: G = \frac{K}{K-1}\bigl(I - \frac1K J\bigr)

    ``exact=True`` (default) returns a sympy Matrix with rational entries, else float64.

    Examples
    --------
    >>> etf_gram(3)
    Matrix([
    [   1, -1/2, -1/2],
    [-1/2,    1, -1/2],
    [-1/2, -1/2,    1]])
    """
    K = check_int("K", K, 2)
    if exact:
        return sp.Matrix(K, K, lambda i, j: 1 if i == j else sp.Rational(-1, K - 1))
    return (K / (K - 1)) * (np.eye(K) - 1.0 / K)


def etf_cosine(K) -> sp.Expr:
    r"""The common pairwise cosine :math:`-1/(K-1)` of a simplex ETF (sympy; K may be a symbol)."""
    return -sp.Integer(1) / (sp.sympify(K) - 1)


def etf_max_min_angle(K) -> sp.Expr:
    r"""The largest possible minimal pairwise angle among K unit vectors, :math:`\arccos(-1/(K-1))`.

    Any K unit vectors satisfy :math:`0 \le \|\sum_k m_k\|^2 = K + \sum_{i\ne j}\cos\theta_{ij}`,
    so the mean, hence the largest, pairwise cosine is at least :math:`-1/(K-1)`; the simplex ETF
    attains it with equality in every pair (``proofs/etf.py``).
    """
    return sp.acos(etf_cosine(K))


def gram(M: Frame) -> Frame:
    """:math:`M^\\top M` (K x K), exact for a sympy frame."""
    return M.T * M if isinstance(M, sp.MatrixBase) else np.asarray(M).T @ np.asarray(M)


#: Decimal digits for the exact-zero test's numeric screen: a sum of a few radicals of rationals
#: with small denominators that is not zero is far larger than the screen's threshold
#: 10**-(_SCREEN_DIGITS // 2).
_SCREEN_DIGITS = 40


def _exact_zero(e: sp.Expr) -> bool:
    """Exact verdict ``e == 0``.

    Expansion settles sums of radicals (sympy keeps them canonical); a high-precision numeric screen
    proves a number nonzero; only the rest goes to ``simplify``.
    """
    e = sp.expand(e)
    if e == 0:
        return True
    if e.is_number and abs(e.evalf(_SCREEN_DIGITS)) > sp.Float(10) ** (-_SCREEN_DIGITS // 2):
        return False
    return sp.simplify(e) == 0


def _is_zero(expr: Frame) -> bool:
    """Exact (sympy) or float (within FLOAT) verdict that an array or matrix vanishes."""
    if isinstance(expr, sp.MatrixBase):
        return all(_exact_zero(e) for e in expr)
    return relative_deviation(expr, 0.0) <= FLOAT


def _frame(M) -> Frame:
    if isinstance(M, sp.MatrixBase):
        if M.cols < 2:
            raise InvalidParameter(f"a frame needs K >= 2 columns, got {M.cols}")
        return M
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[1] < 2 or not np.all(np.isfinite(M)):
        raise InvalidParameter(
            f"a frame must be a finite d x K array with K >= 2, got shape {M.shape}"
        )
    return M


def _diag(G: Frame) -> Frame:
    return (
        sp.Matrix([G[k, k] for k in range(G.shape[0])])
        if isinstance(G, sp.MatrixBase)
        else np.diag(G)
    )


def is_unit_norm(M: Frame) -> bool:
    """Every column of M has norm 1 (exact for sympy input)."""
    G = gram(_frame(M))
    return _is_zero(_diag(G) - (sp.ones(G.shape[0], 1) if isinstance(G, sp.MatrixBase) else 1.0))


def is_equinorm(M: Frame) -> bool:
    """All columns of M have the same norm (exact for sympy input)."""
    diag = _diag(gram(_frame(M)))
    return _is_zero(
        diag - diag[0] * (sp.ones(len(diag), 1) if isinstance(diag, sp.MatrixBase) else 1.0)
    )


def has_etf_gram(M: Frame) -> bool:
    r""":math:`M^\top M = \frac{K}{K-1}(I - J/K)` (unit simplex ETF), exact for sympy input."""
    M = _frame(M)
    exact = isinstance(M, sp.MatrixBase)
    return _is_zero(gram(M) - etf_gram(M.shape[1], exact=exact))


def has_equal_cosines(M: Frame, cosine=None) -> bool:
    r"""Every pair of distinct columns has cosine ``cosine`` (default :math:`-1/(K-1)`).

    Cosines are compared in the form :math:`\langle m_i, m_j\rangle - c\,\|m_i\|\|m_j\| = 0`, which
    is exact for sympy input. Zero columns make the cosine undefined, so the verdict is False.
    """
    M = _frame(M)
    K = M.shape[1]
    c = etf_cosine(K) if cosine is None else cosine
    G = gram(M)
    if isinstance(G, sp.MatrixBase):
        norms = [sp.sqrt(G[k, k]) for k in range(K)]
        if any(_exact_zero(v) for v in norms):
            return False
        off = sp.Matrix(
            [G[i, j] - c * norms[i] * norms[j] for i in range(K) for j in range(K) if i != j]
        )
        return _is_zero(off)
    norms = np.sqrt(np.diag(G))
    if np.any(norms <= FLOAT * max(1.0, norms.max())):
        return False
    cos = G / np.outer(norms, norms)
    return _is_zero(cos[~np.eye(K, dtype=bool)] - float(c))


def is_centered(M: Frame) -> bool:
    r""":math:`M\mathbf 1 = 0`: the columns sum to zero (exact for sympy input)."""
    M = _frame(M)
    return _is_zero(M * sp.ones(M.cols, 1) if isinstance(M, sp.MatrixBase) else M.sum(axis=1))


def frame_rank(M: Frame) -> int:
    """Rank of M: exact for sympy input, else numerical rank with relative cut FLOAT * K."""
    M = _frame(M)
    if isinstance(M, sp.MatrixBase):
        # rank M = rank M^T M; the Gram of a radical frame is usually rational, where elimination
        # over the field QQ is exact and fast (general symbolic elimination is not).
        G = gram(M).applyfunc(sp.expand)
        if all(e.is_Rational for e in G):
            return DomainMatrix.from_Matrix(G).convert_to(QQ).rank()
        return M.rank(simplify=True)
    s = np.linalg.svd(M, compute_uv=False)
    return int(np.sum(s > FLOAT * M.shape[1] * max(s[0], 1.0)))


def min_pairwise_angle(M: Frame) -> sp.Expr | float:
    """Smallest angle between two distinct columns (radians; sympy expression for sympy input)."""
    M = _frame(M)
    G = gram(M)
    K = M.shape[1]
    if isinstance(G, sp.MatrixBase):
        cosines = [
            sp.radsimp(G[i, j] / sp.sqrt(G[i, i] * G[j, j])) for i in range(K) for j in range(i)
        ]
        return sp.acos(sp.Max(*cosines))
    norms = np.sqrt(np.diag(G))
    cos = (G / np.outer(norms, norms))[np.tril_indices(K, -1)]
    return float(np.arccos(np.clip(cos.max(), -1.0, 1.0)))


def is_simplex_etf(M: Frame) -> dict[str, bool]:
    """All the defining identities of a unit simplex ETF, each with its own verdict.

    Returns
    -------
    dict
        ``unit_norm``, ``equinorm``, ``gram`` (:func:`has_etf_gram`), ``equal_cosines``,
        ``centered``, ``rank`` (rank == K - 1) and ``max_min_angle`` (the minimal pairwise angle
        equals :func:`etf_max_min_angle`).
    """
    M = _frame(M)
    K = M.shape[1]
    angle = min_pairwise_angle(M)
    if isinstance(M, sp.MatrixBase):
        angle_ok = _exact_zero(sp.cos(angle) - etf_cosine(K))
    else:
        angle_ok = relative_deviation(angle, float(etf_max_min_angle(K))) <= FLOAT**0.5
    return {
        "unit_norm": is_unit_norm(M),
        "equinorm": is_equinorm(M),
        "gram": has_etf_gram(M),
        "equal_cosines": has_equal_cosines(M),
        "centered": is_centered(M),
        "rank": frame_rank(M) == K - 1,
        "max_min_angle": bool(angle_ok),
    }


@dataclass(frozen=True, eq=False)
class SELI:
    r"""The SELI geometry for given class sizes (see :func:`seli`).

    Attributes
    ----------
    class_sizes : tuple of int
    Z_hat : ndarray, (K, N)
        Simplex-encoded labels :math:`\hat Z = (I - J/K)Y`.
    Z_class : ndarray, (K, K)
        Its per-class form :math:`P = I - J/K` (column k is every column of class k).
    U, singular_values, V : ndarray, (K, K-1), (K-1,), (N, K-1)
        Thin SVD :math:`\hat Z = U\,\mathrm{diag}(\sigma)\,V^\top` (rank K - 1).
    W : ndarray, (K, K-1)
        :math:`U\Lambda^{1/2}`.
    H : ndarray, (K-1, N)
        :math:`\Lambda^{1/2}V^\top`; the columns of a class coincide.
    M : ndarray, (K-1, K)
        Class means (= any feature of the class).
    W_gram : ndarray, (K, K)
        :math:`WW^\top = (\hat Z\hat Z^\top)^{1/2} = (P D P)^{1/2}`, D = diag(n_k).
    M_gram : ndarray, (K, K)
        :math:`M^\top M = D^{-1/2}(D^{1/2} P D^{1/2})^{1/2} D^{-1/2}` (per-class form of
        :math:`H^\top H = (\hat Z^\top \hat Z)^{1/2}`).
    """

    __repr__ = short_repr

    class_sizes: tuple[int, ...]
    Z_hat: np.ndarray
    Z_class: np.ndarray
    U: np.ndarray
    singular_values: np.ndarray
    V: np.ndarray
    W: np.ndarray
    H: np.ndarray
    M: np.ndarray
    W_gram: np.ndarray
    M_gram: np.ndarray

    @property
    def K(self) -> int:
        return len(self.class_sizes)

    @property
    def N(self) -> int:
        return sum(self.class_sizes)

    @property
    def labels(self) -> np.ndarray:
        return np.repeat(np.arange(self.K), self.class_sizes)

    def realize(self, d: int, seed=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(W, H, M) embedded in R^d, d >= K - 1 (zero padding), optionally randomly rotated."""
        d = check_int("d", d, 1)
        if d < self.K - 1:
            raise InvalidParameter(
                f"SELI has rank K-1={self.K - 1}, so it needs d >= {self.K - 1}, got d={d}"
            )
        # The first K - 1 columns of a rotation: an isometric embedding of R^{K-1} into R^d.
        lift = (np.eye(d) if seed is None else random_rotation(d, seed))[:, : self.K - 1]
        return self.W @ lift.T, lift @ self.H, lift @ self.M


def seli(class_sizes) -> SELI:
    r"""The SELI geometry (Thrampoulidis et al. 2022 [4]_) of the simplex-encoded label matrix.

    .. math:: \hat Z = \Bigl(I_K - \frac1K\mathbf 1\mathbf 1^\top\Bigr)Y = U\Lambda V^\top,\qquad
              W = U\Lambda^{1/2},\quad H = \Lambda^{1/2}V^\top,

    with Y the K x N one-hot label matrix of ``class_sizes`` (columns grouped by class). Since
    :math:`D^{-1/2}Y` has orthonormal rows (D = diag(n_k)), the SVD comes from the K x K matrix
    :math:`PD^{1/2} = U\Lambda\tilde V^\top` with :math:`V^\top = \tilde V^\top D^{-1/2} Y` (derived
    here). Hence :math:`WW^\top = (PDP)^{1/2}` and the class-mean Gram
    :math:`M^\top M = D^{-1/2}(D^{1/2}PD^{1/2})^{1/2}D^{-1/2}`. For balanced sizes n,
    :math:`PDP = nP` and :math:`(PDP)^{1/2} = \sqrt n P`: both Grams are multiples of the simplex
    ETF Gram (:func:`etf_gram`).

    Parameters
    ----------
    class_sizes : sequence of int
        n_1..n_K, K >= 2, each >= 1.

    Returns
    -------
    SELI

    Raises
    ------
    InvalidParameter
        Fewer than two classes or an empty class.
    """
    sizes = _class_sizes(class_sizes)
    K = len(sizes)
    labels = np.repeat(np.arange(K), sizes)
    Y = np.zeros((K, len(labels)))
    Y[labels, np.arange(len(labels))] = 1.0
    U, s, Vt_class, W, M = _seli_parts(sizes)
    Vt = (Vt_class / np.sqrt(np.asarray(sizes, dtype=float))) @ Y
    return SELI(
        class_sizes=sizes,
        Z_hat=(np.eye(K) - 1.0 / K) @ Y,
        Z_class=np.eye(K) - 1.0 / K,
        U=U,
        singular_values=s,
        V=Vt.T,
        W=W,
        H=M[:, labels],
        M=M,
        W_gram=W @ W.T,
        M_gram=M.T @ M,
    )


def _class_sizes(class_sizes) -> tuple[int, ...]:
    if isinstance(class_sizes, str | bytes) or not hasattr(class_sizes, "__len__"):
        raise InvalidParameter(f"class_sizes must be a sequence of integers, got {class_sizes!r}")
    if len(class_sizes) < 2:
        raise InvalidParameter(f"class_sizes must have K >= 2 entries, got {len(class_sizes)}")
    return tuple(check_int(f"class_sizes[{k}]", s, 1) for k, s in enumerate(class_sizes))


def _seli_parts(sizes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Thin SVD (U, s, V~^T) of :math:`PD^{1/2}` (K x K) without its zero pair, then W and M."""
    K = len(sizes)
    root_n = np.sqrt(np.asarray(sizes, dtype=float))
    U, s, Vt_class = np.linalg.svd((np.eye(K) - 1.0 / K) * root_n)
    # P D^{1/2} has rank K - 1 exactly (its kernel is spanned by D^{-1/2} 1): drop the zero pair
    U, s, Vt_class = U[:, : K - 1], s[: K - 1], Vt_class[: K - 1]
    return U, s, Vt_class, U * np.sqrt(s), np.sqrt(s)[:, None] * Vt_class / root_n


def seli_class_factors(class_sizes) -> tuple[np.ndarray, np.ndarray]:
    r"""The SELI classifier and class means from K x K algebra alone (no N-column label matrix).

    .. math:: PD^{1/2} = U\Lambda\tilde V^\top,\qquad W = U\Lambda^{1/2},\qquad
              M = \Lambda^{1/2}\tilde V^\top D^{-1/2}

    (D = diag(n_k), P = I - J/K), the factors of :func:`seli` at the cost of one K x K SVD, so the
    SELI of N = 10^6 samples costs no more than that of K. The class means sum to zero,
    :math:`M\mathbf 1 = \Lambda^{1/2}\tilde V^\top D^{-1/2}\mathbf 1 = 0`, because
    :math:`D^{-1/2}\mathbf 1` spans the kernel of :math:`PD^{1/2}` (derived here): SELI is centred
    at the *unweighted* mean of its class means. :math:`WM = U\Lambda\tilde V^\top D^{-1/2} = P`.

    Parameters
    ----------
    class_sizes : sequence of int
        n_1..n_K, K >= 2, each >= 1.

    Returns
    -------
    W : ndarray, shape (K, K-1)
    M : ndarray, shape (K-1, K)

    Raises
    ------
    InvalidParameter
        Fewer than two classes or an empty class.

    Examples
    --------
    >>> W, M = seli_class_factors([5, 5, 1])
    >>> bool(np.allclose(W @ M, np.eye(3) - 1 / 3)) and bool(np.allclose(M.sum(axis=1), 0))
    True
    """
    W, M = _seli_parts(_class_sizes(class_sizes))[3:]
    return W, M
