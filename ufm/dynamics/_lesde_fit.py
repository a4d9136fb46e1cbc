r"""Fitting the elasticities of the linear LE-SDE to class-mean snapshots.

The linear drift of :mod:`ufm.dynamics._lesde_model` moves the class means :math:`M(t)` (d x K)
in two decoupled families of modes whose log-growths are linear in :math:`A(t) = \int_0^t\alpha`
and :math:`B(t) = \int_0^t\beta`:

* ``I`` model: the common mode :math:`\bar m = \frac1K\sum_c m_c` grows like
  :math:`e^{(A + (K-1)B)/K}`, the contrasts :math:`m_c - \bar m` like :math:`e^{(A - B)/K}`;
* ``L`` model (first K coordinates, the logits; :math:`u_c = e_c - \mathbf 1/K`): with
  :math:`s_c = u_c^\top m_c`, the simplex mode :math:`\bar s = \frac1K\sum_c s_c` grows like
  :math:`e^{(A - B)/K}` and the zero-sum mode :math:`s - \bar s\mathbf 1` like
  :math:`e^{(A + B/(K-1))/K}`.

What follows the authors' code, what is derived here
----------------------------------------------------
The inversion follows ``estimate_AB_I`` and ``estimate_AB_L`` of ``src/data_analyzer.py`` in the
authors' repository [2]_ (read for this module): ``estimate_AB_I`` measures
:math:`e^{-B}` as the growth of a class mean's deviation over the growth of the global mean and
:math:`e^{A}` as the growth of the global mean times the (K-1)-th power of the deviation's growth,
i.e. :math:`A = g_1 + (K-1)g_2,\ B = g_1 - g_2` with :math:`g_1, g_2` the common and contrast
log-growths; ``estimate_AB_L`` (written for K = 3) measures :math:`A - B = K g_1` along the
simplex direction and :math:`A + B/(K-1) = K g_2` along one contrast direction and returns
:math:`\hat A = (Kg_1 + (K-1)Kg_2)/K`, :math:`\hat B = (Kg_2 - Kg_1)(K-1)/K`. Both are the same
linear map applied here:

.. math:: \text{I: } \alpha = \lambda_1 + (K-1)\lambda_2,\ \ \beta = \lambda_1 - \lambda_2;
          \qquad \text{L: } \alpha = \lambda_1 + (K-1)\lambda_2,\ \
          \beta = (K-1)(\lambda_2 - \lambda_1),

with :math:`\lambda_1, \lambda_2` the rates of the first and second mode above. Conventions
converted (derived here):

* the authors take log-ratios coordinate by coordinate and average them (``nanmean`` of
  ``log|.|``); here each mode vector :math:`y(t)` gets the least-squares growth factor
  :math:`\phi(t) = \langle y(t), y(0)\rangle/\|y(0)\|^2` and :math:`g(t) = \log|\phi(t)|`:
  identical for noiseless data, and no division by a single coordinate near zero; the distance
  :math:`\|y(t) - \phi(t)y(0)\|/\|y(t)\|` (0 for a pure scaling) is reported as the direction
  residual;
* ``estimate_AB_L`` builds its two directions from fixed index sums of the 3 x 3 logit matrix; here
  the modes are formed from :math:`s_c = u_c^\top m_c` for any K (the coordinates :math:`\Pi_c`
  removes, which the L drift neither reads nor drives, are left out);
* the authors return :math:`\hat A, \hat B` per iteration (their Euler step is 1); here the
  snapshot times are the model's time :math:`t = \eta\cdot\text{steps}` (pass
  ``times = lr * iterations``), and the rates are fitted by least squares on the log-growths with
  :math:`\alpha, \beta` piecewise constant on time windows: with :math:`D_{rj} = |[t_0, t_r]\cap
  [e_j, e_{j+1}]|`, :math:`\min_\lambda\|g - D\lambda\|_2` for each mode (an exact fit when the data
  follow the model). :math:`A(t_r), B(t_r)` at every snapshot (the authors' :math:`\hat A,
  \hat B`) are returned as well.

References
----------
.. [1] Zhang, Wang & Su (2021), "Imitating deep learning dynamics via locally elastic stochastic
   differential equations", NeurIPS 34.
.. [2] github.com/zjiayao/le_sde, ``src/data_analyzer.py`` (``estimate_AB_I``,
   ``estimate_AB_L``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._repr import short_repr
from .._validation import check_choice, check_int, check_labels
from ..errors import InvalidFile, InvalidParameter
from ..tolerances import LESDE_FIT_ZERO_MODE
from . import _lesde_model as mdl

__all__ = ["fit_lesde", "LESDEFit", "load_snapshots"]

#: The two mode families per model, in the order of the rates lambda_1, lambda_2.
MODE_NAMES = {"I": ("common", "contrast"), "L": ("simplex", "zero-sum")}


@dataclass(frozen=True, eq=False)
class LESDEFit:
    r"""Elasticities fitted to class-mean snapshots (:func:`fit_lesde`).

    Attributes
    ----------
    model : {'I', 'L'}
    times : ndarray, shape (R,)
        Snapshot times.
    edges : ndarray, shape (J + 1,)
        Window edges; :math:`\alpha, \beta` are constant on each window.
    alpha, beta : ndarray, shape (J,)
        Fitted :math:`\alpha_j, \beta_j`.
    A, B : ndarray, shape (R,)
        :math:`A(t_r) = \int_{t_0}^{t_r}\alpha`, :math:`B(t_r)` measured snapshot by snapshot from
        the log-growths (the authors' :math:`\hat A, \hat B`).
    log_growth : ndarray, shape (R, 2)
        :math:`g(t_r)` of the two modes (:data:`MODE_NAMES`).
    fitted_log_growth : ndarray, shape (R, 2)
        :math:`D\lambda`, the log-growths of the fitted piecewise-constant rates.
    residual : float
        Root-mean-square of :math:`g - D\lambda` over snapshots and both modes (natural log).
    direction_residual : ndarray, shape (R, 2)
        :math:`\|y(t_r) - \phi(t_r)y(0)\|/\|y(t_r)\|` of each mode.
    """

    __repr__ = short_repr

    model: str
    times: np.ndarray = field(repr=False)
    edges: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    A: np.ndarray = field(repr=False)
    B: np.ndarray = field(repr=False)
    log_growth: np.ndarray = field(repr=False)
    fitted_log_growth: np.ndarray = field(repr=False)
    residual: float
    direction_residual: np.ndarray = field(repr=False)

    @property
    def mode_names(self) -> tuple[str, str]:
        return MODE_NAMES[self.model]


def elasticities(model: str, K: int, rate1, rate2):
    r"""(:math:`\alpha, \beta`) from the two mode rates (or :math:`(A, B)` from two log-growths):
    the linear map of the module docstring (the authors' :math:`\hat A, \hat B`)."""
    alpha = rate1 + (K - 1) * rate2
    beta = rate1 - rate2 if model == "I" else (K - 1) * (rate2 - rate1)
    return alpha, beta


def class_means(snapshots: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """Class means (R, d, K) of snapshots (R, d, N) with labels, or the snapshots themselves."""
    snapshots = np.asarray(snapshots)
    if snapshots.ndim != 3 or not np.issubdtype(snapshots.dtype, np.number):
        raise InvalidParameter(
            f"snapshots must be a real array of shape (R, d, N) or (R, d, K), got shape "
            f"{snapshots.shape} and dtype {snapshots.dtype}"
        )
    if np.iscomplexobj(snapshots) or not np.all(np.isfinite(snapshots)):
        raise InvalidParameter("snapshots must be finite real numbers, got a non-finite entry")
    snapshots = snapshots.astype(float)
    if labels is None:
        return snapshots
    labels = np.asarray(labels)
    if labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise InvalidParameter(
            f"labels must be a non-empty integer array, got dtype {labels.dtype}, "
            f"size {labels.size}"
        )
    K = int(labels.max()) + 1
    labels = check_labels(labels, snapshots.shape[2], K)
    counts = np.bincount(labels, minlength=K)
    onehot = (labels[:, None] == np.arange(K)[None, :]) / counts
    return snapshots @ onehot


def mode_vectors(model: str, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two mode families of class means M (R, d, K), flattened per snapshot: (R, ·) each."""
    R, d, K = M.shape
    if model == "I":
        common = M.mean(axis=2)
        return common, (M - common[:, :, None]).reshape(R, -1)
    logits = M[:, :K, :]
    s = np.einsum("rcc->rc", logits) - logits.mean(axis=1)
    simplex = s.mean(axis=1, keepdims=True)
    return simplex, s - simplex


def _windows(times: np.ndarray, windows) -> np.ndarray:
    t0, t1 = float(times[0]), float(times[-1])
    if np.ndim(windows) == 0:
        J = check_int("windows", windows, 1)
        return np.linspace(t0, t1, J + 1)
    edges = np.asarray(windows, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)):
        raise InvalidParameter(f"windows must be an integer >= 1 or >= 2 finite edges, got {edges}")
    if not (np.all(np.diff(edges) > 0) and edges[0] == t0 and edges[-1] == t1):
        raise InvalidParameter(
            f"window edges must increase strictly from the first time {t0:g} to the last {t1:g}, "
            f"got {edges.tolist()}"
        )
    return edges


def fit_lesde(
    snapshots: np.ndarray,
    labels: np.ndarray | None = None,
    times: np.ndarray | None = None,
    *,
    model: str = "I",
    windows=1,
) -> LESDEFit:
    r"""Fit :math:`\alpha(t), \beta(t)` of the linear LE-SDE to a sequence of feature snapshots.

    Least squares on the log-growth of the two mode families (module docstring):

    .. math:: g_m(t_r) = \log\Big|\frac{\langle y_m(t_r), y_m(t_0)\rangle}{\|y_m(t_0)\|^2}\Big|,
              \qquad \min_{\lambda_m\in\mathbb R^J}\|g_m - D\lambda_m\|_2,
              \qquad D_{rj} = |[t_0, t_r]\cap[e_j, e_{j+1}]|,

    then :math:`(\alpha_j, \beta_j)` from :math:`(\lambda_{1j}, \lambda_{2j})` by the authors'
    inversion (I: :math:`\alpha = \lambda_1 + (K-1)\lambda_2`, :math:`\beta = \lambda_1 -
    \lambda_2`; L: :math:`\alpha = \lambda_1 + (K-1)\lambda_2`, :math:`\beta = (K-1)(\lambda_2 -
    \lambda_1)`). The noise of the SDE enters only through the data: the fit is exact for
    noiseless paths of the ODE, and with noise :math:`\sigma` the error of a rate is of order
    the noise-to-signal ratio of its mode divided by the window length.

    Parameters
    ----------
    snapshots : ndarray, shape (R, d, N) or (R, d, K)
        Features of N samples at R >= 2 times (with ``labels``), or class means (without).
    labels : ndarray of int, shape (N,), optional
        Class of every sample, 0..K-1, no class empty.
    times : ndarray, shape (R,), optional
        Strictly increasing snapshot times, in the model's time :math:`t = \eta\cdot` steps
        (default 0, 1, ..., R-1: rates per snapshot interval, the authors' convention).
    model : {'I', 'L'}
        L needs d >= K (the first K coordinates are the logits).
    windows : int or sequence of float
        Number of equal time windows (1: constant :math:`\alpha, \beta`) or their edges from
        ``times[0]`` to ``times[-1]``; every window (e_j, e_j+1] must hold a snapshot time.

    Returns
    -------
    LESDEFit

    Raises
    ------
    InvalidParameter
        Bad shapes, non-finite values, K < 2, a mode that is zero at the first snapshot (its
        growth is undefined), or a window holding no snapshot.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 2.0, 5)
    >>> M0 = np.array([[1.0, -0.5, 0.2], [0.3, 0.4, -0.1]]) + 1.0
    >>> g1, g2 = (2.0 + 2 * 0.5) / 3, (2.0 - 0.5) / 3
    >>> mean = M0.mean(axis=1, keepdims=True)
    >>> M = np.stack([np.exp(g1 * s) * mean + np.exp(g2 * s) * (M0 - mean) for s in t])
    >>> fit = fit_lesde(M, times=t)
    >>> round(float(fit.alpha[0]), 9), round(float(fit.beta[0]), 9)
    (2.0, 0.5)
    """
    model = check_choice("model", model, mdl.MODELS)
    M = class_means(snapshots, labels)
    R, d, K = M.shape
    if R < 2 or K < 2:
        raise InvalidParameter(
            f"fitting needs R >= 2 snapshots of K >= 2 classes, got R={R}, K={K}"
        )
    mdl.check_model(model, K, d)
    times = np.arange(R, dtype=float) if times is None else np.asarray(times, dtype=float)
    if times.shape != (R,) or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise InvalidParameter(
            f"times must be {R} finite, strictly increasing values, got shape {times.shape}"
        )
    edges = _windows(times, windows)
    D = np.clip(np.minimum(times[:, None], edges[None, 1:]) - edges[None, :-1], 0.0, None)
    inside = (times[:, None] > edges[None, :-1]) & (times[:, None] <= edges[None, 1:])
    empty = np.flatnonzero(~inside.any(axis=0)).tolist()
    if empty:
        # a snapshot in every window makes D triangular with a nonzero diagonal: full column rank
        raise InvalidParameter(
            f"windows {empty} hold no snapshot time (e_j, e_j+1]: use fewer windows or more "
            "snapshots"
        )
    growth, misfit = np.empty((R, 2)), np.empty((R, 2))
    for m, (name, y) in enumerate(zip(MODE_NAMES[model], mode_vectors(model, M), strict=True)):
        y0 = y[0]
        norm0 = float(y0 @ y0)
        if math.sqrt(norm0) <= LESDE_FIT_ZERO_MODE * np.linalg.norm(M[0]):
            raise InvalidParameter(
                f"the {name} mode is zero at the first snapshot: its growth is undefined (for "
                "the I model do not centre the features)"
            )
        phi = y @ y0 / norm0
        with np.errstate(divide="ignore"):
            growth[:, m] = np.log(np.abs(phi))
        if not np.all(np.isfinite(growth[:, m])):
            raise InvalidParameter(f"the {name} mode vanishes at a snapshot: log-growth undefined")
        size = np.linalg.norm(y, axis=1)
        residual = np.linalg.norm(y - phi[:, None] * y0, axis=1)
        misfit[:, m] = np.divide(residual, size, out=np.zeros(R), where=size > 0)
    rates = np.linalg.lstsq(D, growth, rcond=None)[0]
    fitted = D @ rates
    alpha, beta = elasticities(model, K, rates[:, 0], rates[:, 1])
    A, B = elasticities(model, K, growth[:, 0], growth[:, 1])
    rms = math.sqrt(float(np.mean((growth - fitted) ** 2)))
    return LESDEFit(model, times, edges, alpha, beta, A, B, growth, fitted, rms, misfit)


#: The entries of a snapshots file (:func:`load_snapshots`, ``ufm lesde fit``); only the first is
#: required.
SNAPSHOT_ENTRIES = ("snapshots", "labels", "times")


def load_snapshots(path, *, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    r"""The arrays of a snapshots ``.npz`` file, as keyword arguments of :func:`fit_lesde`.

    Entries (plain ``np.savez`` arrays, no pickle): ``snapshots`` (R, d, N) features of N samples
    at R times, or (R, d, K) class means; ``labels`` (N,) integers 0..K-1 (omit for class means);
    ``times`` (R,) strictly increasing, :math:`t = \eta\cdot` steps (omit for 0..R-1).

    Raises
    ------
    InvalidFile
        Unreadable file (:func:`ufm.io.read_arrays`), no ``snapshots`` entry, or an entry that is
        not one of :data:`SNAPSHOT_ENTRIES`.
    """
    from ..io import read_arrays

    arrays = read_arrays(path, "a snapshots .npz file", max_bytes=max_bytes)
    unknown = sorted(set(arrays) - set(SNAPSHOT_ENTRIES))
    if "snapshots" not in arrays or unknown:
        raise InvalidFile(
            f"{str(path)!r}: a snapshots file holds 'snapshots' and optionally 'labels', 'times'; "
            f"got entries {sorted(arrays)}"
        )
    return arrays
