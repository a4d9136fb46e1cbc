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
    [-(p**2) - 1, x, x - 1, sp.Symbol("y"), K - 3],
    ids=["negative", "undecided-real", "undecided-shift", "no-assumptions", "K-3"],
)
def test_nonnegative_refuses_false_and_undecided(expr, capsys):
    """Property: ``nonnegative`` fails unless sympy decides expr >= 0 (``None`` is a failure, and
    K >= 2 does not make K - 3 nonnegative)."""
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
