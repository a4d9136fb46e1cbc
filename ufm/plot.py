r"""Figures of Neural Collapse: each function takes library results and returns a matplotlib Figure.

* :func:`plot_frame` - the columns of a frame M (d x K, d <= 3) as arrows: simplex ETF (triangle,
  tetrahedron), orthogonal frame, SELI, optionally with the classifier rows beside them;
* :func:`plot_grams` - Gram matrices side by side as annotated heat maps;
* :func:`plot_minimizer_scale` - norms and value of closed-form minimizers
  (:func:`ufm.minimizers.global_minimizer`) against :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}`,
  with the zero-solution threshold :math:`\kappa = 1`;
* :func:`plot_descent` - objective gap, gradient norm and NC metrics of gradient descent
  (:func:`ufm.dynamics.gradient_descent`) against the step, on log-log axes;
* :func:`plot_feature_snapshots` - a strip of 2-D feature clouds (and classifier rows) collapsing;
* :func:`plot_minority_sweep` - Minority Collapse against the imbalance ratio
  (:func:`ufm.relaxations.minority_collapse_sweep`);
* :func:`plot_lesde` - separability probability and NC1 of the LE-SDE against time
  (:func:`ufm.dynamics.simulate_lesde`);
* :func:`plot_separability_transition` - separability against the elasticity ratio
  :math:`\alpha/\beta` (the LE-SDE phase transition);
* :func:`plot_lesde_fit` - elasticities fitted to snapshots (:func:`ufm.dynamics.fit_lesde`) and
  the fit's residual;
* :func:`plot_measurement` - a measured network's class means against the UFM's prediction
  (:func:`ufm.measure.measure` with ``compare_ufm``) and its per-class variances;
* :func:`save` - write a figure as PNG, PDF or SVG atomically (:func:`ufm.io.atomic_write`)
  and close it.

Notation as everywhere in ``ufm``: K classes, feature dimension d, W is K x d (row k is the
classifier :math:`w_k`), H is d x N (columns grouped by class), M is d x K (class means).

matplotlib is imported inside the functions, so ``import ufm`` stays fast. Without a display (no
``DISPLAY``/``WAYLAND_DISPLAY`` and no ``MPLBACKEND`` chosen, e.g. by a Jupyter kernel) the Agg
backend is selected, so figures render headless (CLI, CI). Every figure has labelled axes, a legend
where more than one series is drawn, a title stating its parameters, and log axes where a rate is
shown.

Length: one concern (figures); the functions share the backend choice, the atomic save, the
log-axis and colour helpers and the title conventions above, which would otherwise be repeated in
every family's module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._validation import check_labels, check_matrix
from .errors import InvalidParameter
from .io import atomic_write, check_writable

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "save",
    "plot_frame",
    "plot_grams",
    "plot_minimizer_scale",
    "plot_descent",
    "plot_feature_snapshots",
    "plot_minority_sweep",
    "plot_lesde",
    "plot_separability_transition",
    "plot_lesde_fit",
]

#: Resolution of saved PNGs: at the default figure sizes (5-12 inches wide) text stays sharp.
_DPI = 120

#: The figure formats :func:`save` writes, chosen by the file's suffix.
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")

#: Readable names of the NC metrics drawn by :func:`plot_descent` and :func:`plot_lesde`.
_METRIC_LABELS = {
    "nc1": r"NC1  $\mathrm{tr}(\Sigma_W\Sigma_B^+)/K$",
    "nc1_trace_ratio": r"NC1  $\mathrm{tr}\,\Sigma_W/\mathrm{tr}\,\Sigma_B$",
    "etf_distance_classifiers": "NC2  W: distance to ETF Gram",
    "of_distance_classifiers": "NC2  W: distance to orthogonal-frame Gram",
    "etf_distance_means": "NC2  M: distance to ETF Gram",
    "of_distance_means": "NC2  M: distance to orthogonal-frame Gram",
    "nc3_zhu": "NC3  W M vs ETF Gram (Zhu)",
    "nc3_papyan": "NC3  W vs M (Papyan)",
}


def _pyplot():
    """matplotlib.pyplot, on the Agg backend when there is no display and no chosen backend."""
    import matplotlib

    headless = not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"))
    # macOS and Windows have a display without DISPLAY; pyplot already imported has its backend.
    if headless and sys.platform.startswith("linux") and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Figure, path, *, dpi: int = _DPI) -> Path:
    """Write ``fig`` to ``path`` (PNG, PDF or SVG, by suffix) atomically and close it.

    The write goes through :func:`ufm.io.atomic_write`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Destination ending in one of :data:`FIGURE_SUFFIXES`; its folder must exist.
    dpi : int
        Resolution (PNG).

    Returns
    -------
    Path

    Raises
    ------
    InvalidParameter
        ``path`` does not end in ``.png``, ``.pdf`` or ``.svg``, or its folder does not exist or is
        not writable.
    """
    try:
        path = check_writable(path, FIGURE_SUFFIXES)
        fmt = path.suffix.lower()[1:]
        atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi))
    finally:
        _pyplot().close(fig)
    return path


def _class_colors(K: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if K <= 10 else "tab20"]
    return [cmap(k % cmap.N) for k in range(K)]


def _positive(values) -> np.ma.MaskedArray:
    """Values for a log axis: masked where undefined (None, NaN) or not positive."""
    if isinstance(values, np.ma.MaskedArray):
        values = values.astype(float).filled(np.nan)
    values = np.array([np.nan if v is None else float(v) for v in values])
    return np.ma.masked_less_equal(np.ma.masked_invalid(values), 0.0)


def _logplot(ax, x, y, **kw) -> bool:
    """Draw y on a log axis if any of it is positive; report whether something was drawn."""
    y = _positive(y)
    if y.count() == 0:
        return False
    ax.plot(x, y, **kw)
    return True


#: Closest two tick labels of :func:`_log_ticks_at` may sit, in decades: ~1/10 of a typical axis
#: spanning one or two decades, the width of a short label such as "1.25".
_TICK_DECADES = 0.1


def _log_ticks_at(ax, values) -> None:
    """Log x axis ticked at the swept values, written plainly (1.5 rather than 1.5e0); a value
    closer than ``_TICK_DECADES`` to the previous tick gets no label, so labels never overlap."""
    from matplotlib.ticker import NullLocator

    ticks = []
    for v in sorted(values):
        if not ticks or np.log10(v / ticks[-1]) >= _TICK_DECADES:
            ticks.append(v)
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def _problem_title(p) -> str:
    sizes = f"n={p.n}" if p.balanced else f"class sizes={p.class_sizes}"
    lam = f"$\\lambda_W$={p.lambda_W:g}, $\\lambda_H$={p.lambda_H:g}"
    if p.bias == "regularized":
        lam += f", $\\lambda_b$={p.lambda_b:g}"
    return f"{p.loss.upper()}, bias={p.bias}, K={p.K}, d={p.d}, {sizes}, {lam}"


def plot_frame(
    M,
    *,
    W=None,
    title: str | None = None,
    edges: bool = True,
) -> Figure:
    r"""The columns :math:`m_1..m_K` of a frame M (d x K, d <= 3) as arrows from the origin.

    For the simplex ETF (:func:`ufm.geometry.simplex_etf`) the tips form an equilateral triangle
    (K = 3, d = 2) or a regular tetrahedron (K = 4, d = 3), drawn when ``edges`` is true. With ``W``
    (K x d) the classifier rows :math:`w_k` are drawn dashed in the same class colours, so NC3
    (self-duality, :math:`w_k \parallel m_k`) is visible.

    Parameters
    ----------
    M : array_like, shape (d, K)
        Frame; 1 <= d <= 3 (d = 1 is drawn on a line in the plane).
    W : array_like, shape (K, d), optional
        Classifier rows.
    title : str, optional
        Default ``"frame, K=.., d=.."``.
    edges : bool
        Join every pair of tips by a thin line (the edges of the simplex).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameter
        M not a finite matrix, d > 3, or W of the wrong shape.
    """
    M = check_matrix("M", M, (None, None))
    d, K = M.shape
    if d > 3:
        raise InvalidParameter(f"plot_frame draws d <= 3 (the plane or space), got M with d={d}")
    W = None if W is None else check_matrix("W", W, (K, d))
    dim = max(d, 2)

    def pad(A):
        return np.vstack([A, np.zeros((dim - d, A.shape[1]))])

    tips = pad(M)
    plt = _pyplot()
    fig = plt.figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot(projection="3d" if dim == 3 else None)
    colors = _class_colors(K)
    origin = np.zeros(dim)
    if edges:
        for k in range(K):
            for j in range(k + 1, K):
                ax.plot(*np.column_stack([tips[:, k], tips[:, j]]), color="0.7", lw=0.8, zorder=1)
    for k in range(K):
        ax.plot(
            *np.column_stack([origin, tips[:, k]]),
            color=colors[k],
            lw=2.5,
            label=f"$m_{{{k}}}$",
        )
        ax.scatter(*tips[:, k], color=colors[k], s=40, zorder=3)
    if W is not None:
        rows = pad(W.T)
        for k in range(K):
            ax.plot(
                *np.column_stack([origin, rows[:, k]]),
                color=colors[k],
                lw=1.5,
                ls="--",
                label=f"$w_{{{k}}}$",
            )
    points = tips if W is None else np.hstack([tips, pad(W.T)])
    span = 1.15 * max(float(np.abs(points).max()), np.finfo(float).tiny)
    ax.set_xlim(-span, span)
    ax.set_ylim(-span, span)
    ax.set_xlabel("coordinate 1")
    ax.set_ylabel("coordinate 2")
    if dim == 3:
        ax.set_zlim(-span, span)
        ax.set_zlabel("coordinate 3")
        ax.set_box_aspect((1, 1, 1))
    else:
        ax.set_aspect("equal")
        ax.axhline(0, color="0.85", lw=0.6, zorder=0)
        ax.axvline(0, color="0.85", lw=0.6, zorder=0)
    ax.legend(loc="upper left", fontsize="small", ncol=1 if W is None else 2)
    ax.set_title(title if title is not None else f"frame, K={K}, d={d}")
    fig.tight_layout()
    return fig


def plot_grams(
    grams: Mapping[str, np.ndarray], *, title: str | None = None, cosines: bool = False
) -> Figure:
    r"""Gram matrices (or any small matrices) side by side as heat maps, entries written in.

    A diverging colour map centred at 0 with one shared scale, so that "the same matrix" looks the
    same: e.g. :math:`M^\top M` of a simplex ETF next to
    :math:`\frac{K}{K-1}(I - \mathbf 1\mathbf 1^\top/K)`, or the orthogonal frame's :math:`I`.
    With ``cosines`` a Gram matrix G is drawn as :math:`G_{ij}/\sqrt{G_{ii}G_{jj}}`, the cosines
    between the vectors; rows and columns of vectors whose squared norm is at most
    ``ufm.tolerances.CONVEX_ARGMIN`` times the largest are left blank (a vanished vector has no
    direction, and solver Gram matrices are accurate only to that relative size).

    Parameters
    ----------
    grams : mapping str -> array_like (square or rectangular, at most 12 x 12)
        Panel title -> matrix.
    title : str, optional
        Figure title.
    cosines : bool
        Draw the cosine matrix of each (square, symmetric PSD) Gram matrix.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameter
        No matrix, a non-finite matrix, one larger than 12 x 12 (entries would be unreadable), or
        with ``cosines`` a matrix that is not square.
    """
    if not isinstance(grams, Mapping) or len(grams) == 0:
        raise InvalidParameter("grams must be a non-empty mapping of panel title -> matrix")
    mats = {name: check_matrix(f"grams[{name!r}]", G, (None, None)) for name, G in grams.items()}
    for name, G in mats.items():
        if max(G.shape) > 12:
            raise InvalidParameter(
                f"grams[{name!r}] is {G.shape}; heat maps are drawn up to 12 x 12"
            )
    if cosines:
        mats = {name: _cosines(name, G) for name, G in mats.items()}
    vmax = 1.0 if cosines else max(float(np.abs(G).max()) for G in mats.values()) or 1.0
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(mats), figsize=(3.6 * len(mats) + 0.8, 3.8), squeeze=False)
    for ax, (name, G) in zip(axes[0], mats.items(), strict=True):
        image = ax.imshow(G, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        if max(G.shape) <= 8:
            for (i, j), v in np.ndenumerate(G):
                if np.isnan(v):
                    continue
                ax.text(
                    j,
                    i,
                    f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if abs(v) > 0.6 * vmax else "black",
                )
        ax.set_xticks(range(G.shape[1]), [str(j + 1) for j in range(G.shape[1])])
        ax.set_yticks(range(G.shape[0]), [str(i + 1) for i in range(G.shape[0])])
        ax.set_xlabel("column")
        ax.set_title(name, fontsize=10)
    axes[0, 0].set_ylabel("row")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="cosine" if cosines else "entry")
    if title is not None:
        fig.suptitle(title)
    return fig


def _cosines(name: str, G: np.ndarray) -> np.ndarray:
    """Cosine matrix of a Gram matrix; NaN (drawn blank) for vectors that vanished."""
    from .tolerances import CONVEX_ARGMIN

    if G.shape[0] != G.shape[1]:
        raise InvalidParameter(f"cosines need square Gram matrices, grams[{name!r}] is {G.shape}")
    sq = np.clip(np.diag(G), 0.0, None)
    alive = sq > CONVEX_ARGMIN * max(float(sq.max()), np.finfo(float).tiny)
    norms = np.where(alive, np.sqrt(sq), np.nan)
    return np.clip(G / np.outer(norms, norms), -1.0, 1.0)


def plot_minimizer_scale(sweeps, *, title: str | None = None) -> Figure:
    r"""Norms and minimal value of closed-form global minimizers against :math:`\kappa`.

    Each :class:`ufm.minimizers.ClosedForm` contributes the point :math:`\kappa =
    K\sqrt{n\lambda_W\lambda_H}` (its ``threshold``) with the common norms :math:`\|w_k\|`,
    :math:`\|h_{k,i}\|` (left, log x) and the minimal objective :math:`f^\star` (right). The dashed
    line :math:`\kappa = 1` is the threshold beyond which W = 0, H = 0 is the global minimizer
    (Zhu et al. 2021, Thm 3.1; the MSE analogues of :func:`ufm.minimizers.global_minimizer`).

    Parameters
    ----------
    sweeps : sequence of ClosedForm, or mapping str -> sequence of ClosedForm
        One sweep (e.g. over lambda), or several labelled sweeps (e.g. bias modes) on shared axes.
    title : str, optional
        Default: the loss, K and n of the first minimizer.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameter
        An empty sweep, or a closed form without a threshold (the layer-peeled optimum).
    """
    if not isinstance(sweeps, Mapping):
        sweeps = {"": sweeps}
    data = {}
    for name, sweep in sweeps.items():
        sweep = list(sweep)
        if not sweep or any(getattr(cf, "threshold", None) is None for cf in sweep):
            raise InvalidParameter(
                f"sweep {name!r} must be a non-empty sequence of ClosedForm of a regularized UFM "
                "(global_minimizer results, which carry kappa)"
            )
        order = np.argsort([cf.threshold for cf in sweep])
        data[name] = [sweep[i] for i in order]
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    for i, (name, sweep) in enumerate(data.items()):
        kappa = np.array([cf.threshold for cf in sweep])
        prefix = f"{name}: " if name else ""
        color = f"C{i}"
        left.plot(
            kappa, [cf.w_norm for cf in sweep], "-", color=color, lw=2, label=prefix + r"$\|w_k\|$"
        )
        left.plot(
            kappa,
            [cf.h_norm for cf in sweep],
            "--",
            color=color,
            lw=2,
            label=prefix + r"$\|h_{k,i}\|$",
        )
        right.plot(
            kappa,
            [cf.objective for cf in sweep],
            "-o",
            color=color,
            ms=3,
            label=prefix + r"$f^\star$",
        )
    for ax in (left, right):
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", ls=":", lw=1.2, label=r"threshold $\kappa=1$")
        ax.set_xlabel(r"$\kappa = K\sqrt{n\lambda_W\lambda_H}$")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3, which="both")
    left.set_ylabel("norm at the global minimizer")
    right.set_ylabel(r"minimal value $f^\star$")
    first = next(iter(data.values()))[0]
    p = first.problem
    fig.suptitle(
        title
        if title is not None
        else f"closed-form global minimizers: {p.loss.upper()}, K={p.K}, n={p.n}, d={p.d}"
    )
    fig.tight_layout()
    return fig


def _vanishing_metrics(problem) -> tuple[str, ...]:
    """Recorded metrics that go to 0 at the problem's global minimizer (NC1 always)."""
    from .dynamics._verify import collapse_metrics

    return ("nc1_trace_ratio", *collapse_metrics(problem))


