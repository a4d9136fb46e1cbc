"""``ufm relax lpm | nuclear | minority | angle``: convex relaxations (logic in
:mod:`ufm.relaxations`)."""

from __future__ import annotations

import click

from ._common import (
    _parse_sizes,
    check_outputs,
    emit_json,
    emit_table,
    json_option,
    out_option,
    plot_option,
    problem_options,
)

_SOLVER = click.option(
    "--solver",
    type=click.Choice(["clarabel", "scs"]),
    default="clarabel",
    show_default=True,
    help="Conic solver (Clarabel: interior point, tight; SCS: first order, loose).",
)


def _parse_floats(ctx, param, value):
    if value is None:
        return None
    try:
        return tuple(float(s) for s in value.split(","))
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated numbers like 1,2,5, got {value!r}"
        ) from None


def _emit(result: dict, as_json: bool, matrices=()) -> None:
    """JSON, or a table of the scalars followed by each of ``matrices`` (row by row)."""
    if as_json:
        emit_json(result)
        return
    scalars = [
        (k, v) for k, v in result.items() if not hasattr(v, "shape") and not isinstance(v, list)
    ]
    emit_table(scalars, headers=("quantity", "value"))
    for name in matrices:
        click.echo(f"\n{name} ({' x '.join(map(str, result[name].shape))}):")
        emit_table(result[name].tolist())


@click.group()
def relax():
    """Convex relaxations: layer-peeled SDP, nuclear-norm certificate, Minority Collapse, max-min
    angle."""


@relax.command()
@click.option("--K", "K", type=int, required=True, help="Number of classes (>= 2).")
@click.option("--class-sizes", callback=_parse_sizes, required=True, help="Class sizes n1,...,nK.")
@click.option("--energy-w", "E_W", type=float, required=True, help="Budget E_W on mean ||w_k||^2.")
@click.option("--energy-h", "E_H", type=float, required=True, help="Budget E_H on mean ||h||^2.")
@_SOLVER
@click.option(
    "--symmetry",
    type=click.Choice(["classes", "none"]),
    default="classes",
    show_default=True,
    help="classes: SDP reduced by exchanging equal-size classes (fast); none: full 2K x 2K SDP.",
)
@json_option
def lpm(K, class_sizes, E_W, E_H, solver, symmetry, as_json):
    """Global minimum of the layer-peeled model (Fang et al. 2021) by its SDP.

    Prints the optimal value, solver status and duality gap, the rank of the optimal Gram matrix
    (the smallest feature dimension that attains the optimum), and W (K x rank) and the class means
    M (rank x K) factored from it.
    """
    from ..relaxations import layer_peeled_sdp

    res = layer_peeled_sdp(K, class_sizes, E_W, E_H, solver=solver, symmetry=symmetry)
    _emit(
        {
            "objective": res.objective,
            "status": res.status,
            "solver": res.solver,
            "duality_gap": res.duality_gap,
            "rank": res.rank,
            "solve_time": res.solve_time,
            "W": res.W,
            "M": res.M,
            "gram": res.gram,
        },
        as_json,
        matrices=("W", "M"),
    )


@relax.command()
@problem_options
@_SOLVER
@click.option(
    "--symmetry",
    type=click.Choice(["classes", "samples", "none"]),
    default=None,
    help="Symmetry reduction: classes (default; within-class and exchange of equal-size classes, "
    "fastest), samples (within-class only, K x K), none (K x N logits).",
)
@click.option("--unreduced", is_flag=True, hidden=True, help="Deprecated: --symmetry none.")
@click.option(
    "--allow-lower-bound",
    is_flag=True,
    help="Where d is below the rank bound, report the convex optimum as a lower bound "
    "(exact: false) instead of refusing.",
)
@out_option("the recovered (W, H, b)", aliases=("--save",))
@json_option
def nuclear(problem, solver, symmetry, unreduced, allow_lower_bound, out, as_json):
    """Certified global optimum of a regularized UFM by its nuclear-norm convex program.

    ``objective`` is the solver's optimal value, ``lower`` the certified lower bound (the dual
    value) and ``upper`` the UFM objective of the recovered (W, H, b); all three agree up to the
    solver tolerance. Refuses (exit 2) when d is below the rank the optimum
    needs, unless --allow-lower-bound.
    """
    from ..relaxations import nuclear_relaxation

    check_outputs(out=out)
    cert = nuclear_relaxation(
        problem, solver=solver, reduced=not unreduced, symmetry=symmetry,
        allow_lower_bound=allow_lower_bound,
    )  # fmt: skip
    if out:
        cert.configuration().save(out)
    _emit(
        {
            "objective": cert.objective,
            "lower": cert.lower,
            "upper": cert.upper,
            "exact": cert.exact,
            "status": cert.status,
            "solver": cert.solver,
            "duality_gap": cert.duality_gap,
            "rank": cert.rank,
            "rank_bound": cert.rank_bound,
            "symmetry": cert.symmetry,
            "solve_time": cert.solve_time,
            "W": cert.W,
            "M": cert.M,
            "b": cert.b,
            "Z": cert.Z,
        },
        as_json,
    )


