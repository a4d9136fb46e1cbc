"""Shared printing/checking for the proof scripts.

Every step is an identity or inequality that sympy verifies exactly; a failed step raises and the
script exits non-zero.
"""

from __future__ import annotations

import sympy as sp

_count = [0]


def identity(description: str, lhs, rhs) -> None:
    """Check lhs == rhs exactly (``simplify(lhs - rhs) == 0``; matrices entrywise)."""
    diff = sp.simplify(sp.sympify(lhs) - sp.sympify(rhs))
    ok = diff == sp.zeros(*diff.shape) if isinstance(diff, sp.MatrixBase) else diff == 0
    _report(description, ok, f"{sp.sstr(lhs)} = {sp.sstr(rhs)}")


def nonnegative(description: str, expr, *, assumption: str = "") -> None:
    """Check expr >= 0 for all values of its (assumption-carrying) symbols, as sympy decides it.

    A symbol named K (number of classes) is replaced by 1 + K_minus_1 with K_minus_1 > 0, which is
    how the hypothesis K >= 2 (so K - 1 > 0) reaches sympy's sign analysis.
    """
    expr = sp.sympify(expr)
    for symbol in expr.free_symbols:
        if symbol.name == "K":
            expr = expr.subs(symbol, 1 + sp.Symbol("K_minus_1", positive=True))
    expr = sp.simplify(expr)
    numer, denom = sp.fraction(sp.together(expr))
    # Expanded numerator and denominator expose sums of positive terms to sympy's sign analysis.
    ok = expr.is_nonnegative is True or (
        sp.expand(numer).is_nonnegative is True and sp.expand(denom).is_positive is True
    )
    _report(description, ok, f"{sp.sstr(expr)} >= 0 {assumption}".rstrip())


def fact(description: str, ok: bool, detail: str = "") -> None:
    """A verdict computed by the script itself (e.g. an exact check over K = 2..30)."""
    _report(description, bool(ok), detail)


def _report(description: str, ok: bool, detail: str) -> None:
    _count[0] += 1
    print(f"step {_count[0]}: {description}\n    {detail}\n    {'ok' if ok else 'FAILED'}")
    if not ok:
        raise SystemExit(f"step {_count[0]} failed: {description}")


def done(theorem: str) -> None:
    print(f"{theorem}: all {_count[0]} steps verified")