def plot_descent(
    result,
    *,
    optimum: float | None = None,
    optimum_accuracy: float | None = None,
    log_steps: bool = True,
) -> Figure:
    r"""Gradient descent against the step, log-log: the objective gap and NC1-NC3.

    Left: :math:`f(X_t) - f^\star` (when ``optimum`` :math:`f^\star` is given: the closed-form or
    certified minimum) and :math:`\|\nabla f(X_t)\|_F`. Right: the recorded NC metrics that vanish
    at the global minimizer (:func:`ufm.dynamics._verify.collapse_metrics`: NC1, the Gram distances
    of W and M to the simplex ETF or, for bias-free MSE, to the orthogonal frame, and NC3). The
    value axis is logarithmic. On a log step axis (default; step 0 is drawn at 1) the early, slow
    phase is visible; linear convergence is a straight line on a linear step axis
    (``log_steps=False``).

    Parameters
    ----------
    result : ufm.dynamics.DescentResult
    optimum : float, optional
        :math:`f^\star`.
    optimum_accuracy : float, optional
        Absolute accuracy of ``optimum`` (e.g. a solver's certified value is exact only to its
        tolerance times :math:`1 + |f^\star|`): drawn as a dotted line, below which the gap means
        nothing.
    log_steps : bool
        Logarithmic step axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    steps = np.asarray(result.steps)
    if log_steps:
        steps = np.maximum(steps, 1)
    if optimum is not None:
        _logplot(left, steps, np.asarray(result.objective) - optimum, lw=2, label=r"$f - f^\star$")
    _logplot(left, steps, result.gradient_norm, lw=2, label=r"$\|\nabla f\|_F$")
    if optimum_accuracy is not None:
        left.axhline(optimum_accuracy, color="0.4", ls=":", lw=1.2, label=r"accuracy of $f^\star$")
    left.set_yscale("log")
    left.set_xlabel("gradient step t")
    left.set_ylabel("value")
    left.set_title("optimality")
    left.legend()
    drawn = [
        key
        for key in _vanishing_metrics(result.problem)
        if key in result.history
        and _logplot(right, steps, result.history[key], lw=2, label=_METRIC_LABELS[key])
    ]
    right.set_yscale("log")
    right.set_xlabel("gradient step t")
    right.set_ylabel("NC metric (0 = collapse)")
    right.set_title("neural collapse")
    if drawn:
        right.legend(fontsize="small")
    for ax in (left, right):
        ax.set_xscale("log" if log_steps else "linear")
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(
        f"gradient descent, lr={result.parameters['lr']:g}: {_problem_title(result.problem)}"
    )
    fig.tight_layout()
    return fig


def plot_feature_snapshots(
    snapshots: Sequence,
    labels,
    *,
    W=None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    r"""A strip of 2-D feature clouds: each panel shows the columns of one H (d = 2) by class.

    Class means are drawn as large outlined dots and, when ``W`` is given, the classifier rows
    :math:`w_k` as arrows in the class colours (scaled to the panel), so collapse (NC1), the
    simplex geometry (NC2) and self-duality (NC3) are seen together. Each panel autoscales to its
    cloud and prints its scale (the largest entry of H), so that features shrinking to the origin
    are not mistaken for a healthy configuration.

    Parameters
    ----------
    snapshots : sequence of array_like, each shape (2, N)
        Features at successive times.
    labels : array_like of int, shape (N,)
    W : array_like (K, 2), or sequence of those (one per snapshot), optional
        Classifier rows (a fixed readout, or the classifier at each time).
    titles : sequence of str, optional
        One per panel (e.g. "step 100").
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameter
        No snapshot, a snapshot that is not 2 x N, mismatched labels, titles or classifiers.
    """
    if len(snapshots) == 0:
        raise InvalidParameter("snapshots must hold at least one feature matrix H (2 x N)")
    Hs = [check_matrix(f"snapshots[{i}]", H, (2, None)) for i, H in enumerate(snapshots)]
    N = Hs[0].shape[1]
    labels = np.asarray(labels)
    K = int(labels.max()) + 1 if labels.size else 0
    labels = check_labels(labels, N, K)
    for i, H in enumerate(Hs):
        if H.shape[1] != N:
            raise InvalidParameter(f"snapshots[{i}] has N={H.shape[1]} columns, expected {N}")
    if W is None:
        Ws = [None] * len(Hs)
    elif np.ndim(W) == 2:
        Ws = [check_matrix("W", W, (K, 2))] * len(Hs)
    else:
        if len(W) != len(Hs):
            raise InvalidParameter(
                f"W must be one (K, 2) matrix or {len(Hs)} of them, got {len(W)}"
            )
        Ws = [check_matrix(f"W[{i}]", Wi, (K, 2)) for i, Wi in enumerate(W)]
    if titles is not None and len(titles) != len(Hs):
        raise InvalidParameter(f"titles must have {len(Hs)} entries, got {len(titles)}")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(Hs), figsize=(3.3 * len(Hs), 3.7), squeeze=False)
    colors = _class_colors(K)
    for i, (ax, H, Wi) in enumerate(zip(axes[0], Hs, Ws, strict=True)):
        span = 1.1 * max(float(np.abs(H).max()), np.finfo(float).tiny)
        for k in range(K):
            cloud = H[:, labels == k]
            mean = cloud.mean(axis=1)
            ax.scatter(*cloud, s=10, color=colors[k], alpha=0.6, label=f"class {k}")
            ax.scatter(*mean, s=90, color=colors[k], edgecolor="k", zorder=3)
            if Wi is not None and np.any(Wi[k]):
                w = 0.9 * span * Wi[k] / np.abs(Wi).max()
                ax.annotate(
                    "",
                    xy=w,
                    xytext=(0, 0),
                    zorder=4,
                    arrowprops={"arrowstyle": "->", "color": colors[k], "lw": 2},
                )
        ax.set_xlim(-span, span)
        ax.set_ylim(-span, span)
        ax.set_aspect("equal")
        ax.axhline(0, color="0.85", lw=0.6, zorder=0)
        ax.axvline(0, color="0.85", lw=0.6, zorder=0)
        ax.set_xlabel("feature 1")
        # the axes autoscale to the cloud, so a collapse to the origin (scale 1e-200) would look
        # like a healthy configuration: every panel states its scale
        ax.text(
            0.98, 0.02, f"max |h| = {np.abs(H).max():.2g}", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8, bbox={"fc": "white", "ec": "0.7", "lw": 0.5},
        )  # fmt: skip
        if i == 0:
            ax.set_ylabel("feature 2")
            ax.legend(fontsize="x-small", loc="upper left")
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_minority_sweep(sweep) -> Figure:
    r"""Minority Collapse in the layer-peeled model against the imbalance ratio R = n_A / n_B.

    Top: mean cosine between the minority classifier rows (1 = collapsed; undefined, not drawn,
    where the rows vanish). Bottom: the minority spread :math:`\max_{k,l\in B}\|w_k - w_l\|^2/E_W`
    on a log axis. The threshold R* is the dashed line, its certified bracket (located by the sign
    of the dual certificate psi, :func:`ufm.relaxations.minority_threshold`) the shaded band.

    Parameters
    ----------
    sweep : ufm.relaxations.MinoritySweep

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    R = np.asarray(sweep.ratios, dtype=float)
    cosine = np.array([np.nan if c is None else c for c in sweep.minority_cosine])
    top.plot(R, cosine, "o-", lw=2, label="mean cosine of minority rows")
    top.axhline(1.0, color="0.6", lw=1, ls=":", label="identical directions")
    top.set_ylabel(r"mean $\cos(w_k, w_l)$, $k, l \in B$")
    _logplot(bottom, R, sweep.minority_spread, marker="o", lw=2, label="minority spread")
    bottom.set_yscale("log")
    bottom.set_ylabel(r"$\max_{k,l\in B}\|w_k - w_l\|^2 / E_W$")
    bottom.set_xlabel(r"imbalance ratio $R = n_A / n_B$")
    _log_ticks_at(bottom, R)
    th = sweep.threshold
    if th is not None:
        for ax in (top, bottom):
            ax.axvspan(*th.bracket, color="0.85", lw=0)
            ax.axvline(
                th.threshold,
                color="k",
                ls="--",
                lw=1.2,
                label=f"threshold $R^*$ = {th.threshold:.3g}",
            )
    for ax in (top, bottom):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")
    fig.suptitle(
        f"Minority Collapse (layer-peeled SDP): $K_A$={sweep.K_A}, $K_B$={sweep.K_B}, "
        f"$E_W$={sweep.E_W:g}, $E_H$={sweep.E_H:g}"
    )
    fig.tight_layout()
    return fig


