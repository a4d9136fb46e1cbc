"""Options and output helpers shared by the subcommands."""

from __future__ import annotations

import functools
import json
import math

import click
import numpy as np

from ..errors import InvalidParameter


def to_jsonable(value):
    """Arrays to nested lists, numpy scalars to Python numbers; NaN/inf are refused, not emitted."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            raise InvalidParameter(f"refusing to emit a non-finite number ({value}) as JSON")
        return value
    return value


def emit_json(obj) -> None:
    """Print one JSON object on stdout."""
    click.echo(json.dumps(to_jsonable(obj), allow_nan=False))


def format_value(value) -> str:
    """A readable cell: ``undefined`` for None, 6 significant digits for floats."""
    if value is None:
        return "undefined"
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


def emit_table(rows, headers=None) -> None:
    """Print rows (sequences of cells) as an aligned plain-text table."""
    rows = [[format_value(c) for c in row] for row in rows]
    if headers:
        rows.insert(0, list(headers))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for j, row in enumerate(rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if headers and j == 0:
            click.echo("  ".join("-" * w for w in widths))


def _parse_sizes(ctx, param, value):
    if value is None:
        return None
    try:
        return tuple(int(s) for s in value.split(","))
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers like 10,10,5, got {value!r}"
        ) from None


def _loss_parameter_options() -> tuple[list, dict]:
    """One ``--<name>`` option per parameter of the registered losses (e.g. ``--smoothing`` of
    ``ce-ls``), and for each parameter the losses that take it: a new loss's parameters reach the
    command line with no change here."""
    from ..losses import loss_class, loss_names

    owners: dict[str, list[str]] = {}
    docs: dict[str, str] = {}
    for name in loss_names():
        for param, spec in loss_class(name).parameters.items():
            owners.setdefault(param, []).append(name)
            docs[param] = f"{spec.doc} (loss {', '.join(owners[param])})."
    options = [
        click.option(f"--{param.replace('_', '-')}", param, type=float, default=None, help=doc)
        for param, doc in docs.items()
    ]
    return options, owners


def problem_options(func):
    """The options that name a regularized UFM.

    ``--loss --bias --K --d --n/--class-sizes --lambda-*`` and the loss's own parameters (e.g.
    ``--smoothing``), passed on as ``problem=Problem(...)``.
    """
    from ..losses import loss_names

    loss_options, owners = _loss_parameter_options()
    options = [
        click.option(
            "--loss", type=click.Choice(loss_names()), required=True, help="Loss function."
        ),
        *loss_options,
        click.option(
            "--bias",
            type=click.Choice(["regularized", "free", "none"]),
            required=True,
            help="Bias mode: penalized by lambda_b, unpenalized, or absent.",
        ),
        click.option("--K", "K", type=int, required=True, help="Number of classes (>= 2)."),
        click.option("--d", "d", type=int, required=True, help="Feature dimension."),
        click.option("--n", "n", type=int, default=None, help="Samples per class (balanced)."),
        click.option(
            "--class-sizes",
            callback=_parse_sizes,
            default=None,
            help="Comma-separated class sizes n1,...,nK (imbalanced); replaces --n.",
        ),
        click.option(
            "--lambda-w", "lambda_W", type=float, required=True, help="Weight decay on W."
        ),
        click.option(
            "--lambda-h", "lambda_H", type=float, required=True, help="Weight decay on H."
        ),
        click.option("--lambda-b", "lambda_b", type=float, default=None, help="Weight decay on b."),
    ]
    for option in reversed(options):
        func = option(func)

    @functools.wraps(func)
    def wrapper(**kwargs):
        from ..problem import Problem

        names = ("loss", "bias", "K", "d", "n", "class_sizes", "lambda_W", "lambda_H", "lambda_b")
        spec = {name: kwargs.pop(name) for name in names}
        given = {p: v for p in owners if (v := kwargs.pop(p)) is not None}
        for param in given:
            if spec["loss"] not in owners[param]:
                raise InvalidParameter(
                    f"--{param.replace('_', '-')} applies only to loss "
                    f"{' or '.join(map(repr, owners[param]))}, got --loss {spec['loss']}"
                )
        return func(problem=Problem(**spec, loss_params=given), **kwargs)

    return wrapper


def json_option(func):
    """``--json``: one JSON object on stdout instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(func)
