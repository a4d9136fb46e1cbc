"""ufm.plot: every figure draws the data it is given, on the stated axes, and is written atomically.

Figures are checked through matplotlib's artists (line data, images, axis scales, labels), not by
pixels: the drawn numbers must be the library's numbers.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ufm import Problem, plot
from ufm.dynamics import SeparabilityEstimate, gradient_descent, simulate_lesde
from ufm.errors import InvalidParameter
from ufm.geometry import etf_gram, simplex_etf
from ufm.minimizers import global_minimizer, layer_peeled_optimum
from ufm.relaxations import MinoritySweep, MinorityThreshold
from ufm.tolerances import FLOAT, relative_deviation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _labelled(ax) -> bool:
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def _vertical_at(ax, x: float) -> bool:
    return any(np.all(np.asarray(line.get_xdata()) == x) for line in ax.get_lines())


def _title(fig) -> str:
    return fig._suptitle.get_text() if fig._suptitle is not None else fig.axes[0].get_title()


# --- save --------------------------------------------------------------------------------------


def test_save_writes_png_and_closes(tmp_path):
    """Property: save writes a PNG file at the path, leaves no temporary file and closes the
    figure."""
    import matplotlib.pyplot as plt

    fig = plot.plot_frame(simplex_etf(3, 2))
    path = plot.save(fig, tmp_path / "etf.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["etf.png"]
    assert fig.number not in plt.get_fignums()


@pytest.mark.parametrize("name", ["etf.jpg", "missing/etf.png"])
def test_save_rejects_bad_paths(tmp_path, name):
    """Property: a path not ending in .png, .pdf or .svg, or in a folder that does not exist, is
    refused with InvalidParameter and nothing is written."""
    with pytest.raises(InvalidParameter):
        plot.save(plot.plot_frame(simplex_etf(3, 2)), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_import_is_lazy_and_headless_uses_agg(tmp_path):
    """Property: ``import ufm`` and ``import ufm.plot`` load no matplotlib; without a display the
    first figure selects the Agg backend."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")
    }
    code = (
        "import sys, ufm, ufm.plot\n"
        "assert 'matplotlib' not in sys.modules\n"
        "from ufm.geometry import simplex_etf\n"
        "ufm.plot.plot_frame(simplex_etf(3, 2))\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().lower() == "agg"


# --- plot_frame --------------------------------------------------------------------------------


@settings(max_examples=12)
@given(
    K=st.integers(2, 5),
    d=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    with_W=st.booleans(),
)
def test_plot_frame_draws_each_column(K, d, seed, with_W):
    """Property: for any frame M (d <= 3) the k-th solid arrow ends at column m_k (zero-padded to
    the plane), the k-th dashed one at w_k, and the axes are labelled."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, K))
    W = rng.standard_normal((K, d)) if with_W else None
    fig = plot.plot_frame(M, W=W, edges=False)
    ax = fig.axes[0]
    lines = ax.get_lines()
    dim = max(d, 2)

    def tip(line):
        data = line.get_data_3d() if dim == 3 else line.get_data()
        return np.array([coord[-1] for coord in data])

    def pad(v):
        return np.concatenate([v, np.zeros(dim - d)])

    solid = [line for line in lines if line.get_label().startswith("$m_")]
    dashed = [line for line in lines if line.get_label().startswith("$w_")]
    assert len(solid) == K and len(dashed) == (K if with_W else 0)
    for k in range(K):
        assert np.array_equal(tip(solid[k]), pad(M[:, k]))
        if with_W:
            assert np.array_equal(tip(dashed[k]), pad(W[k]))
    assert _labelled(ax) and f"K={K}" in ax.get_title() and ax.get_legend() is not None
    plot._pyplot().close(fig)


def test_plot_frame_simplex_edges():
    """Property: with edges, the K = 4 simplex in space gets its 6 edges, each joining two tips."""
    M = simplex_etf(4, 3)
    ax = plot.plot_frame(M).axes[0]
    edges = [line for line in ax.get_lines() if line.get_linestyle() == "-" and line.get_lw() < 1]
    assert len(edges) == 6
    assert ax.get_zlabel() == "coordinate 3"


@pytest.mark.parametrize(
    "M, W",
    [(np.ones((4, 3)), None), (simplex_etf(3, 2), np.ones((2, 2))), ([[np.nan, 1.0]], None)],
)
def test_plot_frame_rejects(M, W):
    """Property: d > 3, a classifier of the wrong shape, or a non-finite frame raise
    InvalidParameter."""
    with pytest.raises(InvalidParameter):
        plot.plot_frame(M, W=W)


# --- plot_grams --------------------------------------------------------------------------------


def test_plot_grams_draws_the_matrices():
    """Property: each panel's image is its matrix, on one colour scale symmetric about 0."""
    G = etf_gram(4, exact=False)
    fig = plot.plot_grams({"a": G, "b": np.eye(4)}, title="t")
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert np.array_equal(images[0].get_array(), G)
    assert np.array_equal(images[1].get_array(), np.eye(4))
    assert all(im.get_clim() == (-1.0, 1.0) for im in images)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]


