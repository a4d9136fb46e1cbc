"""``ufm check``."""

from __future__ import annotations

import sys

import click

from ._common import emit_json, emit_table, json_option, seed_option

#: The ``ufm check`` table is cut to this many columns (the citation column gives way).
TABLE_WIDTH = 100


@click.command()
@click.argument("claim_ids", nargs=-1)
@click.option("--fast", is_flag=True, help="Small sizes and one point per route (under a minute).")
@click.option("--points", type=int, default=None, help="Parameter points per route.")
@seed_option("Seed of the sampled points.")
@click.option("--list", "list_only", is_flag=True, help="List the claims and exit.")
@click.option(
    "--claims-module", "claims_modules", multiple=True, metavar="FILE.py|MODULE",
    help="Load user claims first: a Python file or a dotted module that calls "
    "ufm.claims.register (repeatable).",
)  # fmt: skip
@json_option
def check(claim_ids, fast, points, seed, list_only, claims_modules, as_json):
    """Verify NC claims by every route (symbolic, convex, dynamic).

    Samples points from each claim's parameter domain, runs every route and compares the measurement
    with the claim's prediction. Prints one row per (claim, route); exit status 0 only if every
    check passed. A failing point is printed with the parameters that reproduce it (``--seed`` and
    the point), and a summary line closes the table. Progress goes to stderr, one line per claim.
    With --claims-module, the user's claims join the catalogue (name their ids to check only them).
    """
    from ..claims import check as run_check
    from ..claims import get_claim, list_claims, load_claims_module

    for source in claims_modules:
        load_claims_module(source)

    if list_only:
        claims = [get_claim(c) for c in claim_ids] if claim_ids else list_claims()
        rows = [(c.id, ",".join(c.routes), c.citation) for c in claims]
        if as_json:
            emit_json(
                {"claims": [dict(zip(("id", "routes", "citation"), r, strict=True)) for r in rows]}
            )
        else:
            headers = ("claim", "routes", "citation")
            emit_table(_fit_column([list(r) for r in rows], headers, 2, TABLE_WIDTH), headers)
        return

    progress = _ClaimProgress()
    rows = run_check(claim_ids or None, fast=fast, points=points, seed=seed, progress=progress)
    progress.flush()
    if as_json:
        emit_json(
            {
                "seed": seed,
                "fast": fast,
                "ok": all(r.ok for r in rows),
                "checks": [r.to_dict() for r in rows],
            }
        )
    else:
        table = [
            [
                r.claim,
                r.citation,
                r.route,
                r.points,
                f"{r.worst_deviation:.2e}",
                "exact" if r.tolerance == 0 else f"{r.tolerance:.0e}",
                r.verdict,
            ]
            for r in rows
        ]
        headers = ("claim", "citation", "route", "points", "worst dev", "tol", "verdict")
        emit_table(_fit_column(table, headers, 1, TABLE_WIDTH), headers=headers)
        for r in rows:
            for f in r.failures:
                click.echo(
                    f"FAILED {r.claim} [{r.route}] at {f.point} (seed {seed}): "
                    f"deviation {f.deviation:.3g} > {r.tolerance:.0e}"
                    + (f"; {f.error}" if f.error else "")
                )
        click.echo(_summary(rows))
    if not all(r.ok for r in rows):
        sys.exit(1)


class _ClaimProgress:
    """Progress on stderr: one line per claim (its routes' points are tallied, not listed)."""

    def __init__(self):
        self.claim, self.points, self.failed, self.seconds = None, 0, 0, 0.0

    def __call__(self, result) -> None:
        if result.claim != self.claim:
            self.flush()
            self.claim = result.claim
        self.points += 1
        self.failed += not result.ok
        self.seconds += result.seconds

    def flush(self) -> None:
        if self.claim is not None:
            mark = "ok" if not self.failed else f"FAIL ({self.failed} failing)"
            click.echo(
                f"  {self.claim}: {self.points} runs {mark} ({self.seconds:.1f} s)", err=True
            )
        self.claim, self.points, self.failed, self.seconds = None, 0, 0, 0.0


def _fit_column(table, headers, column: int, width: int):
    """Cut the cells of ``column`` (ending in ``...``) so that the table is at most ``width``
    characters wide, as :func:`emit_table` lays it out (two spaces between columns)."""
    widths = [max(len(str(row[i])) for row in [headers, *table]) for i in range(len(headers))]
    room = width - (sum(widths) - widths[column]) - 2 * (len(headers) - 1)
    room = max(room, len(headers[column]), 8)
    for row in table:
        cell = str(row[column])
        if len(cell) > room:
            row[column] = cell[: room - 3] + "..."
    return table


def _summary(rows) -> str:
    """``summary: 25 of 27 checks passed over 12 claims, 2 failed (31.2 s)``."""
    passed = sum(r.ok for r in rows)
    claims = len({r.claim for r in rows})
    failed = len(rows) - passed
    seconds = sum(r.seconds for r in rows)
    return (
        f"summary: {passed} of {len(rows)} checks passed over {claims} claims"
        + (f", {failed} failed" if failed else "")
        + f" ({seconds:.1f} s)"
    )