def plot_lesde(result, *, criterion: str | None = None, confidence: float = 0.95) -> Figure:
    r"""The LE-SDE against time: probability of separability (left) and NC metrics (right).

    At every recorded time the fraction of paths whose features are separable
    (:meth:`ufm.dynamics.LESDEResult.separability`) with its Clopper-Pearson interval, and the NC1
    forms and the ETF distance of the class means averaged over paths
    (:meth:`ufm.dynamics.LESDEResult.metrics`, log axis).

    Parameters
    ----------
    result : ufm.dynamics.LESDEResult
    criterion : {'readout', 'linear'}, optional
        Default: the model's own ('linear' for I and L, 'readout' for ce).
    confidence : float in (0, 1)

    Returns
    -------
    matplotlib.figure.Figure
    """
    times = np.asarray(result.times)
    estimates = [result.separability(criterion, i, confidence) for i in range(len(times))]
    criterion = estimates[0].criterion
    metrics = [result.metrics(i) for i in range(len(times))]
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(
        times, [e.probability for e in estimates], "o-", lw=2, label=f"separable ({criterion})"
    )
    left.fill_between(
        times,
        [e.ci_low for e in estimates],
        [e.ci_high for e in estimates],
        alpha=0.3,
        label=f"Clopper-Pearson {confidence:.0%}",
    )
    left.set_ylim(-0.02, 1.02)
    left.set_xlabel("time t")
    left.set_ylabel("P(separable)")
    left.legend(fontsize="small")
    for key in ("nc1", "nc1_trace_ratio", "etf_distance_means"):
        _logplot(
            right, times, [m[key] for m in metrics], marker="o", lw=2, label=_METRIC_LABELS[key]
        )
    right.set_yscale("log")
    right.set_xlabel("time t")
    right.set_ylabel("NC metric (mean over paths)")
    right.legend(fontsize="small")
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
    q = result.parameters
    alpha = "alpha(t)" if q["alpha"] is None else f"{q['alpha']:g}"
    beta = "beta(t)" if q["beta"] is None else f"{q['beta']:g}"
    fig.suptitle(
        f"LE-SDE: K={q['K']}, n={q['n']}, d={q['d']}, $\\alpha$={alpha}, $\\beta$={beta}, "
        f"$\\sigma$={'sigma(t)' if q['noise'] is None else format(q['noise'], 'g')}, "
        f"model={result.model}, paths={q['paths']}"
    )
    fig.tight_layout()
    return fig


