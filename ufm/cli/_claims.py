"""``ufm check``."""

from __future__ import annotations

import sys

import click

from ._common import emit_json, emit_table, json_option


@click.command()
@click.argument("claim_ids", nargs=-1)
@click.option("--fast", is_flag=True, help="Small sizes and one point per route (under a minute).")
@click.option("--points", type=int, default=None, help="Parameter points per route.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled points.")
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
    the point). Progress goes to stderr. With --claims-module, the user's claims join the catalogue
    (name their ids to check only them).
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
            emit_table(rows, headers=("claim", "routes", "citation"))
        return

    def progress(result):
        mark = "ok" if result.ok else "FAIL"
        click.echo(f"  {result.claim} [{result.route}] {mark} ({result.seconds:.1f} s)", err=True)

    rows = run_check(claim_ids or None, fast=fast, points=points, seed=seed, progress=progress)
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
        emit_table(
            [
                (
                    r.claim,
                    r.citation,
                    r.route,
                    r.points,
                    f"{r.worst_deviation:.2e}",
                    "exact" if r.tolerance == 0 else f"{r.tolerance:.0e}",
                    r.verdict,
                )
                for r in rows
            ],
            headers=("claim", "citation", "route", "points", "worst dev", "tol", "verdict"),
        )
        for r in rows:
            for f in r.failures:
                click.echo(
                    f"FAILED {r.claim} [{r.route}] at {f.point} (seed {seed}): "
                    f"deviation {f.deviation:.3g} > {r.tolerance:.0e}"
                    + (f"; {f.error}" if f.error else "")
                )
    if not all(r.ok for r in rows):
        sys.exit(1)
