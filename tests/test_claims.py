"""The claims catalogue: every registered claim passes every route; false claims are caught."""

from __future__ import annotations

import dataclasses
import json
import re
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

#: The built-in catalogue, as registered at import (before any test registers a claim of its own).
CATALOGUE = list_claims()

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
    "lesde.separation-rate": {"symbolic", "dynamic"},
    "lesde.separability-transition": {"symbolic", "dynamic"},
    "lesde.l-boundary": {"symbolic", "dynamic"},
    "lesde.nc-emerges": {"symbolic", "dynamic"},
    "landscape.strict-saddle": {"symbolic", "dynamic"},
    "ce.implicit-max-margin": {"symbolic", "convex", "dynamic"},
    "ce.label-smoothing": {"symbolic", "convex", "dynamic"},
    "mse.imbalanced-svt": {"symbolic", "convex", "dynamic"},
    "sphere.normalized-ce": {"symbolic", "convex", "dynamic"},
    "supcon.simplex": {"symbolic", "convex", "dynamic"},
    "gnc.softmax-code": {"symbolic", "convex", "dynamic"},
    "mse.deep-linear": {"symbolic", "dynamic"},
    "mse.deep-linear-jump": {"symbolic", "dynamic"},
    "landscape.deep-origin-minimum": {"symbolic", "dynamic"},
    "mse.central-path": {"symbolic", "convex", "dynamic"},
    "mse.min-norm-interpolant": {"symbolic", "convex", "dynamic"},
    "ce.imbalanced-minority-threshold": {"symbolic", "convex", "dynamic"},
    "ce.label-smoothing-imbalanced": {"symbolic", "convex", "dynamic"},
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


@pytest.mark.parametrize("claim", CATALOGUE, ids=lambda c: c.id)
def test_every_claim_passes_every_route(claim, catalogue_results):
    """Property: every registered claim holds by every route at two sampled points (fast domain)."""
    results = [r for r in catalogue_results if r.claim == claim.id]
    assert {r.route for r in results} == set(claim.routes)
    for r in results:
        assert r.ok, (r.route, r.point, r.deviation, r.error)


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


def test_every_catalogue_family_registers_claims_in_the_documented_order(monkeypatch):
    """Property: every module of ufm/claims/catalogue/ is a family listed in FAMILIES, registers at
    least one claim named after it, and the registry starts with the families' claims in the order
    of FAMILIES (the order of `ufm check --list`)."""
    import importlib

    from ufm.claims import _registry, catalogue

    folder = Path(catalogue.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(catalogue.FAMILIES)
    documented = []
    for family in catalogue.FAMILIES:
        monkeypatch.setattr(_registry, "_REGISTRY", {})
        importlib.reload(importlib.import_module(f"ufm.claims.catalogue.{family}"))
        ids = list(_registry._REGISTRY)
        assert ids, f"catalogue/{family}.py registers no claim"
        assert all(i.startswith(f"{family}.") for i in ids), ids
        documented += ids
    monkeypatch.undo()
    assert [c.id for c in list_claims()][: len(documented)] == documented


def _readme_claim_module(tmp_path) -> Path:
    """The README's "your own claim" file, verbatim."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Your own claim", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "my_claims.py"
    path.write_text(code)
    return path


def test_cli_check_loads_the_readme_claim_module(tmp_path, capsys):
    """Property: the README's claim file runs from the command line with --claims-module."""
    path = _readme_claim_module(tmp_path)
    with pytest.raises(SystemExit) as exc:
        ufm.cli.main(["check", "--claims-module", str(path), "user.etf-column-sum", "--json"])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["claim"], c["route"], c["verdict"]) for c in data["checks"]] == [
        ("user.etf-column-sum", "symbolic", "pass")
    ]


_USER_CLAIM = """
from ufm.claims import Claim, Domain, IntRange, Route, register

register(
    Claim(
        id="{claim_id}",
        citation="test",
        statement="Zero is zero.",
        domain=Domain({{"K": IntRange(2, 3)}}, description="K in 2..3"),
        predict=lambda p: 0.0,
        routes={{"symbolic": Route("symbolic", lambda p: 0.0, 0.0)}},
    )
)
"""


