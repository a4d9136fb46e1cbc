"""``ufm metrics FILE``."""

from __future__ import annotations

import click

from ._common import emit_json, emit_table, json_option


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
def metrics(file, as_json):
    """NC metrics and objective of the configuration saved in FILE (.npz).

    The metrics follow the conventions stored in the file (see ``ufm.metrics``); ``objective`` is
    the regularized UFM objective of the stored problem (null for files without one). Undefined
    metrics (e.g. at the zero solution) print as ``undefined`` / JSON null.
    """
    from ..io import load

    config = load(file)
    result = dict(config.metrics())
    result["objective"] = None if config.problem is None else config.objective()
    if as_json:
        emit_json(result)
    else:
        emit_table(result.items(), headers=("metric", "value"))