def plot_separability_transition(
    ratios, estimates: Sequence, *, title: str | None = None
) -> Figure:
    r"""Probability of separability against the elasticity ratio :math:`\alpha/\beta`.

    The LE-SDE's phase transition (Zhang, Wang & Su 2021): separable with probability near 1 when
    :math:`\alpha > \beta`, near 0 when :math:`\alpha < \beta`; the dashed line marks
    :math:`\alpha/\beta = 1`. The band is each estimate's Clopper-Pearson interval.

    Parameters
    ----------
    ratios : sequence of float, length R
        :math:`\alpha/\beta` (> 0) of each simulation.
    estimates : sequence of ufm.dynamics.SeparabilityEstimate, length R
    title : str, optional
        Default states the criterion, paths and confidence of the estimates.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameter
        Empty or mismatched inputs, or a ratio that is not finite and > 0.
    """
    ratios = np.asarray(ratios, dtype=float)
    if ratios.ndim != 1 or ratios.size == 0 or ratios.size != len(estimates):
        raise InvalidParameter(
            f"ratios and estimates must be non-empty and of one length, got {ratios.size} and "
            f"{len(estimates)}"
        )
    if not np.all(np.isfinite(ratios) & (ratios > 0)):
        raise InvalidParameter(f"ratios alpha/beta must be finite and > 0, got {ratios.tolist()}")
    order = np.argsort(ratios)
    ratios = ratios[order]
    estimates = [estimates[i] for i in order]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(ratios, [e.probability for e in estimates], "o-", lw=2, label="P(separable at T)")
    ax.fill_between(
        ratios,
        [e.ci_low for e in estimates],
        [e.ci_high for e in estimates],
        alpha=0.3,
        label=f"Clopper-Pearson {estimates[0].confidence:.0%}",
    )
    ax.axvline(1.0, color="k", ls="--", lw=1.2, label=r"$\alpha = \beta$")
    _log_ticks_at(ax, ratios)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(r"elasticity ratio $\alpha/\beta$ (intra- / inter-class impact)")
    ax.set_ylabel("probability of separability")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    e = estimates[0]
    ax.set_title(
        title
        if title is not None
        else f"LE-SDE phase transition ({e.criterion} criterion, {e.paths} paths per point)"
    )
    fig.tight_layout()
    return fig


