"""The ``ufm`` command line: a thin layer that parses, calls the library and formats.

Subcommands are imported only when invoked, so ``ufm --help`` starts in well under a second (no
sympy, cvxpy or numba import). Library errors (:class:`ufm.errors.UFMError`) and click's
usage errors become one ``error: ...`` line on stderr and exit status 2 (bad input) or 1 (a solver
or a check failed); Ctrl-C ends with one line ``aborted`` and exit status 130; never a
traceback. Every ``--json`` output has the shape of :func:`ufm.cli._common.envelope`.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from .._version import __version__
from ..errors import InvalidFile, InvalidParameter, UFMError

#: name -> ("module:attribute", one-line help). The help is repeated here so that listing the
#: commands needs no import; each command's own docstring is the full help.
COMMANDS = {
    "check": ("ufm.cli._claims:check", "Verify the catalogue of NC claims by every route."),
    "etf": ("ufm.cli._geometry:etf", "Print the simplex ETF for K classes in dimension d."),
    "minimizer": (
        "ufm.cli._minimizers:minimizer",
        "Closed-form global minimizer of a regularized UFM.",
    ),
    "relax": (
        "ufm.cli._relaxations:relax",
        "Convex relaxations: layer-peeled SDP, nuclear norm, ...",
    ),
    "flow": ("ufm.cli._dynamics:flow", "Run gradient descent on a UFM and measure collapse."),
    "lesde": ("ufm.cli._dynamics:lesde", "Simulate the locally elastic SDE of feature dynamics."),
    "metrics": ("ufm.cli._metrics:metrics", "NC metrics and objective of a saved configuration."),
    "measure": (
        "ufm.cli._measure:measure",
        "NC metrics of a network's features, streamed from disk.",
    ),
    "sweep": ("ufm.cli._sweep:sweep", "Phase diagrams and many-seed studies on Dask, as Zarr."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx):
        # Ctrl-C becomes click's Abort here, inside click's main, which would otherwise print an
        # empty line before re-raising it: main() then prints the one line ``aborted``.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ufm")
@click.option(
    "--memory-limit",
    default=None,
    metavar="SIZE",
    help="Refuse computations estimated to need more memory (e.g. 16GiB, inf). "
    "Default: $UFM_MEMORY_LIMIT or 8GiB.",
)
@click.option(
    "--time-limit",
    default=None,
    metavar="DURATION",
    help="Refuse simulations estimated to run longer (e.g. 2h, 90m, inf). "
    "Default: $UFM_TIME_LIMIT or 1h.",
)
def cli(memory_limit, time_limit):
    """ufm: Neural Collapse in the unconstrained features model.

    Exact geometry, closed-form global minimizers, convex certificates and collapse dynamics; every
    claim checked three ways. Conventions: W is K x d, H is d x N (columns grouped by class), b has
    length K.
    """
    from .._limits import set_limits

    set_limits(memory=memory_limit, time=time_limit)


def _one_line_warning(message, category, *args, **kwargs) -> str:
    """Accuracy warnings on the command line: ``warning: <message>``, without a source line."""
    return f"warning: {message}\n"


def main(argv=None) -> None:
    """Console-script entry point: run the CLI, turning library errors into one-line messages."""
    warnings.formatwarning = _one_line_warning
    try:
        cli.main(args=argv, prog_name="ufm", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # Ctrl-C: the long loops (descent, LE-SDE, solvers) stop between chunks of bounded time
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        # usage errors too: one line, not click's usage block (``--help`` shows the usage)
        click.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code)
    except (InvalidParameter, InvalidFile) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except UFMError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(0)
