"""Every proofs/<theorem>.py runs as a script, verifies each step and prints "verified"."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROOFS = Path(__file__).resolve().parent.parent / "proofs"
SCRIPTS = sorted(p for p in PROOFS.glob("*.py") if not p.name.startswith("_"))


#: The symbolic core's theorems (issue 3); every other script is run and indexed as well.
CORE = ("etf.py", "ce_global_minimizer.py", "mse_global_minimizer.py", "layer_peeled.py", "seli.py")


def test_proofs_exist():
    """Property: every theorem of the symbolic core has a script, and the README indexes every
    script."""
    readme = (PROOFS / "README.md").read_text()
    names = {p.name for p in SCRIPTS}
    assert set(CORE) <= names
    assert all(f"`{name}`" in readme for name in names)


@pytest.fixture(scope="module")
def proof_runs(request):
    """Every selected proof script, run two at a time (:func:`conftest.run_selected_scripts`).

    The scripts import the checkout under test (its root first on PYTHONPATH), as pytest itself
    does, not whatever ``ufm`` is installed (another checkout's, in a git worktree)."""
    from conftest import run_selected_scripts

    root = str(PROOFS.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH")))),
    }
    commands = {
        p.stem: ([sys.executable, str(p)], {"cwd": PROOFS, "timeout": 600, "env": env})
        for p in SCRIPTS
    }
    return run_selected_scripts(request, "test_proof_runs", commands)


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_proof_runs(script, proof_runs):
    """Property: the script exits 0, fails no step and ends with "verified"."""
    out = proof_runs[script.stem]
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "FAILED" not in out.stdout
    assert out.stdout.strip().endswith("verified")