def plot_lesde_fit(fit) -> Figure:
    r"""Elasticities fitted to snapshots (:func:`ufm.dynamics.fit_lesde`) and the fit's residual.

    Left: :math:`A(t_r), B(t_r)` measured snapshot by snapshot from the modes' log-growth (dots)
    against :math:`\int\alpha, \int\beta` of the fitted piecewise-constant rates (lines; window
    edges dashed). Right: the residual :math:`g - D\lambda` of each mode's log-growth.

    Parameters
    ----------
    fit : ufm.dynamics.LESDEFit

    Returns
    -------
    matplotlib.figure.Figure
    """
    times = np.asarray(fit.times)
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    widths = np.diff(fit.edges)
    for name, measured, rate in (("A", fit.A, fit.alpha), ("B", fit.B, fit.beta)):
        line = np.concatenate(([0.0], np.cumsum(widths * rate)))
        points = left.plot(times, measured, "o", label=f"{name}(t) measured")[0]
        left.plot(fit.edges, line, "-", lw=2, color=points.get_color(), label=f"{name}(t) fitted")
    for edge in fit.edges[1:-1]:
        left.axvline(edge, color="k", ls="--", lw=1)
    left.set_xlabel("time t")
    left.set_ylabel(r"$A = \int\alpha$, $B = \int\beta$")
    left.legend(fontsize="small")
    for m, name in enumerate(fit.mode_names):
        right.plot(
            times, fit.log_growth[:, m] - fit.fitted_log_growth[:, m], "o-", label=f"{name} mode"
        )
    right.axhline(0.0, color="k", lw=1)
    right.set_xlabel("time t")
    right.set_ylabel("log-growth residual (natural log)")
    right.legend(fontsize="small")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    windows = ", ".join(
        f"[{a:g}, {b:g}]: $\\alpha$={x:.3g}, $\\beta$={y:.3g}"
        for a, b, x, y in zip(fit.edges[:-1], fit.edges[1:], fit.alpha, fit.beta, strict=True)
    )
    fig.suptitle(
        f"LE-SDE fit ({fit.model} model), rms residual {fit.residual:.2g}: {windows}",
        fontsize="medium",
    )
    fig.tight_layout()
    return fig


