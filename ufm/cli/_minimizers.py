"""``ufm minimizer``: closed-form global minimizers (logic in :mod:`ufm.minimizers`)."""

from __future__ import annotations

import click
import numpy as np

from ._common import emit_json, emit_table, json_option, problem_options


@click.command()
@problem_options
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, help="Save to FILE.npz."
)
@click.option("--seed", type=int, default=None, help="Rotate the realization (with -o).")
@click.option("--latex", is_flag=True, help="Print the sympy expressions as LaTeX.")
@json_option
def minimizer(problem, output, seed, latex, as_json):
    """Closed-form global minimizer of a balanced regularized UFM (CE: Zhu et al. 2021 Thm 3.1;
    MSE: Tirer & Bruna 2022, Zhou et al. 2022).

    kappa = K sqrt(n lambda_W lambda_H) decides: W = 0, H = 0 iff kappa >= 1. With --json one
    object: problem, conventions, objective, w_norm (norm of each row of W), h_norm (norm of each
    column of H), b, zero_solution, threshold (the value of kappa; formula and critical value in
    conventions), W (K x d), M (d x K), expressions, hypotheses, citation.
    """
    from ..errors import InvalidParameter
    from ..metrics import Conventions
    from ..minimizers import global_minimizer

    if latex and as_json:
        raise InvalidParameter("--latex and --json are exclusive: choose one output format")
    cf = global_minimizer(problem)
    if output is not None:
        cf.configuration(seed=seed).save(output)
    if latex:
        click.echo(cf.latex())
        return
    result = {
        "problem": problem.to_dict(),
        "conventions": {
            "objective": "ufm.objectives (data term normalized by 1/N; lambda/2 ||.||^2 penalties)",
            "threshold_formula": cf.threshold_formula,
            "threshold_quantity": "kappa",
            "threshold_critical": 1.0,
            "w_norm": "list: norm of each row w_k of W (all equal at the minimizer)",
            "h_norm": "list: norm of each feature column h_i of H (all equal at the minimizer)",
            "metrics": Conventions().to_dict(),
        },
        "objective": cf.objective,
        "w_norm": np.linalg.norm(cf.W, axis=1),
        "h_norm": np.linalg.norm(cf.H, axis=0),
        "b": cf.b,
        "zero_solution": cf.zero_solution,
        "threshold": cf.threshold,
        "W": cf.W,
        "M": cf.M,
        "expressions": {name: str(expr) for name, expr in cf.expressions.items()},
        "hypotheses": cf.hypotheses,
        "citation": cf.citation,
    }
    if output is not None:
        result["output"] = str(output)
    if as_json:
        emit_json(result)
        return
    rows = [(k, result[k]) for k in ("objective", "zero_solution", "threshold")]
    rows += [("w_norm (every row)", cf.w_norm), ("h_norm (every column)", cf.h_norm)]
    rows += [("b", " ".join(f"{v:.6g}" for v in cf.b)), ("threshold_formula", cf.threshold_formula)]
    rows += [("hypotheses", cf.hypotheses), ("citation", cf.citation)]
    emit_table(rows, headers=("quantity", "value"))
