"""The proof helpers of ``proofs/_steps.py`` can say no: a false or undecided step fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sympy as sp

# Imported as ``proofs._steps`` (the repository root on sys.path), the module name mutmut gives the
# file, so that a mutation run (tools/mutation.py) switches its mutants on.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from proofs import _steps  # noqa: E402

x = sp.Symbol("x", real=True)
p = sp.Symbol("p", positive=True)
K = sp.Symbol("K", positive=True)


@pytest.mark.parametrize(
    "lhs, rhs",
    [
        (x + 1, x),  # false
        (sp.Abs(x), x),  # true only for x >= 0: sympy leaves Abs(x) - x undecided
        (sp.Matrix([[1, x], [0, 1]]), sp.eye(2)),  # one wrong entry
        (sp.sqrt(x**2), x),  # undecided without the sign of x
    ],
    ids=["false", "undecided-abs", "matrix-entry", "undecided-sqrt"],
)
def test_identity_refuses_false_and_undecided(lhs, rhs, capsys):
    """Property: ``identity`` fails (SystemExit, FAILED printed) unless sympy proves lhs = rhs."""
    with pytest.raises(SystemExit, match="failed"):
        _steps.identity("planted", lhs, rhs)
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "expr",
    [-(p**2) - 1, x, x - 1, sp.Symbol("y"), K - 3, 1 / x, 1 / (K - 2)],
    ids=[
        "negative",
        "undecided-real",
        "undecided-shift",
        "no-assumptions",
        "K-3",
        "undecided-denominator",
        "pole-at-K=2",
    ],
)
def test_nonnegative_refuses_false_and_undecided(expr, capsys):
    """Property: ``nonnegative`` fails unless sympy decides expr >= 0 (``None`` is a failure, and
    K >= 2 does not make K - 3 nonnegative; 1/(K - 2) is undefined at K = 2; a nonnegative
    numerator over a denominator of unknown sign is undecided)."""
    with pytest.raises(SystemExit, match="failed"):
        _steps.nonnegative("planted", expr)
    assert "FAILED" in capsys.readouterr().out


def test_fact_refuses_false(capsys):
    """Property: ``fact`` fails on a false verdict (and on a falsy one such as 0)."""
    for verdict in (False, 0):
        with pytest.raises(SystemExit, match="failed"):
            _steps.fact("planted", verdict)
    assert "FAILED" in capsys.readouterr().out


def test_helpers_accept_true_steps(capsys):
    """Property: the helpers pass steps sympy proves (so the refusals above are not blanket)."""
    _steps.identity("square", (x + 1) ** 2, x**2 + 2 * x + 1)
    _steps.identity("matrix", sp.Matrix([[x, 0]]) * 2, sp.Matrix([[2 * x, 0]]))
    _steps.nonnegative("square", x**2)
    _steps.nonnegative("K - 1 with K >= 2", K - 1)
    _steps.fact("exact", True)
    assert "FAILED" not in capsys.readouterr().out


def test_a_step_prints_number_description_detail_and_verdict(capsys):
    """Property: each step prints ``step n: description``, its statement and ``ok``/``FAILED`` on
    three lines, numbered consecutively, and ``done`` reports how many steps ran (the record a
    reader of a proof's output follows; test_proofs reads its "FAILED" and "verified")."""
    n = _steps._count[0]
    _steps.identity("square", (x + 1) ** 2, x**2 + 2 * x + 1)
    _steps.nonnegative("a square", x**2)
    _steps.nonnegative("with K >= 2", K - 1, assumption="for K >= 2")
    _steps.fact("exact", True)
    _steps.fact("exact, explained", True, "checked for K = 2..30")
    _steps.done("Theorem")
    with pytest.raises(SystemExit, match=f"step {n + 6} failed: wrong"):
        _steps.identity("wrong", x + 1, x)
    assert capsys.readouterr().out.splitlines() == [
        f"step {n + 1}: square",
        "    (x + 1)**2 = x**2 + 2*x + 1",
        "    ok",
        f"step {n + 2}: a square",
        "    x**2 >= 0",
        "    ok",
        f"step {n + 3}: with K >= 2",
        "    K_minus_1 >= 0 for K >= 2",
        "    ok",
        f"step {n + 4}: exact",
        "    ",
        "    ok",
        f"step {n + 5}: exact, explained",
        "    checked for K = 2..30",
        "    ok",
        f"Theorem: all {n + 5} steps verified",
        f"step {n + 6}: wrong",
        "    x + 1 = x",
        "    FAILED",
    ]


def test_nonnegative_substitutes_the_proofs_K_minus_1():
    """Property: K becomes 1 + K_minus_1 with the very symbol the proofs write for K - 1
    (``Symbol("K_minus_1", positive=True)``, e.g. proofs/etf.py), so expressions mixing the two
    simplify: K - 1 - K_minus_1 = 0 >= 0."""
    Km = sp.Symbol("K_minus_1", positive=True)
    _steps.nonnegative("K - 1 - K_minus_1", K - 1 - Km)


def test_nonnegative_decides_by_either_route():
    """Property: a step passes when sympy decides the sign of the whole expression, or, failing
    that, of its expanded numerator (>= 0) over its expanded denominator (> 0); each example
    below is decided by one route only."""
    whole_only = (p - 1) ** 2 / p  # expanded numerator p^2 - 2p + 1: sign undecided
    fraction_only = (p + 1) ** 3 - 3 * p  # whole undecided; expanded: p^3 + 3p^2 + 1
    for expr in (whole_only, fraction_only):
        _steps.nonnegative("planted", expr)
