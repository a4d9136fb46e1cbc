"""``ufm flow``, ``ufm lesde`` and ``ufm lesde fit``."""

from __future__ import annotations

import click
import numpy as np

from ._common import (
    check_outputs,
    emit_json,
    emit_table,
    init_scale_option,
    json_option,
    out_option,
    plot_option,
    problem_options,
    seed_option,
)


@click.command()
@problem_options
@click.option("--steps", type=int, required=True, help="Number of gradient steps T.")
@click.option("--lr", type=float, required=True, help="Step size eta.")
@seed_option("Seed of the random start.")
@click.option(
    "--init-scale", type=float, default=None,
    help="Standard deviation of the random start's entries.  [default: 1/sqrt(d)]",
)  # fmt: skip
@click.option("--record-every", type=int, default=None, help="Record period (default steps/100).")
@out_option("the final point (W, H, b)")
@plot_option("the descent curves")
@json_option
def flow(problem, steps, lr, seed, init_scale, record_every, out, plot, as_json):
    """Run full-batch gradient descent on a UFM (numba) and measure collapse.

    Reports the final objective, the NC metrics, where a closed-form global minimizer applies the
    gap to it (relative objective gap and rotation-free Gram gaps; otherwise gap_to_closed_form is
    null), and a verdict: not_converged (gradient norm above its tolerance), global_minimum (within
    tolerance of the closed form or, where none applies, of the convex certificate's lower bound)
    or stationary. Runs longer than 2 s show their progress on stderr.
    """
    from ..dynamics import (
        collapse_metrics,
        convergence_verdict,
        default_init_scale,
        gap_to_closed_form,
        gradient_descent,
    )
    from ._progress import StepProgress

    check_outputs(out=out, plot=plot)
    if init_scale is None:
        init_scale = default_init_scale(problem)
    with StepProgress(steps, "gradient descent") as progress:
        result = gradient_descent(
            problem, steps=steps, lr=lr, seed=seed, init_scale=init_scale,
            record_every=record_every, progress=progress,
        )  # fmt: skip
    star = gap_to_closed_form(result)
    gap = None if star is None else {"objective": star.objective_gap, **star.gram_gaps}
    verdict = convergence_verdict(result)
    if out:
        result.configuration().save(out)
    if plot:
        from ..plot import plot_descent, save

        save(plot_descent(result, optimum=None if star is None else star.objective), plot)
    out = {
        "objective": float(result.objective[-1]),
        "gradient_norm": float(result.gradient_norm[-1]),
        "metrics": result.metrics,
        "collapse_metrics": list(collapse_metrics(problem)),
        "gap_to_closed_form": gap,
        "steps": steps,
        "seconds": result.seconds,
        "problem": problem.to_dict(),
        "verdict": verdict,
        "init_scale": init_scale,
    }
    if as_json:
        emit_json(out)
        return
    rows = [("objective", out["objective"]), ("gradient_norm", out["gradient_norm"])]
    rows += [(f"gap.{k}", v) for k, v in (gap or {"closed_form": None}).items()]
    rows += [("verdict", verdict["status"]), ("verdict.reference", verdict["reference"])]
    rows += [("verdict.objective_gap", verdict["objective_gap"])]
    if verdict["advice"] is not None:
        rows += [("verdict.advice", verdict["advice"])]
    rows += list(result.metrics.items()) + [("steps", steps), ("seconds", result.seconds)]
    emit_table(rows, headers=("quantity", "value"))


#: The simulation's options that have no default: required unless a subcommand (``fit``) is given.
_SIMULATION_REQUIRED = ("K", "n", "d", "alpha", "beta", "noise", "time_")


