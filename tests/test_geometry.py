"""Tests of ufm.geometry: exact and float simplex ETF, orthogonal frame, SELI, the etf command."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from ufm.cli import cli
from ufm.errors import InvalidParameter
from ufm.geometry import (
    etf_cosine,
    etf_gram,
    etf_max_min_angle,
    frame_rank,
    gram,
    has_equal_cosines,
    has_etf_gram,
    helmert_basis,
    is_centered,
    is_equinorm,
    is_simplex_etf,
    is_unit_norm,
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


def test_small_frames_exact_entries():
    """Property: the smallest frames have the hand-computed entries: the K = 2 ETF on a line is
    (1, -1); the d >= K ETF is sqrt(K/(K-1)) (I - J/K) over zero rows (d defaults to K); the
    orthogonal frame is I over zero rows; the Helmert basis of K = 3 has rows (1, -1, 0)/sqrt(2)
    and (1, 1, -2)/sqrt(6). Float frames equal the exact ones and are float64 arrays."""
    assert simplex_etf(2, 1, exact=True) == sp.Matrix([[1, -1]])
    P3 = sp.sqrt(sp.Rational(3, 2)) * (sp.eye(3) - sp.ones(3, 3) / 3)
    assert simplex_etf(3, exact=True) == P3
    assert simplex_etf(3, 5, exact=True) == P3.col_join(sp.zeros(2, 3))
    assert orthogonal_frame(2, exact=True) == sp.eye(2)
    assert orthogonal_frame(2, 3, exact=True) == sp.Matrix([[1, 0], [0, 1], [0, 0]])
    E = sp.Matrix([[1, -1, 0], [0, 0, 0]]) / sp.sqrt(2) + sp.Matrix(
        [[0] * 3, [1, 1, -2]]
    ) / sp.sqrt(6)
    assert helmert_basis(3, exact=True) == E
    for K, d, exact in [(2, 1, sp.Matrix([[1, -1]])), (3, 5, P3.col_join(sp.zeros(2, 3)))]:
        M = simplex_etf(K, d)
        assert M.dtype == np.float64 and relative_deviation(M, np.array(exact, float)) <= FLOAT
    frame = orthogonal_frame(2, 3)
    assert frame.dtype == np.float64 and np.array_equal(frame, np.eye(3)[:, :2])
    assert helmert_basis(3).dtype == np.float64  # float by default
    assert relative_deviation(helmert_basis(3), np.array(E.evalf(20), float)) <= FLOAT


@pytest.mark.parametrize("make", [simplex_etf, orthogonal_frame])
def test_seeded_frame_is_the_rotation_of_the_padded_frame(make):
    """Property: a seeded float frame is random_rotation(d, seed) times the unrotated (padded)
    frame, and different seeds give different frames."""
    Q = random_rotation(5, 7)
    assert relative_deviation(make(3, 5, seed=7), Q @ make(3, 5)) <= FLOAT
    assert relative_deviation(make(3, 5, seed=7), make(3, 5, seed=8)) > 0.1


def test_etf_constants_exact():
    """Property: etf_gram is exact by default and its float form equals the exact one; the ETF
    cosine is -1/(K-1) for a symbol K, and the largest minimal angle of 3 and 4 unit vectors is
    2 pi / 3 and arccos(-1/3)."""
    assert etf_gram(2) == sp.Matrix([[1, -1], [-1, 1]])  # exact by default
    for K in (2, 3, 7):
        assert relative_deviation(etf_gram(K, exact=False), np.array(etf_gram(K), float)) <= FLOAT
    K = sp.Symbol("K")
    assert sp.simplify(etf_cosine(K) + 1 / (K - 1)) == 0
    assert etf_max_min_angle(3) == 2 * sp.pi / 3
    assert etf_max_min_angle(4) == sp.acos(sp.Rational(-1, 3))


def test_min_pairwise_angle_exact_and_float():
    """Property: the minimal pairwise angle is 2 pi / 3 for the exact K = 3 ETF and pi / 2 for an
    orthogonal frame (exact, and in float); two coincident columns give angle 0, not NaN (their
    float cosine 1 + 2.2e-16 for the column (0.7, 0.1) is clipped)."""
    assert min_pairwise_angle(simplex_etf(3, exact=True)) == 2 * sp.pi / 3
    assert min_pairwise_angle(2 * orthogonal_frame(3, exact=True)) == sp.pi / 2
    M = sp.Matrix([[1, 0, 1], [0, 2, 1]])  # cosines 0, 1/sqrt(2), 1/sqrt(2)
    assert min_pairwise_angle(M) == sp.pi / 4
    assert relative_deviation(min_pairwise_angle(np.array(M, float)), np.pi / 4) <= FLOAT
    assert relative_deviation(min_pairwise_angle(orthogonal_frame(3, seed=1)), np.pi / 2) <= FLOAT
    x = np.array([0.7, 0.1])
    assert min_pairwise_angle(np.column_stack([x, x, -x])) == 0.0


@pytest.mark.parametrize("exact", [True, False])
def test_norm_and_cosine_predicates_say_no(exact):
    """Property: each predicate separates, exactly and in float: columns of norms (2, 2) are
    equinorm but not unit; norms (1, 2) are neither; the orthogonal frame has equal cosines 0 (not
    the ETF's -1/2); a zero column has no cosine (False); an uncentred frame is not centred."""

    def frame(rows):
        return sp.Matrix(rows) if exact else np.array(rows, dtype=float)

    twos = frame([[2, 0, -2], [0, 2, 0]])
    assert is_equinorm(twos) and not is_unit_norm(twos)
    mixed = frame([[1, 0], [0, 2]])
    assert not is_equinorm(mixed) and not is_unit_norm(mixed)
    ortho = frame([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert has_equal_cosines(ortho, 0) and not has_equal_cosines(ortho)
    assert not has_equal_cosines(frame([[1, 0, -1], [0, 0, 1]]), 0)
    assert not has_equal_cosines(frame([[1, 0, -1], [0, 0, 0]]))
    assert is_centered(frame([[1, -1], [2, -2]])) and not is_centered(frame([[1, 0], [0, 1]]))


def test_float_predicates_tolerance_is_inclusive():
    """Property: a float identity holds when its deviation is at most FLOAT (the bound is
    inclusive): columns summing to FLOAT are centred, to 2 FLOAT are not."""
    assert is_centered(np.array([[FLOAT, 0.0]]))
    assert not is_centered(np.array([[2 * FLOAT, 0.0]]))


def test_exact_zero_needs_simplification():
    """Property: a column of norm sqrt(3 + 2 sqrt 2) - sqrt 2 = 1 (a nested radical that expansion
    does not settle, so the numeric screen passes it on to simplify) is exactly a unit column; the
    same column shifted by 10^-30 is not."""
    one = sp.sqrt(3 + 2 * sp.sqrt(2)) - sp.sqrt(2)
    assert is_unit_norm(sp.Matrix([[one, 0], [0, 1]]))
    assert not is_unit_norm(sp.Matrix([[one + sp.Rational(1, 10**30), 0], [0, 1]]))


def test_frame_rank_exact_and_float():
    """Property: the rank is exact for radical Grams (a rank-1 frame with irrational Gram, a
    rank-2 one) and the float cut is relative to the largest singular value (at least 1): a
    singular value 1e-3 counts at scale 1, a 1e-14 one does not, and neither does 1e-6 next to
    1e8."""
    r2 = sp.sqrt(2)
    assert frame_rank(sp.Matrix([[1, r2], [r2, 2]])) == 1
    assert frame_rank(sp.Matrix([[1, r2], [0, 1]])) == 2
    assert frame_rank(sp.Matrix([[1, 0], [0, 0]])) == 1
    assert frame_rank(np.diag([1.0, 1e-3])) == 2
    assert frame_rank(np.diag([1.0, 1e-14])) == 1
    assert frame_rank(np.diag([1e8, 1e-6])) == 1
    assert frame_rank(np.diag([1e-3, 1e-9])) == 2


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: simplex_etf(2, 0), "d must be an integer >= 1, got 0"),
        (lambda: simplex_etf(5, 3), "a simplex ETF of K unit vectors needs d >= 4 for K=5 classes"),
        (lambda: orthogonal_frame(4, 3), "an orthogonal frame of K vectors needs d >= 4 for K=4"),
        (
            lambda: orthogonal_frame(3, exact=True, seed=0),
            r"^seed \(a random rotation\) applies only to float frames, got exact=True$",
        ),
        (lambda: random_rotation(3, -1), "seed must be an integer >= 0, got -1"),
        (lambda: random_rotation(0, 1), "d must be an integer >= 1, got 0"),
        (lambda: helmert_basis(1), "K must be an integer >= 2, got 1"),
        (lambda: is_unit_norm(sp.Matrix([[1], [0]])), "a frame needs K >= 2 columns, got 1"),
        (lambda: is_unit_norm(np.ones((2, 1))), r"got shape \(2, 1\)"),
        (lambda: is_unit_norm(np.array([[1.0, np.inf]])), "a frame must be a finite d x K"),
        (lambda: seli("12"), "class_sizes must be a sequence of integers, got '12'"),
        (lambda: seli(5), "class_sizes must be a sequence of integers, got 5"),
        (lambda: seli([3]), "class_sizes must have K >= 2 entries, got 1"),
        (lambda: seli_class_factors([2, 0]), r"class_sizes\[1\] must be an integer >= 1"),
        (lambda: seli([2, 2, 2]).realize(0), "d must be an integer >= 1, got 0"),
        (lambda: seli([2, 2, 2]).realize(1), "SELI has rank K-1=2, so it needs d >= 2, got d=1"),
    ],
)
def test_refusal_messages(call, message):
    """Property: each refusal names the argument, the rule and the value received."""
    with pytest.raises(InvalidParameter, match=message):
        call()