@relax.command()
@click.option("--K", "K", type=int, required=True, help="Number of unit vectors (>= 2).")
@_SOLVER
@json_option
def angle(K, solver, as_json):
    """Max-min-angle SDP: K unit vectors with the smallest largest pairwise cosine.

    The optimum is t = -1/(K-1), attained by the simplex ETF Gram matrix (Rankin's simplex bound).
    """
    from ..relaxations import max_min_angle

    res = max_min_angle(K, solver=solver)
    _emit(
        {
            "t": res.t,
            "etf_cosine": -1.0 / (K - 1),
            "status": res.status,
            "solver": res.solver,
            "duality_gap": res.duality_gap,
            "solve_time": res.solve_time,
            "G": res.G,
        },
        as_json,
    )


@relax.command()
@click.option("--KA", "K_A", type=int, required=True, help="Number of majority classes.")
@click.option("--KB", "K_B", type=int, required=True, help="Number of minority classes (>= 2).")
@click.option("--energy-w", "E_W", type=float, required=True, help="Budget E_W.")
@click.option("--energy-h", "E_H", type=float, required=True, help="Budget E_H.")
@click.option(
    "--ratios",
    callback=_parse_floats,
    default="1,1.5,2,3,5,7,10,15,20,30",
    show_default=True,
    help="Imbalance ratios R = n_A/n_B, increasing, >= 1.",
)
@click.option(
    "--xtol", type=float, default=1e-3, show_default=True, help="Bisection accuracy on R."
)
@_SOLVER
@plot_option("the sweep")
@json_option
def minority(K_A, K_B, E_W, E_H, ratios, xtol, solver, plot, as_json):
    """Minority Collapse: sweep R = n_A/n_B in the layer-peeled model and locate the threshold.

    For each ratio prints the mean cosine between minority classifier rows (undefined where those
    rows vanish), their spread max ||w_k - w_l||^2 / E_W and the collapse certificate psi (>= 0
    iff collapsed; ``certificate_error`` bounds its error). The threshold R* is bisected on the
    certified sign of psi between the last ratio certified apart and the first certified collapsed:
    R* lies in ``threshold_bracket``, ``threshold`` is its midpoint and ``threshold_accuracy`` its
    half-width.
    """
    from ..relaxations import minority_collapse_sweep

    check_outputs(plot=plot)
    sweep = minority_collapse_sweep(K_A, K_B, E_W, E_H, ratios, xtol=xtol, solver=solver)
    th = sweep.threshold
    if plot:
        from ..plot import plot_minority_sweep, save

        save(plot_minority_sweep(sweep), plot)
    result = {
        "ratios": sweep.ratios,
        "minority_cosine": sweep.minority_cosine,
        "minority_spread": sweep.minority_spread,
        "certificate": sweep.certificate,
        "certificate_error": sweep.certificate_error,
        "collapsed": sweep.collapsed,
        "objective": sweep.objective,
        "threshold": None if th is None else th.threshold,
        "threshold_accuracy": None if th is None else th.accuracy,
        "threshold_bracket": None if th is None else th.bracket,
    }
    if as_json:
        emit_json(result)
        return
    rows = zip(
        sweep.ratios,
        sweep.minority_cosine,
        sweep.minority_spread,
        sweep.certificate,
        sweep.collapsed,
        strict=True,
    )
    emit_table(rows, headers=("R", "minority_cosine", "minority_spread", "psi", "collapsed"))
    if th is None:
        click.echo("threshold: no transition within the given ratios")
    else:
        lo, hi = th.bracket
        click.echo(
            f"threshold: R* in [{lo:.10g}, {hi:.10g}] (R = {th.threshold:.10g} +/- "
            f"{th.accuracy:.2g}; psi error <= {th.certificate_error:.2g})"
        )
