"""``ufm measure FEATURES --labels LABELS``."""

from __future__ import annotations

import sys

import click

from ..errors import InvalidParameter
from ._common import check_outputs, emit_json, emit_table, json_option, plot_option


def _progress_printer(enabled: bool):
    if not enabled:
        return None

    def report(stage: str, done: int, total: int) -> None:
        percent = 100.0 * done / max(total, 1)
        click.echo(f"\rmeasure {stage}: {done}/{total} rows ({percent:.0f}%)", err=True, nl=False)
        if done >= total:
            click.echo("", err=True)

    return report


@click.command()
@click.argument("features", type=click.Path(exists=False))
@click.option("--labels", required=True, help="Integer labels, shape (N,) (.npy/.npz/.zarr/.h5).")
@click.option("--weights", "W", default=None, help="Classifier W, shape (K, d).")
@click.option("--bias", "b", default=None, help="Classifier bias b, shape (K,).")
@click.option(
    "--layout",
    type=click.Choice(["auto", "N,d", "d,N"]),
    default="auto",
    show_default=True,
    help="Which axis of FEATURES holds the samples; auto: the one whose length is N.",
)
@click.option(
    "--K", "K", type=int, default=None, help="Number of classes (default: from W/labels)."
)
@click.option("--test", default=None, help="Test features (same d), for NCC accuracy and CDNV.")
@click.option("--test-labels", default=None, help="Labels of the test features.")
@click.option("--ood", default=None, help="Out-of-distribution features (same d), for NC5.")
@click.option(
    "--trace-only",
    is_flag=True,
    help="Skip the d x d within-class scatter (no nc1): memory O(K d) for very large d.",
)
@click.option(
    "--projected",
    is_flag=True,
    help="nc1 from the within-class scatter on the span of the class means only (no d x d "
    "matrix, memory O(K d); no effective_rank_within/features).",
)
@click.option(
    "--memory-limit",
    type=float,
    default=2.0,
    show_default=True,
    help="GiB the measurement may plan to hold besides one chunk; larger requests are refused.",
)
@click.option("--chunk-rows", type=int, default=None, help="Rows read per chunk.")
@click.option(
    "--scheduler",
    default=None,
    help="Dask: 'threads' (default), 'synchronous', or a distributed scheduler ADDRESS; FEATURES "
    "are then read as a Dask array.",
)
@click.option(
    "--variance", type=click.Choice(["biased", "unbiased"]), default="biased", show_default=True
)
@click.option(
    "--global-mean",
    type=click.Choice(["weighted", "unweighted"]),
    default="weighted",
    show_default=True,
)
@click.option(
    "--nc4-as", type=click.Choice(["mismatch", "agreement"]), default="mismatch", show_default=True
)
@click.option(
    "--gnc2-reduction",
    type=click.Choice(["variance", "mean"]),
    default="variance",
    show_default=True,
)
@click.option(
    "--compare-ufm",
    is_flag=True,
    help="Also print the distances to the UFM's predicted geometry for the measured class sizes "
    "(simplex ETF if balanced, else SELI).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: when stderr is a terminal).",
)
@plot_option("the class-mean cosines against the ETF/SELI target and the per-class variances")
@json_option
def measure(
    features,
    labels,
    W,
    b,
    layout,
    K,
    test,
    test_labels,
    ood,
    trace_only,
    projected,
    memory_limit,
    chunk_rows,
    scheduler,
    variance,
    global_mean,
    nc4_as,
    gnc2_reduction,
    compare_ufm,
    progress,
    plot,
    as_json,
):
    """NC metrics of a trained network's FEATURES, streamed from disk.

    FEATURES is an (N, d) or (d, N) array in a .npy (memory-mapped), .npz, .zarr or .h5 file
    (PATH:KEY names one array of a file holding several). Prints the keys of ``ufm metrics`` that
    apply (the classifier ones need --weights) plus GNC2, UNC3, NC5, effective ranks and the
    nearest-ETF distance; see ``ufm.measure`` for formulas and sources. Undefined metrics print as
    ``undefined`` / JSON null. --compare-ufm adds ufm_distance_* and ufm_procrustes_* (0 when the
    measured geometry is the UFM's up to scale and rotation) and the JSON key ufm_geometry.
    """
    from ..measure import measure as run

    check_outputs(plot=plot)
    if projected and trace_only:
        raise InvalidParameter(
            "--projected (nc1 without the d x d scatter) and --trace-only (no nc1) exclude each "
            "other: give one of them"
        )
    if scheduler is not None:
        import dask.array as da

        from ..measure._readers import open_array

        array, _ = open_array(features, "features")
        features = da.from_array(array)
    if progress is None:
        progress = sys.stderr.isatty()
    result = run(
        features,
        labels,
        W,
        b,
        K=K,
        layout=layout,
        test=test,
        test_labels=test_labels,
        ood=ood,
        covariance="projected" if projected else not trace_only,
        memory_limit=memory_limit * 2**30,
        chunk_rows=chunk_rows,
        scheduler=scheduler,
        progress=_progress_printer(progress),
        gnc2_reduction=gnc2_reduction,
        variance=variance,
        global_mean=global_mean,
        nc4_as=nc4_as,
        compare_ufm=compare_ufm,
    )
    if plot is not None:
        from ..plot import plot_measurement, save

        save(plot_measurement(result), plot)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(f"K = {result.K}, d = {result.d}, N = {result.N}")
        if result.comparison is not None:
            click.echo(f"UFM prediction for these class sizes: {result.comparison.geometry}")
        emit_table(result.metrics.items(), headers=("metric", "value"))