@settings(max_examples=10)
@given(K=st.integers(2, 6), seed=st.integers(0, 2**16), vanished=st.integers(0, 5))
def test_plot_grams_cosines(K, seed, vanished):
    """Property: with cosines=True the drawn matrix is G_ij / sqrt(G_ii G_jj) for vectors that
    exist, and blank (NaN) in the rows and columns of a vanished vector."""
    W = np.random.default_rng(seed).standard_normal((K, 3))
    gone = vanished % K if vanished < K else None
    if gone is not None:
        W[gone] = 0.0
    G = W @ W.T
    fig = plot.plot_grams({"W W^T": G}, cosines=True)
    drawn = np.asarray(fig.axes[0].get_images()[0].get_array().filled(np.nan))
    alive = np.flatnonzero(np.any(W != 0, axis=1))
    unit = W[alive] / np.linalg.norm(W[alive], axis=1, keepdims=True)
    assert relative_deviation(drawn[np.ix_(alive, alive)], unit @ unit.T) <= FLOAT
    if gone is not None:
        assert np.all(np.isnan(drawn[gone])) and np.all(np.isnan(drawn[:, gone]))
    plot._pyplot().close(fig)


@pytest.mark.parametrize(
    "grams, cosines",
    [({}, False), ({"big": np.eye(13)}, False), ({"rect": np.ones((2, 3))}, True)],
)
def test_plot_grams_rejects(grams, cosines):
    """Property: no matrix, a matrix above 12 x 12, or a non-square one with cosines raise
    InvalidParameter."""
    with pytest.raises(InvalidParameter):
        plot.plot_grams(grams, cosines=cosines)


# --- plot_minimizer_scale ----------------------------------------------------------------------


def test_plot_minimizer_scale_draws_kappa_sweep():
    """Property: each sweep is drawn against kappa (sorted), with the norms and values of its closed
    forms, a log kappa axis and the threshold line at kappa = 1."""
    p = Problem(loss="mse", K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias="none")
    sweep = [global_minimizer(p.replace(lambda_W=lam, lambda_H=lam)) for lam in (0.3, 0.01, 0.1)]
    fig = plot.plot_minimizer_scale({"none": sweep})
    left, right = fig.axes
    ordered = sorted(sweep, key=lambda cf: cf.threshold)
    w_line = next(line for line in left.get_lines() if "w_k" in line.get_label())
    assert np.array_equal(w_line.get_xdata(), [cf.threshold for cf in ordered])
    assert np.array_equal(w_line.get_ydata(), [cf.w_norm for cf in ordered])
    value = next(line for line in right.get_lines() if "f^" in line.get_label())
    assert np.array_equal(value.get_ydata(), [cf.objective for cf in ordered])
    for ax in (left, right):
        assert ax.get_xscale() == "log" and _labelled(ax)
        assert _vertical_at(ax, 1.0)
    assert "K=3" in _title(fig)


@pytest.mark.parametrize("sweep", [[], [layer_peeled_optimum(3, 1.0, 1.0)]])
def test_plot_minimizer_scale_rejects(sweep):
    """Property: an empty sweep, or closed forms without kappa, raise InvalidParameter."""
    with pytest.raises(InvalidParameter):
        plot.plot_minimizer_scale(sweep)


# --- plot_descent ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def descent():
    p = Problem(loss="ce", K=3, d=2, n=4, lambda_W=5e-3, lambda_H=5e-3, lambda_b=5e-3)
    return gradient_descent(p, steps=400, lr=0.5, seed=0, init_scale=0.1, record_every=4)


