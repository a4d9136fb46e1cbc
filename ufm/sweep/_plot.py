"""Figures of sweep results: heat maps with the predicted boundary drawn on top, or, for a many-seed
study, every seed's value with the worst case marked.

The drawing hints come from the spec's ``[plot]`` table (stored in the result's ``plot``
attribute): ``variable`` (an output), ``x`` and ``y`` (two swept parameters; without them the
per-seed view is drawn), ``reduce`` over the other dimensions (``mean``, default, or ``max``;
booleans are averaged into a fraction), and ``boundary``: ``{param = value}`` draws the line
param = value, ``"minority_threshold"`` the curve R*(E_H) of ``ufm.relaxations.minority_threshold``.
Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no display needed) and
written with :func:`ufm.plot.save` (atomic PNG).
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import InvalidFile, InvalidParameter

__all__ = ["plot_sweep", "worst_case"]


def worst_case(ds, variable: str) -> dict:
    """The largest value of ``variable`` in a result, with its coordinates and its seed.

    Returns
    -------
    dict
        ``value``, ``coords`` (dimension -> coordinate value) and, for a stochastic task kind,
        ``seed`` (the 32-bit seed that point ran with, from the spec's seed rule).
    """
    if variable not in ds.data_vars or variable == "task_done":
        raise InvalidParameter(f"variable must be an output of the sweep "
                               f"{[v for v in ds.data_vars if v != 'task_done']}, got "
                               f"{variable!r}")  # fmt: skip
    values = ds[variable].values.astype(float)
    index = np.unravel_index(int(np.argmax(values)), values.shape)
    dims = ds[variable].dims
    coords = {d: ds[d].values[i].item() if d in ds.coords else int(i)
              for d, i in zip(dims, index, strict=True)}  # fmt: skip
    out = {"value": float(values[index]), "coords": coords}
    if "seed" in dims:
        spec = json.loads(ds.attrs["spec"])
        seq = np.random.SeedSequence(spec["seed"], spawn_key=tuple(int(i) for i in index))
        out["seed"] = int(seq.generate_state(1, dtype=np.uint32)[0])
    return out


def _is_log(spec: dict, name: str) -> bool:
    rule = spec["params"].get(name, {})
    return rule.get("scale") == "log"


def _reduce(da, keep, how):
    other = [d for d in da.dims if d not in keep]
    da = da.astype(float)
    return da.max(other) if how == "max" else da.mean(other)


def _edges(values, log: bool) -> np.ndarray:
    """Cell edges around grid values: midpoints (geometric on a log axis), the end cells mirrored,
    so that every cell is centred on its value in the axis' own scale."""
    v = np.log(values) if log else np.asarray(values, dtype=float)
    step = np.diff(v) if v.size > 1 else np.ones(1)
    edges = np.concatenate([[v[0] - step[0] / 2], (v[1:] + v[:-1]) / 2, [v[-1] + step[-1] / 2]])
    return np.exp(edges) if log else edges


def _heatmaps(fig, ds, hints, spec, variable):
    from matplotlib.ticker import NullFormatter

    x, y = hints["x"], hints["y"]
    for name in (x, y):
        if name not in ds[variable].dims:
            raise InvalidParameter(f"plot: {name!r} is not a dimension of {variable!r} "
                                   f"{ds[variable].dims}")  # fmt: skip
    facet = [d for d in ds[variable].dims if d not in (x, y, "seed")]
    facet_dim = facet[0] if facet else None
    panels = list(ds[facet_dim].values) if facet_dim else [None]
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    how = hints.get("reduce", "mean")
    boundary = hints.get("boundary")
    curve = None
    if boundary == "minority_threshold":
        from ._adapters import minority_threshold_curve

        fixed = spec["fixed"]
        curve = minority_threshold_curve(fixed["K_A"], fixed["K_B"], fixed["E_W"], ds[y].values)
    for ax, value in zip(axes, panels, strict=True):
        da = ds[variable] if value is None else ds[variable].sel({facet_dim: value})
        grid = _reduce(da, (y, x), how).transpose(y, x)
        mesh = ax.pcolormesh(_edges(ds[x].values, _is_log(spec, x)),
                             _edges(ds[y].values, _is_log(spec, y)), grid.values, shading="flat",
                             cmap="viridis")  # fmt: skip
        reduced = da.size > grid.size
        fig.colorbar(mesh, ax=ax, label=f"{how} of {variable}" if reduced else variable)
        for name, axis, set_scale in ((x, ax.xaxis, ax.set_xscale), (y, ax.yaxis, ax.set_yscale)):
            if _is_log(spec, name):
                set_scale("log")
                axis.set_minor_formatter(NullFormatter())
        if isinstance(boundary, dict):
            for name, level in boundary.items():
                line = ax.axvline if name == x else ax.axhline
                line(level, color="red", linestyle="--", label=f"predicted: {name} = {level:g}")
        elif curve is not None:
            ax.plot(curve, ds[y].values, "r--o", label="predicted: R*(E_H), bisection")
        if boundary is not None:
            ax.legend(loc="best", fontsize="small")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if value is not None:
            ax.set_title(f"{facet_dim} = {value}")


def _seeds(fig, ds, variable):
    from ..tolerances import DESCENT_OBJECTIVE

    ax = fig.subplots()
    da = ds[variable]
    others = [d for d in da.dims if d != "seed"]
    stacked = da.stack(case=others) if others else da.expand_dims(case=[0])
    for i in range(stacked.sizes["case"]):
        column = stacked.isel(case=i)
        label = (
            ", ".join(
                f"{d}={column[d].item():g}"
                if isinstance(column[d].item(), float)
                else f"{d}={column[d].item()}"
                for d in others
            )
            or variable
        )
        ax.plot(ds["seed"].values, column.values, ".", markersize=2, label=label)
    ax.set_yscale("symlog", linthresh=1e-12)
    ax.axhline(DESCENT_OBJECTIVE, color="red", linestyle="--",
               label=f"tolerance DESCENT_OBJECTIVE = {DESCENT_OBJECTIVE:g}")  # fmt: skip
    worst = worst_case(ds, variable)
    ax.annotate(f"worst {worst['value']:.3g}\nseed {worst.get('seed')}",
                (worst["coords"]["seed"], worst["value"]), textcoords="offset points",
                xytext=(10, 10), arrowprops={"arrowstyle": "->"})  # fmt: skip
    ax.set_xlabel("seed index")
    ax.set_ylabel(variable)
    ax.legend(loc="best", fontsize="small")


def plot_sweep(ds, *, variable: str | None = None):
    """Draw a finished sweep (:func:`ufm.sweep.open_result`) as a matplotlib Figure.

    Parameters
    ----------
    ds : xarray.Dataset
    variable : str, optional
        Output to draw (default: the spec's ``plot.variable``, else the first output).

    Returns
    -------
    matplotlib.figure.Figure
        Heat maps over (x, y) with the predicted boundary (one panel per value of a third
        dimension), or the per-seed values with the worst case and its seed marked.

    Raises
    ------
    InvalidFile
        ``ds`` is not a sweep result.
    InvalidParameter
        ``variable`` or the plot hints name something the result does not have.
    """
    from matplotlib.figure import Figure

    if "spec" not in ds.attrs:
        raise InvalidFile("plot_sweep needs a sweep result (ufm.sweep.open_result)")
    spec = json.loads(ds.attrs["spec"])
    hints = json.loads(ds.attrs.get("plot", "{}"))
    variable = variable or hints.get("variable") or spec["outputs"][0]
    if variable not in spec["outputs"]:
        raise InvalidParameter(f"variable must be one of {spec['outputs']}, got {variable!r}")
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    if "x" in hints and "y" in hints:
        _heatmaps(fig, ds, hints, spec, variable)
    elif "seed" in ds[variable].dims:
        _seeds(fig, ds, variable)
    else:
        raise InvalidParameter("plot: the spec's [plot] table needs x and y (two parameters)")
    fig.suptitle(f"ufm sweep {spec['name']} ({spec['task']}): {variable}; "
                 f"{', '.join(f'{k}={v}' for k, v in spec['fixed'].items())}",
                 fontsize="medium")  # fmt: skip
    return fig