def plot_measurement(measurement) -> Figure:
    r"""A measured network's class means against the UFM's prediction, and its class variances.

    Left: the cosines :math:`\cos(\tilde\mu_k, \tilde\mu_l)` of the measured class means, centred at
    the mean of the class means. Middle: the same for the UFM's prediction for the measured class
    sizes, the simplex ETF (off-diagonal :math:`-1/(K-1)`) for balanced classes and SELI otherwise
    (:mod:`ufm.measure._compare`). Right: the per-class variances
    :math:`\frac{1}{n_k-\delta}\sum_{y_i=k}\|h_i-\mu_k\|^2` as bars (their spread is what NC1
    removes).

    Parameters
    ----------
    measurement : ufm.measure.Measurement

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InvalidParameter
        K > 2000 (the K x K heat maps would be unreadable and large).
    """
    from matplotlib.ticker import MaxNLocator

    from .geometry import seli_class_factors

    K = measurement.K
    if K > 2000:
        raise InvalidParameter(f"plot_measurement draws K x K heat maps up to K=2000, got K={K}")
    comparison = measurement.comparison
    if comparison is None:
        geometry = "simplex ETF" if np.all(measurement.counts == measurement.counts[0]) else "SELI"
        M_star = seli_class_factors(measurement.counts.tolist())[1]
    else:
        geometry, M_star = comparison.geometry, comparison.M
    Mc = measurement.means - measurement.means.mean(axis=1, keepdims=True)
    panels = {
        "measured class means": _cosines("measured", Mc.T @ Mc),
        f"UFM prediction ({geometry})": _cosines("predicted", M_star.T @ M_star),
    }
    plt = _pyplot()
    fig, axes = plt.subplots(
        1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [1, 1, 1.3]}, layout="constrained"
    )
    for ax, (name, C) in zip(axes[:2], panels.items(), strict=True):
        image = ax.imshow(C, cmap="RdBu_r", vmin=-1.0, vmax=1.0, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("class")
        ax.set_ylabel("class")
    fig.colorbar(image, ax=axes[:2].tolist(), shrink=0.8, label="cosine")
    bars = axes[2]
    bars.bar(np.arange(K), measurement.variances, color=_class_colors(K) if K <= 20 else "C0")
    bars.set_xlabel("class")
    bars.set_ylabel("within-class variance")
    bars.set_title(f"per-class variance ({measurement.conventions['variance']})", fontsize=10)
    bars.grid(alpha=0.3, axis="y")
    for ax in axes:  # class indices: integer ticks
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[:2]:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Measured geometry: K={K}, d={measurement.d}, N={measurement.N}")
    return fig


__all__.append("plot_measurement")