def test_memory_limit_refuses_huge_frames(monkeypatch):
    """Property: the memory estimate of a frame is four float64 arrays of max(K, d)^2 entries and a
    frame above the limit is refused before any allocation, naming the frame and the remedy: with
    a limit of 32000 bytes, max(K, d) = 31 (30752 bytes) is built and 32 (32768 bytes) is not."""
    from ufm._limits import MEMORY_ENV, LimitExceeded

    monkeypatch.setenv(MEMORY_ENV, "32000")
    assert simplex_etf(31).shape == (31, 31) and orthogonal_frame(2, 31).shape == (31, 2)
    with pytest.raises(LimitExceeded, match=r"a simplex ETF of K unit vectors \(K=32, d=32\)"):
        simplex_etf(32)
    with pytest.raises(LimitExceeded, match=r"\(K=2, d=32\) needs about 32 KiB.*; lower K or d"):
        orthogonal_frame(2, 32)


def test_seli_small_case_by_hand():
    """Property: SELI of sizes (2, 1) by hand: K = 2, N = 3, labels (0, 0, 1), Z_class = P and
    Z_hat = P Y = [[1, 1, -1], [-1, -1, 1]]/2; the realization without a seed in R^d is the
    K - 1 = 1 dimensional one padded with zero rows, and realize(K - 1) is allowed."""
    S = seli([2, 1])
    assert (S.K, S.N) == (2, 3) and S.labels.tolist() == [0, 0, 1]
    P = np.eye(2) - 0.5
    assert relative_deviation(S.Z_class, P) <= FLOAT
    assert relative_deviation(S.Z_hat, np.array([[1, 1, -1], [-1, -1, 1]]) / 2) <= FLOAT
    W, H, M = S.realize(3)
    assert np.array_equal(W, np.hstack([S.W, np.zeros((2, 2))]))
    assert np.array_equal(H, np.vstack([S.H, np.zeros((2, 3))]))
    assert np.array_equal(M, np.vstack([S.M, np.zeros((2, 2))]))
    W1, H1, M1 = S.realize(1)
    assert np.array_equal(W1, S.W) and np.array_equal(H1, S.H) and np.array_equal(M1, S.M)


