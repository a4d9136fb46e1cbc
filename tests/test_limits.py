"""Tests of ufm._limits: too-large inputs refused before anything large is allocated (issue 15,
item 6), the limits' parsing and precedence, and the tiled CDNV against its all-pairs twin."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import ufm
from ufm import _limits, metrics
from ufm.cli import main
from ufm.dynamics import simulate_lesde
from ufm.errors import InvalidParameter
from ufm.geometry import simplex_etf
from ufm.relaxations import max_min_angle, nuclear_relaxation
from ufm.tolerances import FLOAT

#: Peak traced allocation allowed while refusing: the refused computations would need 8 GiB to
#: 485 TiB, while the first import of a subcommand's modules (cvxpy, sympy, numba), which happens
#: inside the call, allocates ~50 MiB (measured); 256 MiB separates the two by a factor >= 32.
REFUSAL_PEAK = 256 * 2**20

#: The tiled CDNV vs the all-pairs twin: the same sums in a different order, and the Gram form of
#: the distances (recomputed as differences where it cancels), relative error ~1e-15 per pair;
#: the issue's bar is 1e-12.
CDNV_TWIN = 1e-12


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    """Every test starts from the documented defaults (no environment, no CLI override)."""
    monkeypatch.delenv(_limits.MEMORY_ENV, raising=False)
    monkeypatch.delenv(_limits.TIME_ENV, raising=False)
    _limits.set_limits()
    yield
    _limits.set_limits()


def _refused(call) -> str:
    """Run ``call``, which must raise LimitExceeded while allocating < REFUSAL_PEAK; return the
    message."""
    tracemalloc.start()
    try:
        with pytest.raises(_limits.LimitExceeded) as exc:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < REFUSAL_PEAK
    return str(exc.value)


def _cli(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert out == ""
    return exc.value.code, err


LESDE = ["lesde", "--K", "3", "--n", "4", "--d", "2", "--alpha", "2", "--beta", "1", "--noise"]
NUCLEAR = ["relax", "nuclear", "--unreduced", "--loss", "ce", "--bias", "none"]
NUCLEAR_TAIL = ["--lambda-w", "0.01", "--lambda-h", "0.01"]


@pytest.mark.parametrize(
    "argv",
    [
        ["relax", "angle", "--K", "300"],
        [*NUCLEAR, "--K", "10", "--d", "10", "--n", "30", *NUCLEAR_TAIL],
        [*NUCLEAR, "--K", "20", "--d", "20", "--n", "100", *NUCLEAR_TAIL],
        [*LESDE, "0.1", "--time", "1e9"],
        [*LESDE, "0.1", "--time", "1", "--dt", "1e-12"],
        [*LESDE, "0.1", "--time", "1", "--paths", "100000000"],
        ["etf", "--K", "100000"],
    ],
    ids=[
        "angle-K300",
        "nuclear-K10n30",
        "nuclear-K20n100",
        "lesde-time",
        "lesde-dt",
        "lesde-paths",
        "etf-K100000",
    ],  # fmt: skip
)
def test_cli_refuses_the_issue_cases(argv, capsys):
    """Property: each command of issue 15 item 6 exits 2 with one `error:` line that states the
    estimate and the limit, before anything large is allocated."""
    tracemalloc.start()
    try:
        code, err = _cli(argv, capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "needs about" in err and "above the limit of 8 GiB" in err
    assert "UFM_MEMORY_LIMIT" in err
    assert peak < REFUSAL_PEAK


def test_api_refuses_the_issue_cases():
    """Property: Problem(K=10**5, n=10**5), the ETF with K = 100000, the max-min-angle SDP at
    K = 300 and the unreduced nuclear program are refused by the library too, with the estimate."""
    msg = _refused(
        lambda: ufm.Problem(
            loss="ce", K=10**5, d=10, n=10**5, lambda_W=0.1, lambda_H=0.1, bias="none"
        )
    )
    # 10^10 int64 labels
    assert "N=10000000000" in msg and "74.5 GiB" in msg
    assert "298 GiB" in _refused(lambda: simplex_etf(100000))
    assert "side 300" in _refused(lambda: max_min_angle(300))
    problem = ufm.Problem(loss="ce", K=10, d=10, n=30, lambda_W=0.01, lambda_H=0.01, bias="none")
    assert "side 310" in _refused(lambda: nuclear_relaxation(problem, symmetry="none"))


def test_environment_limit_applies_and_small_runs_pass(monkeypatch):
    """Property: a low UFM_MEMORY_LIMIT refuses a small SDP and a small LE-SDE run (so the check
    is on the real path), which run under the default limit."""
    monkeypatch.setenv(_limits.MEMORY_ENV, "1MiB")
    # 32 * 20^4 bytes = 4.9 MiB > 1 MiB
    assert "1 MiB" in _refused(lambda: max_min_angle(20))
    # 11 + 2 snapshots x 1000 paths x (q + r = 24 floats) = 2.4 MiB > 1 MiB
    _refused(lambda: simulate_lesde(3, 4, 2, 2.0, 1.0, 0.1, 1.0, paths=1000, dt=0.1))
    monkeypatch.delenv(_limits.MEMORY_ENV)
    assert max_min_angle(4).K == 4
    assert simulate_lesde(3, 4, 2, 2.0, 1.0, 0.1, 1.0, paths=2, dt=0.1).times[-1] == 1.0


def test_time_limit_refuses_long_runs(monkeypatch):
    """Property: an LE-SDE run within the memory limit but estimated above UFM_TIME_LIMIT is
    refused with its time estimate; model 'ce' is checked as well."""
    monkeypatch.setenv(_limits.TIME_ENV, "1s")
    # 1e7 steps x 10 paths x >= 1 us = 100 s > 1 s; memory 5 x 8 x 1e7 = 381 MiB < 8 GiB
    msg = _refused(lambda: simulate_lesde(3, 4, 2, 2.0, 1.0, 0.1, 1e5, paths=10, dt=1e-2))
    assert "would take about" in msg and "above the limit of 1 s" in msg
    with pytest.raises(_limits.LimitExceeded, match="would take"):
        simulate_lesde(3, 4, 3, 2.0, 1.0, 0.1, 1e5, paths=10, dt=1e-2, model="ce")


def test_cli_limit_options_override_and_reset(monkeypatch, capsys):
    """Property: `ufm --memory-limit` overrides the environment for one invocation only; a bad
    size is one `error:` line, exit 2."""
    monkeypatch.setenv(_limits.MEMORY_ENV, "inf")
    code, err = _cli(["--memory-limit", "1MiB", "etf", "--K", "1000"], capsys)
    assert code == 2 and "above the limit of 1 MiB" in err
    with pytest.raises(SystemExit) as exc:
        main(["etf", "--K", "3", "--json"])
    assert exc.value.code == 0 and '"K": 3' in capsys.readouterr().out
    assert _limits.memory_limit() == math.inf
    code, err = _cli(["--memory-limit", "12x", "etf", "--K", "3"], capsys)
    assert code == 2 and err.startswith("error: --memory-limit must be a positive size")
    code, err = _cli(["--time-limit", "-1", "etf", "--K", "3"], capsys)
    assert code == 2 and "--time-limit must be a positive duration" in err


@pytest.mark.parametrize(
    "text, expected",
    [("8GiB", 8 * 2**30), ("512M", 512 * 2**20), ("1e9", 1e9), ("2.5k", 2560), ("inf", math.inf)],
)
def test_parse_memory(text, expected):
    """Property: sizes are bytes or powers of 1024 with a suffix; inf lifts the limit."""
    assert _limits.parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "0", "-1G", "8 GB extra", "nan", "1e999x"])
def test_bad_limits_are_invalid_parameters(text, monkeypatch):
    """Property: an unreadable UFM_MEMORY_LIMIT or UFM_TIME_LIMIT is an InvalidParameter naming
    the variable."""
    monkeypatch.setenv(_limits.MEMORY_ENV, text)
    with pytest.raises(InvalidParameter, match=_limits.MEMORY_ENV):
        _limits.memory_limit()
    monkeypatch.setenv(_limits.TIME_ENV, text)
    with pytest.raises(InvalidParameter, match=_limits.TIME_ENV):
        _limits.time_limit()


def test_parse_time_and_defaults():
    """Property: durations in s, m, h; the defaults are 8 GiB and one hour."""
    assert _limits.parse_time("90m") == 5400.0 and _limits.parse_time("2h") == 7200.0
    assert _limits.parse_time("30") == 30.0
    assert _limits.memory_limit() == 8 * 2**30 and _limits.time_limit() == 3600.0


def _cdnv_all_pairs(Mc, var):
    """Twin: every mean difference formed explicitly (the d x K(K-1)/2 form the tiles replace)."""
    i, j = np.triu_indices(Mc.shape[1], 1)
    dist2 = np.sum((Mc[:, i] - Mc[:, j]) ** 2, axis=0)
    return float(np.mean((var[i] + var[j]) / (2.0 * dist2)))


@pytest.mark.parametrize("K, d, tile", [(2, 3, 2**22), (7, 4, 2**22), (40, 5, 64), (33, 50, 7)])
def test_tiled_cdnv_matches_all_pairs(K, d, tile, monkeypatch):
    """Property: the CDNV from tiled Gram products (O(K^2 + Kd) memory) equals the all-pairs
    twin to CDNV_TWIN, with one tile or many (TILE_ENTRIES lowered), and with two nearly
    coincident means (where the Gram form cancels)."""
    monkeypatch.setattr(metrics, "TILE_ENTRIES", tile)
    rng = np.random.default_rng(K)
    Mc = rng.standard_normal((d, K))
    Mc[:, -1] = Mc[:, 0] + 1e-7 * rng.standard_normal(d)
    var = rng.uniform(0.1, 2.0, K)
    got = metrics._cdnv(Mc, var, zero=0.0)
    want = _cdnv_all_pairs(Mc, var)
    assert abs(got - want) <= CDNV_TWIN * abs(want)
    assert abs(got - want) / (1 + abs(want)) <= max(CDNV_TWIN, FLOAT)


def test_cdnv_memory_is_tiles_not_all_pairs():
    """Property: at K = d = 600 the CDNV allocates at most a few tiles (TILE_ENTRIES float64 each),
    far below the 862 MB of the d x K(K-1)/2 differences that `ufm metrics` used to form (and
    the 29.8 GiB at K = d = 2000 of the issue)."""
    K = d = 600
    rng = np.random.default_rng(1)
    Mc, var = rng.standard_normal((d, K)), rng.uniform(0.5, 1.0, K)
    tracemalloc.start()
    try:
        metrics._cdnv(Mc, var, zero=0.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a tile's Gram block, its distances and masks: ~6 arrays of TILE_ENTRIES entries
    assert peak <= 6 * 8 * metrics.TILE_ENTRIES < 8 * d * K * (K - 1) // 2
