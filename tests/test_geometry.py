"""Tests of ufm.geometry: exact and float simplex ETF, orthogonal frame, SELI, the etf command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from ufm.cli import cli
from ufm.errors import InvalidParameter
from ufm.geometry import (
    etf_gram,
    etf_max_min_angle,
    frame_rank,
    gram,
    has_equal_cosines,
    has_etf_gram,
    helmert_basis,
    is_centered,
    is_simplex_etf,
    min_pairwise_angle,
    orthogonal_frame,
    random_rotation,
    seli,
    seli_class_factors,
    simplex_etf,
)
from ufm.tolerances import FLOAT, relative_deviation

sizes = st.integers(2, 12).flatmap(lambda K: st.tuples(st.just(K), st.integers(K - 1, K + 6)))


@pytest.mark.parametrize("K", range(2, 31))
def test_exact_etf_identities_K_2_to_30(K):
    """Property: for K = 2..30 and d in {K-1, K} the exact ETF satisfies every identity exactly
    (unit norms, equal norms, M^T M = K/(K-1)(I - 11^T/K), cosines -1/(K-1), M1 = 0, rank K-1,
    minimal angle arccos(-1/(K-1)))."""
    for d in (K - 1, K):
        M = simplex_etf(K, d, exact=True)
        assert M.shape == (d, K)
        assert all(e.is_algebraic and not e.has(sp.Float) for e in M)
        verdicts = is_simplex_etf(M)
        assert all(verdicts.values()), verdicts


@given(sizes, st.integers(0, 2**32 - 1))
def test_float_etf_rotated(Kd, seed):
    """Property: the float ETF, rotated by any seeded orthogonal matrix, satisfies every identity
    within FLOAT and has the exact Gram matrix."""
    K, d = Kd
    M = simplex_etf(K, d, seed=seed)
    assert M.shape == (d, K) and M.dtype == np.float64
    assert all(is_simplex_etf(M).values())
    assert relative_deviation(gram(M), etf_gram(K, exact=False)) <= FLOAT


@given(sizes)
def test_float_matches_exact(Kd):
    """Property: the unrotated float ETF equals the exact one entrywise."""
    K, d = Kd
    exact = np.array(simplex_etf(K, d, exact=True).evalf(20).tolist(), dtype=float)
    assert relative_deviation(simplex_etf(K, d), exact) <= FLOAT


@given(st.integers(2, 12), st.integers(0, 2**32 - 1))
def test_no_frame_beats_the_etf_angle(K, seed):
    """Property: K random unit vectors in any dimension never have a larger minimal pairwise angle
    than arccos(-1/(K-1)), the ETF's."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rng.integers(1, K + 3), K))
    X /= np.linalg.norm(X, axis=0)
    assert min_pairwise_angle(X) <= float(etf_max_min_angle(K)) * (1 + FLOAT)


def test_non_etf_frames_are_rejected_exactly():
    """Property: the verdicts separate: an orthogonal frame has unit norms but not the ETF Gram, and
    a perturbed exact ETF fails exactly (no tolerance involved)."""
    verdicts = is_simplex_etf(orthogonal_frame(4, exact=True))
    assert verdicts["unit_norm"] and verdicts["equinorm"]
    assert not verdicts["gram"] and not verdicts["centered"] and not verdicts["rank"]
    M = simplex_etf(4, 3, exact=True)
    M[0, 0] += sp.Rational(1, 10**12)
    assert not has_etf_gram(M) and not is_centered(M) and not has_equal_cosines(M)
    assert frame_rank(M) == 3


@given(st.integers(2, 12), st.integers(0, 6), st.integers(0, 1000))
def test_orthogonal_frame(K, extra, seed):
    """Property: the orthogonal frame has M^T M = I (exact and rotated float)."""
    assert gram(orthogonal_frame(K, K + extra, exact=True)) == sp.eye(K)
    assert relative_deviation(gram(orthogonal_frame(K, K + extra, seed=seed)), np.eye(K)) <= FLOAT


@pytest.mark.parametrize("K", [2, 5, 9])
def test_helmert_and_rotation(K):
    """Property: the Helmert basis is orthonormal and orthogonal to 1 (exactly); rotations are
    orthogonal."""
    E = helmert_basis(K, exact=True)
    assert E * E.T == sp.eye(K - 1) and E * sp.ones(K, 1) == sp.zeros(K - 1, 1)
    assert E.T * E == sp.eye(K) - sp.ones(K, K) / K
    Q = random_rotation(K, 0)
    assert relative_deviation(Q.T @ Q, np.eye(K)) <= FLOAT


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: simplex_etf(1), "K must be an integer >= 2"),
        (lambda: simplex_etf(5, 3), "d >= 4"),
        (lambda: simplex_etf(3, exact=True, seed=1), "seed"),
        (lambda: orthogonal_frame(4, 3), "d >= 4"),
        (lambda: etf_gram(1), "K must be"),
        (lambda: is_simplex_etf(np.ones(3)), "d x K"),
        (lambda: seli([3]), "K >= 2"),
        (lambda: seli([3, 0]), "class_sizes\\[1\\]"),
        (lambda: seli([2, 2, 2]).realize(1), "d >= 2"),
    ],
)
def test_refusals(call, match):
    """Property: invalid inputs raise InvalidParameter naming the rule."""
    with pytest.raises(InvalidParameter, match=match):
        call()