def test_seli_class_factors_sizes_beyond_int64():
    """Property: the K x K route takes class sizes beyond the int64 range (no N-column array is
    formed): balanced sizes n = 2^64 give W W^T = sqrt(n) P and M^T M = P / sqrt(n), and the
    imbalanced (10^20, 1) still interpolates W M = P."""
    n = 2**64
    W, M = seli_class_factors([n] * 3)
    P = np.eye(3) - 1.0 / 3
    assert relative_deviation(W @ W.T / 2**32, P) <= FLOAT
    assert relative_deviation(M.T @ M * 2**32, P) <= FLOAT
    W, M = seli_class_factors([10**20, 1])
    assert relative_deviation(W @ M, np.eye(2) - 0.5) <= FLOAT


def test_verdicts_keys_and_angle_tolerance():
    """Property: is_simplex_etf returns exactly its documented verdicts, and its float angle check
    is consistent with its Gram check: M = [[1, -1], [0, 3e-8]] has the K = 2 ETF Gram within
    FLOAT, while arccos turns its cosine -1 + 4.5e-16 into an angle pi - 3e-8 (square-root
    sensitivity at -1), which the tolerance sqrt(FLOAT) accepts; its rank is 2, not K - 1."""
    verdicts = is_simplex_etf(np.array([[1.0, -1.0], [0.0, 3e-8]]))
    assert set(verdicts) == {
        "unit_norm", "equinorm", "gram", "equal_cosines", "centered", "rank", "max_min_angle"
    }  # fmt: skip
    assert verdicts["gram"] and verdicts["equal_cosines"] and verdicts["max_min_angle"]
    assert not verdicts["rank"] and not verdicts["centered"]