@click.group(invoke_without_command=True)
@click.option(
    "--model", type=click.Choice(["I", "L", "ce"]), default="I", show_default=True,
    help="I, L: the linear drift of the authors' code; ce: cross-entropy variant (derived here).",
)  # fmt: skip
@click.option("--K", "K", type=int, help="Number of classes (required).")
@click.option("--n", "n", type=int, help="Samples per class (required).")
@click.option("--d", "d", type=int, help="Feature dimension (L: >= K) (required).")
@click.option("--alpha", type=float, help="Intra-class impact (required).")
@click.option("--beta", type=float, help="Inter-class impact (required).")
@click.option("--noise", type=float, help="SGD noise sigma (diffusion sqrt(lr) sigma) (required).")
@click.option("--time", "time_", type=float, help="Final time T = lr x SGD steps (required).")
@click.option("--lr", type=float, default=1.0, show_default=True, help="Learning rate eta.")
@click.option("--dt", type=float, default=1e-2, show_default=True, help="Euler-Maruyama step.")
@click.option("--paths", type=int, default=100, show_default=True, help="Independent paths.")
@seed_option("Seed of the start and of the Brownian paths.")
@init_scale_option(0.1)
@click.option(
    "--criterion", type=click.Choice(["readout", "linear"]), default=None,
    help="linear (I, L default): LP separability; readout (ce default): logits classify all.",
)  # fmt: skip
@plot_option("the separability and metrics over time")
@json_option
@click.pass_context
def lesde(
    ctx, model, K, n, d, alpha, beta, noise, time_, lr, dt, paths, seed, init_scale, criterion,
    plot, as_json,
):  # fmt: skip
    """Simulate the locally elastic SDE (Zhang, Wang & Su 2021) and estimate P(separable at T).

    The interval is Clopper-Pearson at 95%; metrics are NC metrics of the features at T averaged
    over paths; separation_ratio_* are root-mean-square ratios of the centred class-mean norm at T
    to time 0 (measured over paths; predicted from the exact Gaussian law, null for ce).
    ``ufm lesde fit FILE`` instead fits the elasticities to saved snapshots.
    """
    values = dict(K=K, n=n, d=d, alpha=alpha, beta=beta, noise=noise, time_=time_)
    if ctx.invoked_subcommand is not None:
        given = [p.opts[0] for p in ctx.command.params if ctx.get_parameter_source(p.name).name
                 == "COMMANDLINE"]  # fmt: skip
        if given:
            raise click.UsageError(
                f"simulation options ({', '.join(given)}) do not apply to "
                f"'ufm lesde {ctx.invoked_subcommand}'"
            )
        return
    for name in _SIMULATION_REQUIRED:
        if values[name] is None:
            param = next(p for p in ctx.command.params if p.name == name)
            raise click.MissingParameter(ctx=ctx, param=param)
    from ..dynamics import simulate_lesde

    check_outputs(plot=plot)
    records = 11 if plot else 2
    result = simulate_lesde(
        K, n, d, alpha, beta, noise, time_, model=model, lr=lr, dt=dt, paths=paths, seed=seed,
        init_scale=init_scale, records=records,
    )  # fmt: skip
    estimate = result.separability(criterion)
    metrics = result.metrics()
    if plot:
        from ..plot import plot_lesde, save

        save(plot_lesde(result, criterion=criterion), plot)
    parameters = {k: v for k, v in result.parameters.items() if not k.startswith("_")}
    out = {
        "model": model,
        "separable_probability": estimate.probability,
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "confidence": estimate.confidence,
        "criterion": estimate.criterion,
        "separation_ratio_measured": result.separation_ratio(),
        "separation_ratio_predicted": result.separation_ratio_predicted(),
        "metrics": metrics,
        "parameters": parameters,
    }
    for key in ("separation_ratio_measured", "separation_ratio_predicted"):
        if out[key] is not None and not np.isfinite(out[key]):
            out[key] = None
    if as_json:
        emit_json(out)
        return
    keys = ("model", "separable_probability", "ci_low", "ci_high", "criterion",
            "separation_ratio_measured", "separation_ratio_predicted")  # fmt: skip
    emit_table([(k, out[k]) for k in keys] + list(metrics.items()), headers=("quantity", "value"))


@lesde.command("fit")
@click.argument("snapshots", type=click.Path(dir_okay=False))
@click.option(
    "--model", type=click.Choice(["I", "L"]), default="I", show_default=True,
    help="The linear model whose modes are fitted.",
)  # fmt: skip
@click.option(
    "--windows", type=int, default=1, show_default=True,
    help="Equal time windows with their own alpha, beta (1: constant).",
)  # fmt: skip
@plot_option("the measured and fitted A(t), B(t) and the residual")
@json_option
def lesde_fit(snapshots, model, windows, plot, as_json):
    """Fit the elasticities alpha, beta of the linear LE-SDE to saved feature snapshots.

    SNAPSHOTS is an .npz file (np.savez) with 'snapshots' of shape (R, d, N) (features at R times,
    with 'labels' (N,) in 0..K-1) or (R, d, K) (class means, no labels), and optionally 'times'
    (R,), strictly increasing, in t = lr x steps (default 0..R-1). Least squares on the log-growth
    of the model's two mode families, inverted as in the authors' estimate_AB_I / estimate_AB_L.
    """
    from ..dynamics import fit_lesde
    from ..dynamics._lesde_fit import load_snapshots

    check_outputs(plot=plot)
    fit = fit_lesde(**load_snapshots(snapshots), model=model, windows=windows)
    if plot:
        from ..plot import plot_lesde_fit, save

        save(plot_lesde_fit(fit), plot)
    out = {
        "model": model,
        "edges": fit.edges,
        "alpha": fit.alpha,
        "beta": fit.beta,
        "residual": fit.residual,
        "direction_residual": float(fit.direction_residual.max()),
        "times": fit.times,
        "A": fit.A,
        "B": fit.B,
    }
    if as_json:
        emit_json(out)
        return
    rows = [
        (f"[{a:g}, {b:g}]", x, y)
        for a, b, x, y in zip(fit.edges[:-1], fit.edges[1:], fit.alpha, fit.beta, strict=True)
    ]
    rows.append(("residual (rms log-growth)", fit.residual, ""))
    rows.append(("direction residual (max)", out["direction_residual"], ""))
    emit_table(rows, headers=("window", "alpha", "beta"))
