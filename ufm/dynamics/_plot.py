"""Figures of the dynamics (matplotlib, Agg backend), written atomically."""

from __future__ import annotations

import numpy as np

from ..io import atomic_write


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path) -> None:
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120))
    plt.close(fig)


def _positive(values) -> np.ndarray:
    """Values for a log axis: masked where undefined or not positive."""
    values = np.ma.masked_invalid(np.asarray(values, dtype=float))
    return np.ma.masked_less_equal(values, 0.0)


def plot_descent(result, path, gap_to=None) -> None:
    """Objective gap (or gradient norm) and recorded NC metrics against the step, log scales."""
    plt = _figure()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    steps = np.maximum(result.steps, 1)
    if gap_to is not None:
        left.loglog(steps, _positive(result.objective - gap_to), label=r"$f - f^\star$")
    left.loglog(steps, _positive(result.gradient_norm), label=r"$\|\nabla f\|$")
    left.set_xlabel("step")
    left.set_ylabel("value")
    left.legend()
    for name, values in result.history.items():
        right.loglog(steps, _positive(values), label=name)
    right.set_xlabel("step")
    right.set_ylabel("NC metric")
    right.legend(fontsize=8)
    p = result.problem
    fig.suptitle(
        f"gradient descent: {p.loss}, bias={p.bias}, K={p.K}, d={p.d}, N={p.N}, "
        f"lambda_W={p.lambda_W:g}, lambda_H={p.lambda_H:g}, lr={result.parameters['lr']:g}"
    )
    fig.tight_layout()
    _save(plt, fig, path)


def plot_lesde(result, path, probabilities, metrics) -> None:
    """Separability probability (with interval) and NC1 against time for the LE-SDE."""
    plt = _figure()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    t = result.times
    prob = np.array([e.probability for e in probabilities])
    low = np.array([e.ci_low for e in probabilities])
    high = np.array([e.ci_high for e in probabilities])
    left.plot(t, prob, marker="o", label="separable (readout)")
    left.fill_between(t, low, high, alpha=0.3, label="Clopper-Pearson 95%")
    left.set_ylim(-0.02, 1.02)
    left.set_xlabel("time t")
    left.set_ylabel("P(separable)")
    left.legend()
    for key in ("nc1", "nc1_trace_ratio", "etf_distance_means"):
        right.semilogy(t, _positive([m[key] if m[key] is not None else np.nan for m in metrics]),
                       label=key)  # fmt: skip
    right.set_xlabel("time t")
    right.set_ylabel("NC metric (mean over paths)")
    right.legend()
    q = result.parameters
    fig.suptitle(
        f"LE-SDE: K={q['K']}, n={q['n']}, d={q['d']}, alpha={q['alpha']}, beta={q['beta']}, "
        f"sigma={q['noise']:g}, paths={q['paths']}"
    )
    fig.tight_layout()
    _save(plt, fig, path)
