"""``ufm minimizer``: closed-form global minimizers (logic in :mod:`ufm.minimizers` and, for
``--depth L >= 2``, :mod:`ufm.minimizers_deep`)."""

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
@click.option(
    "--depth", type=click.IntRange(min=1), default=1, show_default=True,
    help="Weight layers L of the deep linear UFM (L >= 2: loss mse, --lambda-w on every layer).",
)  # fmt: skip
@click.option(
    "--width", type=click.IntRange(min=1), default=None,
    help="Every hidden width d_{L-1} = ... = d_1 (default d); only with --depth >= 2.",
)  # fmt: skip
@out_option("the realization (W, H, b)")
@seed_option("Rotate the realization (printed and saved) by a seeded orthogonal matrix.", None)
@click.option("--latex", is_flag=True, help="Print the sympy expressions as LaTeX.")
@json_option
def minimizer(problem, depth, width, out, seed, latex, as_json):
    """Closed-form global minimizer of a balanced regularized UFM (CE: Zhu et al. 2021 Thm 3.1;
    MSE: Tirer & Bruna 2022, Zhou et al. 2022), or with --depth L >= 2 of the deep linear MSE UFM
    (any class sizes; ufm.minimizers_deep).

    kappa = K sqrt(n lambda_W lambda_H) decides: W = 0, H = 0 iff kappa >= 1. With --json one
    object: problem, conventions, objective, w_norm (norm of each row of W), h_norm (norm of each
    column of H), b, zero_solution, threshold (the value of kappa; formula and critical value in
    conventions), W (K x d), M (d x K; both rotated by --seed exactly as the saved file),
    expressions, hypotheses, citation.

    With --depth L >= 2 (q = L + 1 factors W_L, ..., W_1, H), --lambda-w is the decay lambda_l of
    every layer: the objective and threshold depend on the decays only through their geometric
    mean, so one number loses nothing but the split of the norms across layers (unequal decays:
    model_params['lambdas'] in Python, ufm.minimizers_deep). W is the classifier W_L, H the
    features W_{L-1}...W_1 H it reads, threshold is a = 2 N C sigma_1^(2/q - 2) with
    C = (q/2)(lambda_W^L lambda_H)^(1/q) and sigma_1 the largest singular value of the target,
    and the zero solution wins iff a >= a* (exact jump threshold). The JSON adds layer_norms
    (Frobenius norm of W{L}..W1 and H) and metastable (the window (a*, a_e) where a positive
    local minimizer survives, its singular values and objective).
    """
    from ..errors import InvalidParameter

    if latex and as_json:
        raise InvalidParameter("--latex and --json are exclusive: choose one output format")
    if depth == 1 and width is not None:
        raise InvalidParameter(f"--width needs --depth >= 2 (hidden widths), got --width {width}")
    check_outputs(out=out)
    if depth == 1:
        result, rows = _shallow(problem, out, seed, latex)
    else:
        result, rows = _deep(problem, depth, width, out, seed, latex)
    if result is None:
        return
    if out is not None:
        result["output"] = str(out)
    if as_json:
        emit_json(result)
        return
    emit_table(rows, headers=("quantity", "value"))


def _contract(objective, config, zero_solution, threshold) -> dict:
    """The keys of every depth: objective, w_norm (row norms of the classifier W), h_norm (column
    norms of the features H it reads), b, zero_solution, threshold, W and the class means M (d x K)
    of the saved configuration (rotated by --seed as the file is)."""
    from ..metrics import class_means

    return {
        "objective": objective,
        "w_norm": np.linalg.norm(config.W, axis=1),
        "h_norm": np.linalg.norm(config.H, axis=0),
        "b": config.b,
        "zero_solution": zero_solution,
        "threshold": threshold,
        "W": config.W,
        "M": class_means(config.H, config.labels, config.K)[0],
    }


def _shallow(problem, out, seed, latex):
    """The UFM's closed form (``ufm.minimizers.global_minimizer``): the JSON object and table."""
    from ..metrics import Conventions
    from ..minimizers import global_minimizer

    cf = global_minimizer(problem)
    config = cf.configuration(seed=seed)
    if out is not None:
        config.save(out)
    if latex:
        click.echo(cf.latex())
        return None, None
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
        **_contract(cf.objective, config, cf.zero_solution, cf.threshold),
        "expressions": {name: str(expr) for name, expr in cf.expressions.items()},
        "hypotheses": cf.hypotheses,
        "citation": cf.citation,
    }
    rows = [(k, result[k]) for k in ("objective", "zero_solution", "threshold")]
    rows += [("w_norm (every row)", cf.w_norm), ("h_norm (every column)", cf.h_norm)]
    rows += [("b", " ".join(f"{v:.6g}" for v in cf.b)), ("threshold_formula", cf.threshold_formula)]
    rows += [("hypotheses", cf.hypotheses), ("citation", cf.citation)]
    return result, rows


