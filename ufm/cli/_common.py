"""Options and output helpers shared by the subcommands.

Every ``--json`` output goes through :func:`envelope` (via :func:`emit_json`), and the options that
mean the same thing in several subcommands are made here once: :func:`out_option` (``-o/--out``),
:func:`plot_option` (``--plot``), :func:`seed_option` (``--seed``), :func:`init_scale_option`,
:func:`problem_options` (``--loss --bias --K --d --n --class-sizes --lambda-*``) and
:func:`json_option`. :func:`check_outputs` refuses unwritable output paths before any work.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import metadata

import click
import numpy as np

from .._version import __version__
from ..errors import InvalidParameter

#: Keys that every subcommand's ``--json`` object carries besides its own contract keys.
ENVELOPE_KEYS = ("ufm_version", "command", "parameters", "versions")

#: Packages whose installed versions the envelope reports (read from their metadata, not imported).
VERSIONED_PACKAGES = ("numpy", "scipy", "cvxpy", "numba", "sympy")


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


def envelope(result: dict, ctx: click.Context | None = None) -> dict:
    """The one shape of every ``--json`` output: the command's own keys plus :data:`ENVELOPE_KEYS`.

    ``ufm_version``; ``command`` (the subcommand path, e.g. ``"relax nuclear"``); ``parameters``
    (every option as parsed, keyed by its flag without the dashes, e.g. ``"lambda-w"``, and
    ``"json": true``); ``versions`` ({package: version or null} for :data:`VERSIONED_PACKAGES`).
    The command's keys stay at the top level unchanged, and win over an envelope key of the same
    name (``ufm lesde`` keeps its own ``parameters``: the simulation's resolved parameters).
    """
    ctx = ctx or click.get_current_context()
    return {
        "ufm_version": __version__,
        "command": command_name(ctx),
        "parameters": given_parameters(ctx),
        "versions": package_versions(),
        **result,
    }


def command_name(ctx: click.Context) -> str:
    """The subcommand path without the program name: ``"minimizer"``, ``"relax nuclear"``."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(reversed(names))


def given_parameters(ctx: click.Context) -> dict:
    """The command's options and arguments as parsed, JSON-ready, keyed by flag name.

    Hidden (deprecated) options appear only when used; their value is also folded into the option
    that replaced them.
    """
    out = {}
    for param in ctx.command.params:
        if param.name not in ctx.params:
            continue
        value = ctx.params[param.name]
        if getattr(param, "hidden", False) and value in (None, False, param.default):
            continue
        out[_flag(param)] = to_jsonable(value)
    return out


def _flag(param: click.Parameter) -> str:
    hidden = getattr(param, "hidden_aliases", ())
    longs = [o for o in param.opts if o.startswith("--") and o not in hidden]
    return longs[0][2:] if longs else param.name


@functools.cache
def package_versions() -> dict:
    """``{package: version or None}`` for :data:`VERSIONED_PACKAGES`, read without importing."""
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def emit_json(obj: dict) -> None:
    """Print the command's result as one JSON object on stdout, in the shared :func:`envelope`."""
    click.echo(json.dumps(to_jsonable(envelope(obj)), allow_nan=False))


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


class AliasedOption(click.Option):
    """A click option with old spellings (``hidden_aliases``) that still parse but are not shown
    in ``--help``: scripts written against an older flag name keep working."""

    def __init__(self, *param_decls, hidden_aliases=(), **kwargs):
        super().__init__(*param_decls, **kwargs)
        self.hidden_aliases = tuple(hidden_aliases)

    def get_help_record(self, ctx):
        shown = self.opts
        self.opts = [o for o in shown if o not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def out_option(what: str, aliases=("--output",)):
    """``-o/--out FILE.npz``: where to save ``what`` (old spellings in ``aliases`` still parse)."""
    return click.option(
        "-o", "--out", *aliases, "out", cls=AliasedOption, hidden_aliases=aliases,
        type=click.Path(dir_okay=False), default=None, help=f"Save {what} to FILE.npz.",
    )  # fmt: skip


def plot_option(what: str):
    """``--plot FILE``: write ``what`` as a figure (.png, .pdf or .svg by suffix)."""
    return click.option(
        "--plot", type=click.Path(dir_okay=False), default=None,
        help=f"Write {what} to FILE (.png, .pdf or .svg).",
    )  # fmt: skip


def seed_option(help: str, default: int | None = 0):
    """``--seed S``: an integer >= 0 (a negative seed is a one-line usage error)."""
    return click.option(
        "--seed", type=click.IntRange(min=0), default=default, show_default=default is not None,
        help=help,
    )  # fmt: skip


def init_scale_option(default: float):
    """``--init-scale S``: standard deviation of the random start."""
    return click.option(
        "--init-scale", type=float, default=default, show_default=True,
        help="Standard deviation of the random start's entries.",
    )  # fmt: skip


def check_outputs(out=None, plot=None) -> None:
    """Refuse, before anything is computed, an ``--out`` or ``--plot`` path that cannot be
    written (wrong suffix, a directory, a missing folder)."""
    from ..io import check_writable
    from ..plot import FIGURE_SUFFIXES

    if out is not None:
        check_writable(out, (".npz",))
    if plot is not None:
        check_writable(plot, FIGURE_SUFFIXES)


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
        click.option(
            "--K",
            "K",
            type=int,
            default=None,
            help="Number of classes (>= 2); with --class-sizes, their count by default.",
        ),  # fmt: skip
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
        if spec["K"] is None:
            if spec["class_sizes"] is None:
                raise InvalidParameter("--K is required (or give --class-sizes n1,...,nK)")
            spec["K"] = len(spec["class_sizes"])
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