@pytest.mark.parametrize("log_steps", [True, False])
def test_plot_descent_draws_gap_and_metrics(descent, log_steps):
    """Property: the gap line is f - f* at the recorded steps (step 0 at 1 on a log axis), the
    metric lines are the recorded history of the metrics that vanish at the minimizer, and every
    value axis is logarithmic."""
    optimum = float(descent.objective[-1]) - 1e-3
    fig = plot.plot_descent(descent, optimum=optimum, optimum_accuracy=1e-6, log_steps=log_steps)
    left, right = fig.axes
    gap = next(
        line for line in left.get_lines() if "f^" in line.get_label() and "-" in line.get_label()
    )
    steps = np.maximum(descent.steps, 1) if log_steps else descent.steps
    assert np.array_equal(gap.get_xdata(), steps)
    assert np.array_equal(np.ma.filled(gap.get_ydata(), np.nan), descent.objective - optimum)
    labels = [line.get_label() for line in right.get_lines()]
    # every collapse metric of the table is recorded (issue 15, item 11): nc1 and nc3_papyan too
    recorded = ("nc1_trace_ratio", "nc1", "etf_distance_classifiers", "etf_distance_means",
                "nc3_zhu", "nc3_papyan")  # fmt: skip
    assert labels == [plot._METRIC_LABELS[k] for k in recorded]
    nc1 = right.get_lines()[0]
    assert np.array_equal(
        np.ma.filled(nc1.get_ydata(), np.nan),
        np.ma.filled(descent.history["nc1_trace_ratio"], np.nan),
    )
    for ax in (left, right):
        assert ax.get_yscale() == "log" and _labelled(ax)
        assert ax.get_xscale() == ("log" if log_steps else "linear")
    assert "lr=0.5" in _title(fig) and "K=3" in _title(fig)


def test_plot_descent_masks_nonpositive_gap(descent):
    """Property: where f - f* <= 0 (below the optimum's accuracy) nothing is drawn on the log axis
    instead of a clipped or invented value."""
    optimum = float(np.median(descent.objective))
    gap = plot.plot_descent(descent, optimum=optimum).axes[0].get_lines()[0]
    y = gap.get_ydata()
    below = descent.objective - optimum <= 0
    assert np.all(np.ma.getmaskarray(y)[below]) and not np.any(np.ma.getmaskarray(y)[~below])


# --- plot_feature_snapshots --------------------------------------------------------------------


def test_plot_feature_snapshots_one_panel_per_snapshot(descent):
    """Property: one panel per snapshot with its title; every feature column is drawn in its class
    colour (the scatter offsets are the columns of H of that class)."""
    H, labels = descent.H, descent.problem.labels
    fig = plot.plot_feature_snapshots(
        [H, 2 * H], labels, W=descent.W, titles=["a", "b"], title="strip"
    )
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    clouds = fig.axes[1].collections[::2]
    for k, cloud in enumerate(clouds):
        assert np.array_equal(cloud.get_offsets(), 2 * H[:, labels == k].T)
    assert all(ax.get_xlabel() for ax in fig.axes) and fig.axes[0].get_ylabel()


def test_plot_feature_snapshots_state_their_scale(descent):
    """Property: a panel autoscaled to features of size 1e-212 says so (the same picture at scale 1
    says 1), so a collapse to the origin cannot pass for a healthy frame."""
    H, labels = descent.H, descent.problem.labels
    unit = H / np.abs(H).max()
    fig = plot.plot_feature_snapshots([unit, 1e-212 * unit], labels)
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert texts == [["max |h| = 1"], ["max |h| = 1e-212"]]


@pytest.mark.parametrize(
    "snapshots, kwargs",
    [
        ([], {}),
        ([np.zeros((3, 6))], {}),
        ([np.zeros((2, 6)), np.zeros((2, 5))], {}),
        ([np.zeros((2, 6))], {"titles": ["a", "b"]}),
        ([np.zeros((2, 6))], {"W": [np.eye(3, 2), np.eye(3, 2)]}),
    ],
)
def test_plot_feature_snapshots_rejects(snapshots, kwargs):
    """Property: no snapshot, d != 2, unequal N, or titles/classifiers of the wrong count raise
    InvalidParameter."""
    with pytest.raises(InvalidParameter):
        plot.plot_feature_snapshots(snapshots, np.repeat(np.arange(3), 2), **kwargs)