def test_seli_seeded_realization_is_the_rotated_padding():
    """Property: realize(d, seed) is the unseeded (zero-padded) realization rotated by
    random_rotation(d, seed): features and means Q M, classifier W Q^T."""
    S = seli([3, 1, 2])
    Q = random_rotation(4, 5)
    W0, H0, M0 = S.realize(4)
    W, H, M = S.realize(4, seed=5)
    assert relative_deviation(M, Q @ M0) <= FLOAT and relative_deviation(H, Q @ H0) <= FLOAT
    assert relative_deviation(W, W0 @ Q.T) <= FLOAT


@pytest.mark.parametrize("exact", [True, False])
def test_cosines_ignore_column_scales(exact):
    """Property: cosines do not depend on the columns' norms: the K = 3 ETF with its columns scaled
    by 1, 2, 3 still has equal cosines -1/2 (but is not equinorm), a uniformly scaled one too."""
    E = simplex_etf(3, exact=exact)
    for scales in ([1, 2, 3], [2, 2, 2]):
        M = E * sp.diag(*scales) if exact else E * np.asarray(scales, float)
        assert has_equal_cosines(M) and has_equal_cosines(M, -0.5)
        assert is_equinorm(M) == (scales[0] == scales[1])


def test_zero_columns_relative_to_the_largest():
    """Property: in float a column counts as zero (no cosine: verdict False, and no division
    warning) when its norm is at most FLOAT max(1, largest norm): for K = 2 (cosine -1) the columns
    1 and -1e-12 are refused and 1 and -1.5e-12 pass; at scale 1e3 the cut is 1e-9."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not has_equal_cosines(np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]]))
        assert not has_equal_cosines(np.array([[1.0, -1e-12]]))
        assert has_equal_cosines(np.array([[1.0, -1.5e-12]]))
        assert not has_equal_cosines(np.array([[1e3, -1e-9]]))
        assert has_equal_cosines(np.array([[1e3, -1.5e-9]]))


def test_centred_means_every_row_sums_to_zero():
    """Property: centring is per coordinate: rows summing to (1, -1) are not centred although all
    entries sum to zero (float and exact)."""
    assert not is_centered(np.array([[1.0, 0.0], [0.0, -1.0]]))
    assert not is_centered(sp.Matrix([[1, 0], [0, -1]]))


def test_float_rank_cut():
    """Property: the float rank counts singular values strictly above FLOAT K max(s_1, 1); for
    K = 2 that cut is 2e-12: 1e-12 and 2e-12 are not counted, 3e-12 is."""
    assert frame_rank(np.diag([1.0, 1e-12])) == 1
    assert frame_rank(np.diag([1.0, 2e-12])) == 1
    assert frame_rank(np.diag([1.0, 3e-12])) == 2


def test_integer_frames_are_measured_in_float():
    """Property: an integer frame is converted to float64 before its Gram is formed, so squares
    beyond int64 do not wrap around: the K = 2 frame (2^32, -2^32) has cosine -1 and is an ETF
    up to scale."""
    M = np.array([[2**32, -(2**32)]])
    assert has_equal_cosines(M) and is_equinorm(M) and is_centered(M)
    assert min_pairwise_angle(M) == np.pi
