"""``ufm minimizer``: closed-form global minimizers (logic in :mod:`ufm.minimizers`)."""

from __future__ import annotations

import click
import numpy as np

from ._common import (
    check_outputs,
    emit_json,
    emit_table,
    json_option,
    out_option,
    problem_options,
    seed_option,
)


@click.command()
@problem_options
@out_option("the realization (W, H, b)")
@seed_option("Rotate the realization (printed and saved) by a seeded orthogonal matrix.", None)
@click.option("--latex", is_flag=True, help="Print the sympy expressions as LaTeX.")
@json_option
def minimizer(problem, out, seed, latex, as_json):
    """Closed-form global minimizer of a balanced regularized UFM (CE: Zhu et al. 2021 Thm 3.1;
    MSE: Tirer & Bruna 2022, Zhou et al. 2022).

    kappa = K sqrt(n lambda_W lambda_H) decides: W = 0, H = 0 iff kappa >= 1. With --json one
    object: problem, conventions, objective, w_norm (norm of each row of W), h_norm (norm of each
    column of H), b, zero_solution, threshold (the value of kappa; formula and critical value in
    conventions), W (K x d), M (d x K; both rotated by --seed exactly as the saved file),
    expressions, hypotheses, citation.
    """
    from ..errors import InvalidParameter
    from ..metrics import Conventions, class_means
    from ..minimizers import global_minimizer

    if latex and as_json:
        raise InvalidParameter("--latex and --json are exclusive: choose one output format")
    check_outputs(out=out)
    cf = global_minimizer(problem)
    config = cf.configuration(seed=seed)
    if out is not None:
        config.save(out)
    if latex:
        click.echo(cf.latex())
        return
    result = {
        "problem": problem.to_dict(),
        "conventions": {
            "objective": "ufm.objectives (data term normalized by 1/N; lambda/2 ||.||^2 penalties)",
            "threshold_formula": cf.threshold_formula,
            "threshold_quantity": "kappa",
            "threshold_critical": cf.threshold_critical,
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
        "W": config.W,
        "M": class_means(config.H, config.labels, problem.K)[0],
        "expressions": {name: str(expr) for name, expr in cf.expressions.items()},
        "hypotheses": cf.hypotheses,
        "citation": cf.citation,
    }
    if out is not None:
        result["output"] = str(out)
    if as_json:
        emit_json(result)
        return
    rows = [(k, result[k]) for k in ("objective", "zero_solution", "threshold")]
    rows += [("w_norm (every row)", cf.w_norm), ("h_norm (every column)", cf.h_norm)]
    rows += [("b", " ".join(f"{v:.6g}" for v in cf.b)), ("threshold_formula", cf.threshold_formula)]
    rows += [("hypotheses", cf.hypotheses), ("citation", cf.citation)]
    emit_table(rows, headers=("quantity", "value"))