# --- Minority Collapse, LE-SDE -----------------------------------------------------------------


def test_plot_minority_sweep_marks_threshold():
    """Property: the cosine panel skips ratios where the minority rows vanished (None), the spread
    panel is logarithmic in both axes, and the located threshold and its certified bracket are
    drawn on both."""
    th = MinorityThreshold(1.74, 1e-2, (1.73, 1.75), (-1e-6, 1e-6), 1e-9, 11)
    sweep = MinoritySweep(
        5, 5, 1.0, 1.0, (1.0, 1.5, 2.0, 10.0), (0.5, 0.6, 0.7, 0.8), (-0.1, 0.2, 1.0, None),
        (2.0, 0.5, 1e-8, 1e-9), (-0.1, -0.01, 0.01, 0.1), (1e-9,) * 4,
        (False, False, True, True), th,
    )  # fmt: skip
    top, bottom = plot.plot_minority_sweep(sweep).axes
    cosine = top.get_lines()[0].get_ydata()
    assert np.isnan(cosine[-1]) and np.array_equal(cosine[:3], [-0.1, 0.2, 1.0])
    assert bottom.get_xscale() == "log" and bottom.get_yscale() == "log"
    for ax in (top, bottom):
        assert _vertical_at(ax, th.threshold)
        assert [(p.get_bbox().x0, p.get_bbox().x1) for p in ax.patches] == [th.bracket]
        assert ax.get_ylabel()
    assert bottom.get_xlabel()


def test_plot_lesde_probability_per_time():
    """Property: the probability line holds the separability estimate of each recorded time."""
    result = simulate_lesde(3, 4, 2, 2.0, 1.0, 0.05, 2.0, paths=5, records=3, seed=0)
    left, right = plot.plot_lesde(result).axes
    drawn = left.get_lines()[0].get_ydata()
    expected = [result.separability(None, i).probability for i in range(len(result.times))]
    assert np.array_equal(drawn, expected)
    assert np.array_equal(left.get_lines()[0].get_xdata(), result.times)
    assert right.get_yscale() == "log" and _labelled(left) and _labelled(right)


def _estimate(p: float) -> SeparabilityEstimate:
    return SeparabilityEstimate(
        p, max(p - 0.1, 0.0), min(p + 0.1, 1.0), int(10 * p), 10, "readout", 0.95
    )


def test_plot_separability_transition_sorted_with_readable_ticks():
    """Property: points are drawn sorted by alpha/beta with the line alpha = beta, and no two tick
    labels are closer than the minimum spacing."""
    ratios = [4.0, 0.25, 0.9, 1.1, 1.25, 0.8]
    estimates = [_estimate(p) for p in (1.0, 0.0, 0.0, 0.1, 0.5, 0.0)]
    ax = plot.plot_separability_transition(ratios, estimates).axes[0]
    line = ax.get_lines()[0]
    assert np.array_equal(line.get_xdata(), sorted(ratios))
    assert np.array_equal(line.get_ydata(), [0.0, 0.0, 0.0, 0.1, 0.5, 1.0])
    ticks = np.log10(ax.get_xticks())
    assert np.all(np.diff(ticks) >= plot._TICK_DECADES)
    assert _vertical_at(ax, 1.0) and _labelled(ax)


@pytest.mark.parametrize("ratios, n", [([], 0), ([1.0, 2.0], 1), ([0.0], 1), ([np.inf], 1)])
def test_plot_separability_transition_rejects(ratios, n):
    """Property: empty or mismatched inputs and ratios that are not finite and > 0 raise
    InvalidParameter."""
    with pytest.raises(InvalidParameter):
        plot.plot_separability_transition(ratios, [_estimate(0.5)] * n)


@pytest.mark.parametrize(("suffix", "magic"), [(".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_save_writes_pdf_and_svg(tmp_path, suffix, magic):
    """Property: save picks the format from the suffix: PDF and SVG as well as PNG."""
    path = plot.save(plot.plot_frame(simplex_etf(3, 2)), tmp_path / f"etf{suffix.upper()}")
    assert path.read_bytes()[: len(magic)] == magic
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