def test_cli_check_loads_a_dotted_claims_module_and_repeats(tmp_path, monkeypatch, capsys):
    """Property: --claims-module takes a dotted module path (from the working directory) and may be
    repeated; --list then shows the user's claims after the catalogue."""
    (tmp_path / "ufm_test_claims_a.py").write_text(_USER_CLAIM.format(claim_id="user.dotted-a"))
    (tmp_path / "ufm_test_claims_b.py").write_text(_USER_CLAIM.format(claim_id="user.dotted-b"))
    monkeypatch.chdir(tmp_path)
    argv = ["check", "--list", "--json", "--claims-module", "ufm_test_claims_a"]
    with pytest.raises(SystemExit) as exc:
        ufm.cli.main(argv + ["--claims-module", "ufm_test_claims_b.py"])
    assert exc.value.code == 0
    ids = [c["id"] for c in json.loads(capsys.readouterr().out)["claims"]]
    assert ids[-2:] == ["user.dotted-a", "user.dotted-b"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.py", None, r"error: claims module '.*missing\.py': no such file"),
        (
            "broken.py",
            "raise RuntimeError('boom')\n",
            r"error: claims module '.*broken\.py' failed to import: RuntimeError: boom",
        ),
        ("silent.py", "x = 1\n", r"error: claims module '.*silent\.py' registered no claims"),
        ("ufm_no_such_module", None, r"error: claims module 'ufm_no_such_module': no such module"),
    ],
)
def test_cli_check_claims_module_errors(tmp_path, capsys, name, content, message):
    """Property: a missing file or module, an import error inside it (file and exception named) or
    a module that registers nothing is one `error:` line and exit status 2."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    source = str(path) if name.endswith(".py") else name
    with pytest.raises(SystemExit) as exc:
        ufm.cli.main(["check", "--claims-module", source])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert re.fullmatch(message + r"[^\n]*\n", err), err


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "full"])
def test_every_declared_regime_is_visited(fast):
    """Property: the points ``ufm check`` runs (``--fast`` and full) visit every regime a claim's
    domain declares, each route's points are of the domain, and the full run visits each regime at
    least twice."""
    from ufm.claims import sampling_plan

    declaring = [c for c in CATALOGUE if c.domain.regimes]
    assert len(declaring) >= 10
    for claim in declaring:
        plan = sampling_plan(claim, fast=fast, seed=3)
        seen = [claim.domain.regime_of(p) for points in plan.values() for p in points]
        assert set(seen) == set(claim.domain.regimes), claim.id
        if not fast:
            assert min(seen.count(r) for r in claim.domain.regimes) >= 2, claim.id
        for points in plan.values():
            assert all(claim.domain.where is None or claim.domain.where(p) for p in points)


def test_regime_declarations_are_checked():
    """Property: regimes without a classifier (or the reverse) and an unknown regime are refused."""
    with pytest.raises(InvalidParameter, match="regime_of"):
        Domain({"K": IntRange(2, 3)}, regimes=("a", "b"))
    domain = Domain({"K": IntRange(2, 3)}, regimes=("two", "three"),
                    regime_of=lambda p: ("two", "three")[p["K"] - 2])  # fmt: skip
    rng = np.random.default_rng(0)
    assert domain.sample(rng, False, "three")["K"] == 3
    with pytest.raises(InvalidParameter, match="regime must be one of"):
        domain.sample(rng, False, "four")
    never = Domain({"K": IntRange(2, 2)}, regimes=("two", "three"),
                   regime_of=lambda p: "two", description="K = 2")  # fmt: skip
    with pytest.raises(InvalidParameter, match="in regime 'three'"):
        never.sample(rng, False, "three")


@pytest.mark.parametrize("claim_id", ["ce.global-minimizer", "mse.free-bias-etf"])
def test_a_small_value_error_is_caught_by_every_route(claim_id):
    """Property: an optimal value off by 4e-4 (below the argmin tolerance CONVEX_ARGMIN = 1e-3) is
    caught by the convex and dynamic routes too: their values are compared with the solver's value
    accuracy (CONVEX_CLARABEL) and descent's (DESCENT_OBJECTIVE), not with the argmin's."""
    true = get_claim(claim_id)
    false = dataclasses.replace(
        true,
        id=f"false.{claim_id}",
        predict=lambda p: {**true.predict(p), "objective": true.predict(p)["objective"] + 4e-4},
    )
    rows = check(claims=[false], fast=True, seed=0)
    assert {r.route for r in rows} == {"symbolic", "convex", "dynamic"}
    assert all(not r.ok and all(f.error is None for f in r.failures) for r in rows)


def test_key_tolerances_are_validated_and_scale_the_deviation():
    """Property: a key tolerance above the route's or <= 0 is refused; a key within its own
    tolerance passes, one beyond fails, and the reported deviation is scaled to the route's."""
    with pytest.raises(InvalidParameter, match="key_tolerances"):
        Route("convex", lambda p: 0.0, 1e-3, key_tolerances={"objective": 1e-2})
    with pytest.raises(InvalidParameter, match="key_tolerances"):
        Route("convex", lambda p: 0.0, 1e-3, key_tolerances={"objective": 0.0})
    route = Route("convex", lambda p: 0.0, 1e-3, key_tolerances={"objective": 1e-6})
    assert route.deviation({"objective": 1.0, "G": 1.0}, {"objective": 1.0, "G": 1.0}) == 0.0
    dev = route.deviation({"objective": 2e-6, "G": 5e-4}, {"objective": 0.0, "G": 0.0})
    assert dev == pytest.approx(2e-3) and dev > route.tolerance
    assert route.deviation({"objective": 5e-7, "G": 5e-4}, {"objective": 0.0, "G": 0.0}) <= 1e-3