#: What the deep closed form assumes (ufm.minimizers_deep.deep_linear_minimizer).
_DEEP_HYPOTHESES = (
    "loss mse; bias free or none; lambda_W (every layer) > 0 and lambda_H > 0; any class sizes; "
    "d and every hidden width >= rank of the target (K without bias, K - 1 with a free bias)"
)


def _deep(problem, depth, width, out, seed, latex):
    """The deep linear MSE UFM's exact minimizer (``ufm.minimizers_deep``): JSON and table."""
    from ..errors import InvalidParameter
    from ..io import Configuration
    from ..metrics import Conventions
    from ..minimizers_deep import deep_linear_minimizer, jump_thresholds
    from ..models.deep_linear import DeepLinear

    if problem.loss != "mse":
        raise InvalidParameter(
            f"--depth {depth} needs --loss mse: only mse has a closed form at depth >= 2, got "
            f"--loss {problem.loss}"
        )
    if latex:
        raise InvalidParameter("--latex prints depth-1 sympy expressions: drop --depth or --latex")
    deep = problem.replace(
        model="deep-linear",
        lambda_W=0.0,
        model_params={
            "depth": depth,
            "lambdas": problem.lambda_W,
            "widths": [problem.d if width is None else width] * (depth - 1),
        },
    )
    cf = deep_linear_minimizer(deep, seed=seed)
    config = Configuration(blocks=cf.blocks, problem=deep)
    if out is not None:
        config.save(out)
    q = depth + 1
    jumps = jump_thresholds(q)
    a_star, a_e = float(jumps["a_star"]), float(jumps["a_e"])
    metastable = {
        "present": bool(np.isfinite(cf.metastable_objective)),
        "window": [a_star, a_e],
        "s": [None if np.isnan(v) else float(v) for v in cf.metastable],
        "objective": None if np.isnan(cf.metastable_objective) else cf.metastable_objective,
    }
    layer_names = DeepLinear.layer_names(deep)
    result = {
        "problem": deep.to_dict(),
        "conventions": {
            "objective": "ufm.models.deep_linear (data term normalized by 1/N; "
            "lambda_l/2 ||W_l||^2 on every layer, lambda_l = lambda_W; lambda_H/2 ||H||^2)",
            "threshold_formula": "a = 2 N C sigma_1^(2/q - 2), "
            f"C = (q/2)(lambda_W^L lambda_H)^(1/q), q = L + 1 = {q}; zero solution iff a >= a* "
            "(jump), metastable for a* < a < a_e",
            "threshold_quantity": "a",
            "threshold_critical": a_star,
            "W": f"the classifier {layer_names[0]} (K x d_(L-1))",
            "M": "class means of the features W_(L-1)...W_1 H that the classifier reads",
            "w_norm": f"list: norm of each row of {layer_names[0]}",
            "h_norm": "list: norm of each column of W_(L-1)...W_1 H",
            "layer_norms": "Frobenius norm of each block W{L}, ..., W1, H",
            "metastable": "window [a*, a_e]; per singular value of the target the metastable s "
            "(null where none); objective of the local minimizer keeping them (null if none)",
            "metrics": Conventions().to_dict(),
        },
        **_contract(cf.objective, config, cf.zero_solution, float(cf.a[0])),
        "layer_norms": cf.layer_norms(),
        "metastable": metastable,
        "expressions": {
            "g": "g_i(s) = (s - sigma_i)^2/(2N) + C s^(2/q)",
            "stationarity": "t^(2q-2) - sigma_i t^(q-2) + 2NC/q = 0, s = t^q",
            **{name: str(expr) for name, expr in jumps.items()},
        },
        "hypotheses": _DEEP_HYPOTHESES,
        "citation": "derived here (ufm.minimizers_deep, proofs/deep_linear.py); consistent with "
        "Tirer & Bruna 2022, Dang et al. 2023",
    }
    rows = [(k, result[k]) for k in ("objective", "zero_solution", "threshold")]
    rows += [("threshold_critical (a*)", a_star), ("metastable window end (a_e)", a_e)]
    rows += [("metastable objective", metastable["objective"])]
    rows += [(f"norm {name}", value) for name, value in result["layer_norms"].items()]
    rows += [("b", " ".join(f"{v:.6g}" for v in config.b))]
    rows += [("hypotheses", _DEEP_HYPOTHESES), ("citation", result["citation"])]
    return result, rows
