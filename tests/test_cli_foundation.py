"""Tests of the CLI frame: --version, --help, ``ufm metrics``, one-line errors with exit status 2,
and a light ``import ufm``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import ufm
from ufm import Configuration, Problem
from ufm.cli import COMMANDS, main
from ufm.cli._common import ENVELOPE_KEYS
from ufm.metrics import METRIC_KEYS


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def config_file(tmp_path):
    problem = Problem(loss="mse", K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias="none")
    M = np.eye(3) - 1.0 / 3
    path = tmp_path / "etf.npz"
    Configuration(M.T, np.repeat(M, 2, axis=1), problem=problem).save(path)
    return path


def test_version(capsys):
    """Property: ``ufm --version`` prints the package version and exits 0."""
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and ufm.__version__ in out


def test_help_lists_every_command(capsys):
    """Property: ``ufm --help`` lists every registered subcommand with its one-line help."""
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for name, (_, summary) in COMMANDS.items():
        assert name in out and summary in out


def test_metrics_json_keys(config_file, capsys):
    """Property: ``ufm metrics FILE --json`` prints one JSON object with METRIC_KEYS + objective,
    in the shared envelope (and nothing else)."""
    code, out, err = run(["metrics", str(config_file), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == set(METRIC_KEYS) | {"objective"} | set(ENVELOPE_KEYS)
    assert result["objective"] == ufm.load(config_file).objective()


def test_metrics_table(config_file, capsys):
    """Property: the table form prints one row per metric plus the objective."""
    code, out, _ = run(["metrics", str(config_file)], capsys)
    assert code == 0
    rows = out.strip().splitlines()
    assert len(rows) == 2 + len(METRIC_KEYS) + 1
    assert rows[0].split() == ["metric", "value"]


@pytest.mark.parametrize("content", [None, b"not an archive"])
def test_bad_file_gives_one_line_error(tmp_path, capsys, content):
    """Property: a missing or corrupt file gives exit status 2 and exactly one ``error:`` line."""
    path = tmp_path / "bad.npz"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run(["metrics", str(path)], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.npz" in lines[0]


@pytest.mark.skipif(shutil.which("ufm") is None, reason="console script 'ufm' not installed")
def test_console_script_error_has_no_traceback(tmp_path):
    """Property: the ``ufm`` script reports a bad file in one line, status 2, no traceback."""
    proc = subprocess.run(
        ["ufm", "metrics", str(tmp_path / "absent.npz")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


def test_unknown_command_is_a_usage_error(capsys):
    """Property: an unknown subcommand exits 2 (click usage error) without a traceback."""
    code, _, err = run(["no-such-command"], capsys)
    assert code == 2 and "Traceback" not in err


def test_import_ufm_is_light():
    """Property: ``import ufm`` imports none of sympy, cvxpy, numba."""
    code = (
        "import sys, ufm; print(sorted(m for m in ('sympy', 'cvxpy', 'numba') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
