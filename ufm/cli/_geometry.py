"""``ufm etf``: the simplex ETF (logic in :mod:`ufm.geometry`)."""

from __future__ import annotations

import click

from ._common import check_outputs, emit_json, emit_table, json_option, plot_option, seed_option


@click.command()
@click.option("--K", "K", type=int, required=True, help="Number of classes (>= 2).")
@click.option("--d", "d", type=int, default=None, help="Dimension (>= K - 1; default K).")
@click.option("--exact", is_flag=True, help="Also give the exact entries (sympy, closed form).")
@click.option("--latex", is_flag=True, help="Print M and its Gram matrix as LaTeX (exact).")
@seed_option("Rotate by a seeded random orthogonal matrix.", default=None)
@plot_option("the frame (d <= 3)")
@json_option
def etf(K, d, exact, latex, seed, plot, as_json):
    """The simplex ETF M (d x K, unit columns = class directions) and its Gram matrix.

    M^T M = K/(K-1) (I - 11^T/K): equal norms, pairwise cosines -1/(K-1), M 1 = 0, rank K - 1.
    With --json: {"K", "d", "M", "gram"} and, with --exact, "exact" (entries as strings).
    """
    from ..errors import InvalidParameter
    from ..geometry import etf_gram, gram, simplex_etf

    if latex and as_json:
        raise InvalidParameter("--latex and --json are exclusive: choose one output format")
    check_outputs(plot=plot)
    M = simplex_etf(K, d, seed=seed)
    d = M.shape[0]
    if plot is not None:
        from ..plot import plot_frame, save

        title = f"simplex ETF, K={K}, d={d}" + ("" if seed is None else f", seed={seed}")
        save(plot_frame(M, title=title), plot)
    if latex:
        import sympy as sp

        exact_M = simplex_etf(K, d, exact=True)
        click.echo(f"M = {sp.latex(exact_M)}")
        click.echo(f"M^T M = {sp.latex(etf_gram(K))}")
        return
    result = {"K": K, "d": d, "M": M, "gram": gram(M)}
    if exact:
        result["exact"] = [[str(e) for e in row] for row in simplex_etf(K, d, exact=True).tolist()]
    if as_json:
        emit_json(result)
        return
    source = result["exact"] if exact else M.tolist()
    emit_table(source, headers=[f"m_{k}" for k in range(K)])
