"""The claims catalogue: every registered claim passes every route; false claims are caught."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import ufm.cli
from ufm import tolerances as tol
from ufm.claims import (
    Claim,
    Domain,
    IntRange,
    Route,
    check,
    deviation,
    get_claim,
    list_claims,
    register,
)
from ufm.errors import InvalidParameter

REQUIRED = {
    "etf.identities": {"symbolic", "convex", "dynamic"},
    "ce.global-minimizer": {"symbolic", "convex", "dynamic"},
    "landscape.benign": {"convex", "dynamic"},
    "mse.no-bias-orthogonal-frame": {"symbolic", "convex", "dynamic"},
    "mse.free-bias-etf": {"symbolic", "convex", "dynamic"},
    "mse.regularized-bias": {"symbolic", "convex", "dynamic"},
    "lpm.balanced-etf": {"symbolic", "convex"},
    "lpm.minority-collapse": {"convex"},
    "seli.max-margin": {"symbolic", "convex"},
    "nc.nc4-from-nc1-nc3": {"symbolic", "dynamic"},
    "lesde.phase-transition": {"symbolic", "dynamic"},
    "landscape.strict-saddle": {"symbolic", "dynamic"},
    "ce.implicit-max-margin": {"symbolic", "convex", "dynamic"},
}


def test_catalogue_lists_the_issue_claims_with_their_routes():
    """Property: the catalogue has at least the issue's claims, each with the routes that apply."""
    claims = {c.id: c for c in list_claims()}
    for claim_id, routes in REQUIRED.items():
        assert claim_id in claims
        assert routes <= set(claims[claim_id].routes)
    root = Path(__file__).resolve().parents[1]
    for claim in claims.values():
        assert claim.citation and claim.statement and claim.domain.description
        assert claim.proof is None or (root / claim.proof).is_file(), claim.proof


@pytest.mark.parametrize("claim", list_claims(), ids=lambda c: c.id)
def test_every_claim_passes_every_route(claim):
    """Property: every registered claim holds by every route at two sampled points (fast domain)."""
    rows = check(claims=[claim], fast=True, points=2, seed=1)
    for row in rows:
        assert row.ok, [(f.point, f.deviation, f.error) for f in row.failures]


def _false_etf_claim() -> Claim:
    true = get_claim("etf.identities")

    def predict(point):
        K = point["K"]
        G = sp.eye(K) - sp.Rational(1, K) * (sp.ones(K, K) - sp.eye(K))  # cosines -1/K: wrong
        return {**true.predict(point), "gram": G, "max_cosine": sp.Rational(-1, K)}

    return dataclasses.replace(true, id="false.etf-cosine", predict=predict)


def test_a_false_claim_is_caught_by_every_route():
    """Property: the ETF cosine stated as -1/K instead of -1/(K-1) fails on every route."""
    rows = check(claims=[_false_etf_claim()], fast=True, seed=0)
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    for row in rows:
        assert not row.ok and row.failures
        assert all(f.error is None for f in row.failures), "caught by the comparison, not a crash"


def test_cli_check_exits_nonzero_and_prints_the_failing_point(capsys):
    """Property: `ufm check` exits 1 on a failing claim and names the point that reproduces it."""
    register(_false_etf_claim(), replace=True)
    with pytest.raises(SystemExit) as exc:
        ufm.cli.main(["check", "false.etf-cosine", "--fast"])
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "FAILED false.etf-cosine" in out and "'K':" in out


def test_cli_check_json_has_one_object_per_claim_and_route(capsys):
    """Property: `ufm check --json` gives the table's fields for every (claim, route)."""
    with pytest.raises(SystemExit) as exc:
        ufm.cli.main(["check", "etf.identities", "seli.max-margin", "--fast", "--json"])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    pairs = {(c["claim"], c["route"]) for c in data["checks"]}
    assert pairs == {("etf.identities", r) for r in ("symbolic", "convex", "dynamic")} | {
        ("seli.max-margin", r) for r in ("symbolic", "convex")
    }
    for c in data["checks"]:
        assert set(c) >= {
            "claim",
            "citation",
            "route",
            "points",
            "worst_deviation",
            "tolerance",
            "verdict",
        }


def test_user_claim_in_a_few_lines():
    """Property: a user-defined claim runs through the same machinery (the README's example)."""
    from ufm.geometry import simplex_etf

    claim = Claim(
        id="user.etf-column-sum",
        citation="folklore",
        statement="The columns of a simplex ETF sum to zero.",
        domain=Domain({"K": IntRange(2, 12)}, description="K >= 2"),
        predict=lambda p: 0.0,
        routes={
            "symbolic": Route(
                "symbolic",
                lambda p: float(np.abs(simplex_etf(p["K"]).sum(axis=1)).max()),
                tol.FLOAT,
            )
        },
    )
    (row,) = check(claims=[claim], points=5)
    assert row.ok and row.points == 5


def test_unknown_claim_and_bad_route_are_refused():
    """Property: an unknown id or a route keyed by a wrong kind is refused with a clear message."""
    with pytest.raises(InvalidParameter, match="unknown claim 'nope'"):
        check(["nope"])
    with pytest.raises(InvalidParameter, match="route key"):
        Claim(
            "x", "c", "s", Domain({}), lambda p: 0, {"convex": Route("dynamic", lambda p: 0, 0.0)}
        )
    with pytest.raises(InvalidParameter, match="tolerance"):
        Route("symbolic", lambda p: 0, float("nan"))


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_deviation_relations(m, p):
    """Property: 'equal' is symmetric-scaled |m - p|/(1 + |p|); 'upper' is zero iff m <= p."""
    assert deviation(m, p) == pytest.approx(abs(m - p) / (1 + abs(p)))
    assert (deviation(m, p, "upper") == 0) == (m <= p)
    assert (deviation(m, p, "lower") == 0) == (m >= p)


def test_deviation_is_exact_for_sympy():
    """Property: sympy measurements are compared exactly (no tolerance hides a wrong constant)."""
    assert deviation(sp.sqrt(2) ** 2, sp.Integer(2)) == 0
    assert deviation(sp.Rational(1, 3), sp.Rational(1, 3) + sp.Rational(1, 10**30)) == float("inf")
    assert deviation(sp.eye(2), sp.eye(2)) == 0


def test_points_are_reproducible_from_the_seed():
    """Property: the same seed samples the same points (a failing point can be reproduced)."""
    claim = get_claim("ce.global-minimizer")
    a = check(claims=[claim], fast=True, seed=7)
    b = check(claims=[claim], fast=True, seed=7)
    assert [r.worst_deviation for r in a] == [r.worst_deviation for r in b]