@given(st.lists(st.integers(1, 30), min_size=2, max_size=8), st.integers(0, 1000))
def test_seli_geometry(class_sizes, seed):
    """Property: SELI interpolates the simplex-encoded labels (W H = Z_hat), its factors are the SVD
    of Z_hat (singular values agree with numpy's), W W^T = (P D P)^{1/2} and
    D^{1/2} M^T M D^{1/2} = (D^{1/2} P D^{1/2})^{1/2}; the rotated realization keeps W H."""
    S = seli(class_sizes)
    K = len(class_sizes)
    assert relative_deviation(S.W @ S.H, S.Z_hat) <= FLOAT
    assert (
        relative_deviation(S.singular_values, np.linalg.svd(S.Z_hat, compute_uv=False)[: K - 1])
        <= FLOAT
    )
    assert relative_deviation(S.U.T @ S.U, np.eye(K - 1)) <= FLOAT
    assert relative_deviation(S.V.T @ S.V, np.eye(K - 1)) <= FLOAT
    D = np.diag(np.asarray(class_sizes, float))
    P = np.eye(K) - 1.0 / K
    assert relative_deviation(S.W_gram @ S.W_gram, P @ D @ P) <= FLOAT
    root = np.sqrt(D)
    B = root @ S.M_gram @ root
    assert relative_deviation(B @ B, root @ P @ root) <= FLOAT
    W, H, M = S.realize(K + 2, seed=seed)
    assert relative_deviation(W @ H, S.Z_hat) <= FLOAT
    assert relative_deviation(M.T @ M, S.M_gram) <= FLOAT


@given(st.integers(2, 10), st.integers(1, 20))
def test_seli_balanced_is_etf(K, n):
    """Property: for balanced sizes both SELI Grams are multiples of the ETF Gram
    (W W^T = sqrt(n) P, M^T M = P / sqrt(n)), so W and M are simplex ETFs."""
    S = seli([n] * K)
    P = np.eye(K) - 1.0 / K
    assert relative_deviation(S.W_gram, np.sqrt(n) * P) <= FLOAT
    assert relative_deviation(S.M_gram, P / np.sqrt(n)) <= FLOAT
    assert all(is_simplex_etf(S.M / np.linalg.norm(S.M[:, 0])).values())


def _run(args):
    return CliRunner().invoke(cli, args)


def test_cli_etf_json_contract():
    """Property: `ufm etf --json --exact` prints K, d, M (d x K), gram and the exact entries as
    strings."""
    out = _run(["etf", "--K", "4", "--d", "3", "--exact", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {"K", "d", "M", "gram", "exact"} <= set(data)
    assert (data["K"], data["d"]) == (4, 3)
    assert np.asarray(data["M"]).shape == (3, 4)
    assert relative_deviation(data["gram"], etf_gram(4, exact=False)) <= FLOAT
    exact = sp.Matrix([[sp.sympify(e) for e in row] for row in data["exact"]])
    assert exact == simplex_etf(4, 3, exact=True)
    plain = json.loads(_run(["etf", "--K", "3", "--json"]).output)
    assert "exact" not in plain and np.asarray(plain["M"]).shape == (3, 3)


def test_cli_etf_latex_table_plot(tmp_path):
    """Property: --latex prints exact LaTeX, the default prints a table, --plot writes a PNG."""
    latex = _run(["etf", "--K", "3", "--latex"])
    assert latex.exit_code == 0 and "\\frac{\\sqrt{6}}{3}" in latex.output
    assert "m_2" in _run(["etf", "--K", "3"]).output
    path = tmp_path / "etf.png"
    assert _run(["etf", "--K", "3", "--d", "2", "--plot", str(path)]).exit_code == 0
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args", [["--K", "1"], ["--K", "5", "--d", "3"], ["--K", "3", "--latex", "--json"]]
)
def test_cli_etf_refusals(args, capsys):
    """Property: K = 1, d < K - 1 and conflicting formats exit 2 with a one-line error."""
    from ufm.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["etf", *args])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("error:")


@given(st.lists(st.integers(1, 1000), min_size=2, max_size=8))
def test_seli_class_factors(class_sizes):
    """Property: the K x K factors are seli()'s W and M, interpolate the per-class labels
    (W M = P) and the class means sum to zero (centred at the unweighted mean of the means)."""
    W, M = seli_class_factors(class_sizes)
    S = seli(class_sizes)
    K = len(class_sizes)
    assert relative_deviation(W, S.W) <= FLOAT and relative_deviation(M, S.M) <= FLOAT
    assert relative_deviation(W @ M, np.eye(K) - 1.0 / K) <= FLOAT
    assert relative_deviation(M.sum(axis=1), 0.0) <= FLOAT
