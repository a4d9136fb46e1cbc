"""Tests of ``ufm minimizer --depth L``: the deep linear MSE UFM's exact minimizer on the command
line (ufm.minimizers_deep), its JSON contract, the jump threshold, the saved file and the errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_cli_output import one_error_line, run

import ufm
from ufm.minimizers_deep import jump_thresholds
from ufm.tolerances import FLOAT, relative_deviation

#: The JSON keys of ``ufm minimizer`` at depth 1, kept at every depth.
SHALLOW_KEYS = {"objective", "w_norm", "h_norm", "b", "zero_solution", "threshold", "W", "M"}

K, N_PER = 3, 2
BASE = ["minimizer", "--loss", "mse", "--K", str(K), "--d", "4", "--n", str(N_PER), "--json"]


def lam_for(a: float, depth: int) -> float:
    r"""The common decay lambda (every layer and H) at which the balanced bias-free problem has
    :math:`a = 2NC\sigma^{2/q-2}`: with :math:`\sigma = \sqrt n`, :math:`C = \frac q2\lambda`,
    :math:`\lambda = a\,n^{1-1/q}/(Nq)`."""
    q = depth + 1
    return a * N_PER ** (1 - 1 / q) / (K * N_PER * q)


def deep(capsys, depth, lam, *extra):
    argv = [*BASE, "--bias", "none", "--depth", str(depth)]
    argv += ["--lambda-w", repr(lam), "--lambda-h", repr(lam), *extra]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    return json.loads(out)


def test_depth_one_is_the_ufm_path(capsys):
    """Property: --depth 1 prints exactly what the command printed without --depth."""
    argv = [*BASE, "--bias", "free", "--lambda-w", "0.01", "--lambda-h", "0.02"]
    _, plain, _ = run(argv, capsys)
    _, one, _ = run([*argv, "--depth", "1"], capsys)
    plain, one = json.loads(plain), json.loads(one)
    for data in (plain, one):
        data.pop("parameters")
    assert plain == one
    assert "layer_norms" not in one and "metastable" not in one


@pytest.mark.parametrize("depth", [2, 3])
def test_deep_json_keys_objective_and_saved_file(depth, capsys, tmp_path):
    """Property: at depth L >= 2 the JSON has today's keys plus layer_norms (W{L}..W1, H) and
    metastable; the objective is the deep model's objective at the saved blocks, which
    ufm.load reads back as a deep-linear configuration with the same problem and blocks."""
    path = tmp_path / "deep.npz"
    data = deep(capsys, depth, lam_for(0.5, depth), "--seed", "3", "--width", "5", "-o", str(path))
    assert SHALLOW_KEYS | {"layer_norms", "metastable"} <= set(data)
    assert list(data["layer_norms"]) == [f"W{layer}" for layer in range(depth, 0, -1)] + ["H"]
    config = ufm.load(path)
    assert config.model == "deep-linear" and config.problem.model_params["depth"] == depth
    assert config.problem.model_params["widths"] == [5] * (depth - 1)
    for name, norm in data["layer_norms"].items():
        assert relative_deviation(np.linalg.norm(config.blocks[name]), norm) <= FLOAT
    assert relative_deviation(config.objective(), data["objective"]) <= FLOAT
    np.testing.assert_array_equal(np.asarray(data["W"]), config.W)
    assert np.asarray(data["W"]).shape == (K, 5)
    assert not data["zero_solution"] and data["metastable"]["present"] is False


def test_deep_factors_are_balanced(capsys):
    """Property: at the minimizer every factor carries the same penalty,
    lambda_l ||W_l||^2 = lambda_H ||H||^2 (the AM-GM equality case of ufm.minimizers_deep), with
    -- at a common decay -- equal Frobenius norms; W W^T of the classifier is a multiple of I
    (bias-free balanced MSE: orthogonal frame at every layer)."""
    data = deep(capsys, 3, lam_for(0.6, 3))
    norms = np.array(list(data["layer_norms"].values()))
    assert norms.min() > 0 and relative_deviation(norms.max(), norms.min()) <= FLOAT
    W = np.asarray(data["W"])
    G = W @ W.T
    assert relative_deviation(G, G[0, 0] * np.eye(K)) <= FLOAT


@pytest.mark.parametrize("depth", [2, 3])
def test_threshold_decides_zero_and_metastable(depth, capsys):
    """Property: threshold is a, threshold_critical the exact jump a* of jump_thresholds(L + 1):
    below a* the minimizer is collapsed and nonzero; in (a*, a_e) the zero solution wins and a
    positive local minimizer survives with a larger objective; above a_e none survives."""
    jumps = jump_thresholds(depth + 1)
    a_star, a_e = float(jumps["a_star"]), float(jumps["a_e"])
    zero = K * N_PER / (2 * K * N_PER)  # f(0) = ||Y||^2 / (2N)
    for a, zero_wins, stuck in (
        (0.9 * a_star, False, False),
        ((a_star + a_e) / 2, True, True),
        (1.1 * a_e, True, False),
    ):
        data = deep(capsys, depth, lam_for(a, depth))
        assert relative_deviation(data["threshold"], a) <= 1e-12  # lam_for inverts a in float64
        assert data["conventions"]["threshold_critical"] == a_star
        assert data["metastable"]["window"] == [a_star, a_e]
        assert data["zero_solution"] is zero_wins
        assert data["metastable"]["present"] is stuck
        if zero_wins:
            assert data["objective"] == pytest.approx(zero, abs=FLOAT)
            assert max(data["layer_norms"].values()) == 0.0
        else:
            assert data["objective"] < zero
        if stuck:
            assert data["metastable"]["objective"] > data["objective"]
            assert all(s > 0 for s in data["metastable"]["s"])
        else:
            assert data["metastable"]["objective"] is None


def test_deep_imbalanced_free_bias(capsys, tmp_path):
    """Property: with class sizes and a free bias (rank K - 1 target) the printed objective is the
    deep model's objective at the saved blocks, below the objective with the classifier zeroed
    (logits b only), with every layer nonzero."""
    path = tmp_path / "imbalanced.npz"
    argv = ["minimizer", "--loss", "mse", "--bias", "free", "--class-sizes", "4,2,1", "--d", "3"]
    argv += ["--lambda-w", "0.001", "--lambda-h", "0.001", "--depth", "2", "--json"]
    code, out, err = run([*argv, "-o", str(path)], capsys)
    assert code == 0, err
    data = json.loads(out)
    config = ufm.load(path)
    assert config.problem.class_sizes == (4, 2, 1) and not data["zero_solution"]
    assert relative_deviation(config.objective(), data["objective"]) <= FLOAT
    no_classifier = {**config.blocks, "W2": np.zeros_like(config.blocks["W2"])}
    assert data["objective"] < ufm.objective(config.problem, no_classifier)
    assert min(data["layer_norms"].values()) > 0


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--loss", "ce", "--bias", "none", "--depth", "2"], "only mse has a closed form"),
        (["--loss", "mse", "--bias", "none", "--width", "3"], "--width needs --depth >= 2"),
        (["--loss", "mse", "--bias", "regularized", "--lambda-b", "0.1", "--depth", "2"], "bias"),
        (["--loss", "mse", "--bias", "none", "--depth", "2", "--latex"], "--latex"),
        (["--loss", "mse", "--bias", "none", "--depth", "2", "--width", "2"], "width"),
        (["--loss", "mse", "--bias", "none", "--depth", "0"], "--depth"),
    ],
)
def test_deep_errors_are_one_line_exit_2(extra, needle, capsys):
    """Property: an invalid --depth combination is one ``error:`` line naming the rule, exit 2."""
    argv = ["minimizer", "--K", "3", "--d", "3", "--n", "2", "--lambda-w", "0.1"]
    code, _, err = run([*argv, "--lambda-h", "0.1", *extra], capsys)
    assert code == 2 and needle in one_error_line(err)
