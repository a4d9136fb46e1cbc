"""``ufm sweep``: run a sweep spec or a built-in study into a Zarr store; ``ufm sweep plot``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ._common import emit_json, emit_table, json_option


class _SweepGroup(click.Group):
    """``ufm sweep SPEC ...`` runs; ``ufm sweep plot RESULT`` draws: ``run`` is the default."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_SweepGroup)
def sweep():
    """Phase diagrams and many-seed studies on Dask, stored as Zarr.

    \b
    ufm sweep SPEC.toml --out RESULT.zarr [--workers N | --scheduler ADDRESS] [--format parquet]
    ufm sweep --builtin threshold|benign|minority|lesde [--quick] --out RESULT.zarr
    ufm sweep plot RESULT.zarr [-o FIGURE.png]

    Rerunning the same command resumes an interrupted sweep.
    """


def _bar(total):
    if not sys.stderr.isatty():
        return None
    bar = click.progressbar(length=total, label="sweep tasks", file=sys.stderr)
    bar.__enter__()
    return bar


@sweep.command()
@click.argument("spec_file", metavar="SPEC", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--builtin",
    type=click.Choice(["threshold", "benign", "minority", "lesde"]),
    default=None,
    help="Run a built-in study instead of a SPEC file.",
)
@click.option("--quick", is_flag=True, help="Built-in study at a size that runs in under a minute.")
@click.option("--out", type=click.Path(), required=True, help="Zarr store, created or resumed.")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Local worker processes (default: the number of CPUs).",
)
@click.option("--scheduler", default=None, help="Address of a running dask scheduler.")
@click.option(
    "--backend",
    type=click.Choice(["auto", "distributed", "processes", "serial"]),
    default="auto",
    show_default=True,
    help="Where tasks run.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["zarr", "parquet"]),
    default="zarr",
    show_default=True,
    help="parquet: also export RESULT.parquet beside the store.",
)
@json_option
def run(spec_file, builtin, quick, out, workers, scheduler, backend, fmt, as_json):
    """Run (or resume) a sweep into the Zarr store --out."""  # noqa: D401
    from ..errors import InvalidParameter
    from ..sweep import builtin_spec, export_parquet, load_spec, open_result, run_sweep
    from ..sweep._plot import worst_case

    if (spec_file is None) == (builtin is None):
        raise InvalidParameter("give exactly one of SPEC and --builtin NAME")
    if quick and builtin is None:
        raise InvalidParameter("--quick applies to --builtin studies only")
    spec = builtin_spec(builtin, quick=quick) if builtin else load_spec(spec_file)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = _bar(total)
            if bar is not None:
                bar.update(done)
        elif bar is not None:
            bar.update(done - bar.pos)

    try:
        report = run_sweep(spec, out, workers=workers, scheduler=scheduler, backend=backend,
                           progress=progress)  # fmt: skip
    except KeyboardInterrupt:
        if bar is not None:
            bar.__exit__(None, None, None)
        click.echo(f"interrupted: finished tasks are saved in {out}; rerun the same command to "
                   "resume", err=True)  # fmt: skip
        sys.exit(130)
    if bar is not None:
        bar.__exit__(None, None, None)
    parquet = None
    if fmt == "parquet":
        parquet = export_parquet(out, Path(out).with_suffix(".parquet"))
    result = {
        "out": str(out), "parquet": None if parquet is None else str(parquet), "task": spec.task,
        "dims": dict(zip(spec.dims, spec.shape, strict=True)), "tasks": report.tasks,
        "resumed": report.skipped, "run": report.run, "backend": report.backend,
        "workers": report.workers, "wall_seconds": report.wall_seconds,
        "compute_seconds": report.compute_seconds,
    }  # fmt: skip
    if spec.seeds > 1:
        variable = spec.plot.get("variable", spec.outputs[0])
        result["worst"] = {"variable": variable, **worst_case(open_result(out), variable)}
    if as_json:
        emit_json(result)
        return
    rows = [(k, v) for k, v in result.items() if k not in ("dims", "worst")]
    rows.insert(3, ("dims", ", ".join(f"{k}={v}" for k, v in result["dims"].items())))
    if "worst" in result:
        w = result["worst"]
        where = ", ".join(f"{k}={v}" for k, v in w["coords"].items())
        rows.append((f"worst {w['variable']}", f"{w['value']:.6g} at {where} (seed {w['seed']})"))
    emit_table(rows, headers=("quantity", "value"))


@sweep.command()
@click.argument("result", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="PNG to write (default: RESULT with .png).",
)
@click.option("--variable", default=None, help="Output to draw (default: the spec's choice).")
def plot(result, output, variable):
    """Draw a finished sweep: heat maps with the predicted boundary, or per-seed values."""
    from ..plot import save
    from ..sweep import open_result, plot_sweep

    output = output or str(Path(result).with_suffix(".png"))
    save(plot_sweep(open_result(result), variable=variable), output)
    click.echo(output)
