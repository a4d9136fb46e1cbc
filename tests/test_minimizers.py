"""Tests of ufm.minimizers: the closed forms are stationary, match their formulas, are not beaten by
perturbations or by L-BFGS from random starts, and are refused outside their hypotheses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from ufm import Problem, gradient, load, nc_metrics, objective
from ufm.cli import cli, main
from ufm.errors import InvalidParameter
from ufm.geometry import is_simplex_etf
from ufm.minimizers import global_minimizer, layer_peeled_optimum
from ufm.objectives import data_term
from ufm.tolerances import FLOAT, METRIC_ZERO, STATIONARY, relative_deviation

CASES = [
    ("ce", "regularized"),
    ("ce", "free"),
    ("ce", "none"),
    ("mse", "none"),
    ("mse", "free"),
    ("mse", "regularized"),
]


@st.composite
def problems(draw, max_K=12, max_extra_d=6, max_n=50):
    """Balanced problems with kappa = K sqrt(n lambda_W lambda_H) over 1e-4..1e2 (both sides of the
    threshold 1), lambda_W / lambda_H over 1e-2..1e2 and lambda_b over 1e-3..1e2."""
    loss, bias = draw(st.sampled_from(CASES))
    K = draw(st.integers(2, max_K))
    n = draw(st.integers(1, max_n))
    kappa = 10 ** draw(st.floats(-4, 2))
    ratio = 10 ** draw(st.floats(-2, 2))
    lambda_b = 10 ** draw(st.floats(-3, 2)) if bias == "regularized" else None
    product = (kappa / K) ** 2 / n
    min_d = K if (loss, bias) == ("mse", "none") else K - 1
    if (loss, bias) == ("mse", "regularized") and kappa < lambda_b / (1 + lambda_b):
        min_d = K
    d = min_d + draw(st.integers(0, max_extra_d))
    return Problem(
        loss=loss,
        K=K,
        d=d,
        n=n,
        lambda_W=math.sqrt(product * ratio),
        lambda_H=math.sqrt(product / ratio),
        lambda_b=lambda_b,
        bias=bias,
    )


def _args(problem, cf, W=None, H=None, b=None):
    W = cf.W if W is None else W
    H = cf.H if H is None else H
    b = cf.b if b is None else b
    return problem, W, H, (b if problem.has_bias else None)


def _relative_gradient(problem, W, H, b) -> float:
    """||grad f|| / (1 + ||grad of the regularizer||): at a stationary point the data gradient
    cancels the regularizer's, so this measures the cancellation relative to the size of what
    cancels."""
    g = gradient(problem, W, H, b)
    bb = np.zeros(problem.K) if b is None else b
    reg = np.sqrt(
        np.sum((problem.lambda_W * W) ** 2)
        + np.sum((problem.lambda_H * H) ** 2)
        + np.sum((problem.lambda_b * bb) ** 2)
    )
    return float(np.sqrt(sum(np.sum(x * x) for x in g))) / (1.0 + reg)


@given(problems())
def test_stationary_and_value(problem):
    """Property: at the closed form the relative gradient norm is <= STATIONARY, the objective
    equals the formula's value, and W = 0, H = 0 exactly when kappa >= 1."""
    cf = global_minimizer(problem)
    assert _relative_gradient(*_args(problem, cf)) <= STATIONARY
    assert relative_deviation(objective(*_args(problem, cf)), cf.objective) <= FLOAT
    kappa = problem.K * math.sqrt(problem.n * problem.lambda_W * problem.lambda_H)
    assert relative_deviation(cf.threshold, kappa) <= FLOAT
    # The closed form decides on the exact value of the float inputs; kappa here is rounded.
    assert cf.zero_solution == (kappa >= 1) or abs(kappa - 1) <= FLOAT
    if cf.zero_solution:
        assert not cf.W.any() and not cf.H.any() and cf.w_norm == 0 and cf.h_norm == 0
    else:
        assert relative_deviation(np.linalg.norm(cf.W, axis=1), cf.w_norm) <= FLOAT
        assert relative_deviation(np.linalg.norm(cf.H, axis=0), cf.h_norm) <= FLOAT


@given(problems(), st.integers(0, 2**32 - 1))
def test_perturbations_never_lower(problem, seed):
    """Property: random perturbations of every size (1e-3 to 1 times the solution's scale) never
    lower the objective (beyond float64 rounding, FLOAT relative)."""
    cf = global_minimizer(problem)
    f_star = cf.objective
    rng = np.random.default_rng(seed)
    scale = 1.0 + max(cf.w_norm, cf.h_norm)
    for eps in (1e-3, 1e-2, 1e-1, 1.0):
        dW, dH, db = (rng.standard_normal(x.shape) * eps * scale for x in (cf.W, cf.H, cf.b))
        b = cf.b + db if problem.has_bias else None
        f = objective(problem, cf.W + dW, cf.H + dH, b)
        assert (f_star - f) / (1 + abs(f_star)) <= FLOAT


@settings(max_examples=12)
@given(problems(max_K=4, max_extra_d=1, max_n=3), st.integers(0, 2**32 - 1))
def test_lbfgs_never_finds_lower(problem, seed):
    """Property: L-BFGS on the flattened (W, H, b) from random starts never finds a value below the
    closed form's (beyond FLOAT relative)."""
    cf = global_minimizer(problem)
    K, d, N = problem.K, problem.d, problem.N
    sizes = (K * d, d * N, K)

    def unpack(z):
        W = z[: sizes[0]].reshape(K, d)
        H = z[sizes[0] : sizes[0] + sizes[1]].reshape(d, N)
        b = z[sizes[0] + sizes[1] :] if problem.has_bias else None
        return W, H, b

    def fun(z):
        W, H, b = unpack(z)
        g = gradient(problem, W, H, b)
        return objective(problem, W, H, b), np.concatenate([g.W.ravel(), g.H.ravel(), g.b])

    rng = np.random.default_rng(seed)
    for start in range(3):
        z0 = rng.standard_normal(sum(sizes)) * (0.1 + start)
        res = minimize(
            fun, z0, jac=True, method="L-BFGS-B", options={"maxiter": 3000, "gtol": 1e-12}
        )
        assert (cf.objective - res.fun) / (1 + abs(cf.objective)) <= FLOAT


@given(problems(max_K=6, max_n=5), st.integers(0, 1000))
def test_configuration_and_collapse(problem, seed):
    """Property: the rotated configuration keeps the objective, and away from the zero solution the
    features are collapsed (NC1 = 0) with the geometry the theorem names (ETF classifiers for CE and
    free-bias MSE, orthogonal frame without bias)."""
    cf = global_minimizer(problem)
    config = cf.configuration(seed=seed)
    assert relative_deviation(config.objective(), cf.objective) <= FLOAT
    if cf.zero_solution:
        return
    metrics = nc_metrics(config.W, config.H, config.b, config.labels)
    assert metrics["nc1"] <= METRIC_ZERO
    if problem.loss == "ce" or problem.bias == "free":
        assert all(is_simplex_etf(config.W.T / cf.w_norm).values())
    if problem.bias == "none" and problem.loss == "mse":
        assert relative_deviation(config.W @ config.W.T, cf.w_norm**2 * np.eye(problem.K)) <= FLOAT


@given(st.integers(2, 12), st.integers(1, 50), st.floats(-4, -0.01), st.floats(-2, 2))
def test_formulas_by_independent_route(K, n, log_kappa, log_ratio):
    """Property: the sympy-derived values equal the textbook closed forms evaluated directly:
    CE g(x*) with x* = ((K-1)/K) log((K-(K-1)kappa)/kappa); MSE kappa - kappa^2/2 (no bias) and
    (K-1)/K (kappa - kappa^2/2) (free bias), below the threshold."""
    kappa = 10**log_kappa
    product = (kappa / K) ** 2 / n
    lam = dict(
        lambda_W=math.sqrt(product * 10**log_ratio), lambda_H=math.sqrt(product / 10**log_ratio)
    )
    x = (K - 1) / K * math.log((K - (K - 1) * kappa) / kappa)
    g = math.log1p((K - 1) * math.exp(-K * x / (K - 1))) + kappa * x
    ce = global_minimizer(Problem(loss="ce", K=K, d=K, n=n, bias="free", **lam))
    assert relative_deviation(ce.objective, g) <= FLOAT
    assert relative_deviation(ce.w_norm * ce.h_norm, x) <= FLOAT
    mse = global_minimizer(Problem(loss="mse", K=K, d=K, n=n, bias="none", **lam))
    assert relative_deviation(mse.objective, kappa - kappa**2 / 2) <= FLOAT
    free = global_minimizer(Problem(loss="mse", K=K, d=K, n=n, bias="free", **lam))
    assert relative_deviation(free.objective, (K - 1) / K * (kappa - kappa**2 / 2)) <= FLOAT
    assert relative_deviation(free.b, 1.0 / K) <= FLOAT


def test_exactly_at_threshold():
    """Property: at kappa = 1 exactly the zero solution is returned, with value log K (CE) and 1/2
    (MSE)."""
    K, n = 4, 4
    lam = 1.0 / (K * math.sqrt(n))
    ce = global_minimizer(
        Problem(loss="ce", K=K, d=K, n=n, lambda_W=lam, lambda_H=lam, bias="free")
    )
    assert ce.zero_solution and relative_deviation(ce.objective, math.log(K)) <= FLOAT
    mse = global_minimizer(
        Problem(loss="mse", K=K, d=K, n=n, lambda_W=lam, lambda_H=lam, bias="none")
    )
    assert mse.zero_solution and relative_deviation(mse.objective, 0.5) <= FLOAT


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="ce", class_sizes=(3, 2, 2), d=3), "balanced classes"),
        (dict(loss="ce", n=2, d=1), "d >= 2"),
        (dict(loss="mse", bias="none", n=2, d=2), "d >= 3"),
        (dict(loss="ce", n=2, d=3, lambda_W=0.0), "lambda_W > 0"),
        (dict(loss="mse", n=2, d=3, lambda_H=0.0), "lambda_W > 0 and lambda_H > 0"),
        (
            dict(
                loss="mse",
                bias="regularized",
                lambda_b=10.0,
                n=2,
                d=2,
                lambda_W=1e-4,
                lambda_H=1e-4,
            ),
            "d >= K here",
        ),
    ],
)
def test_refusals(kwargs, match):
    """Property: inputs outside the hypotheses are refused with the rule, the value and the
    remedy."""
    spec = dict(loss="ce", K=3, bias="free", lambda_W=1e-3, lambda_H=1e-3) | kwargs
    with pytest.raises(InvalidParameter, match=match) as exc:
        global_minimizer(Problem(**spec))
    assert "ufm relax nuclear" in str(exc.value)
    with pytest.raises(InvalidParameter, match="ufm.Problem"):
        global_minimizer({"loss": "ce"})


def test_expressions_and_latex():
    """Property: every result carries sympy expressions for kappa, the scales and the value, and
    prints them as LaTeX."""
    cf = global_minimizer(
        Problem(loss="ce", K=3, d=2, n=2, lambda_W=1e-3, lambda_H=1e-3, bias="free")
    )
    assert {"kappa", "rho", "x_star", "value", "s", "t"} <= set(cf.expressions)
    text = cf.latex()
    assert "\\log" in text and "kappa = K \\sqrt" in text


@given(st.integers(2, 10), st.integers(1, 5), st.floats(-2, 1), st.floats(-2, 1))
def test_layer_peeled_value_and_feasibility(K, n, log_EW, log_EH):
    """Property: the layer-peeled realization meets both energy constraints with equality, its CE
    equals log(1 + (K-1) exp(-K sqrt(E_W E_H)/(K-1))), and classifiers form a simplex ETF."""
    E_W, E_H = 10**log_EW, 10**log_EH
    cf = layer_peeled_optimum(K, E_W, E_H, n=n)
    assert relative_deviation(np.sum(cf.W**2) / K, E_W) <= FLOAT
    assert relative_deviation(np.sum(cf.H**2) / (K * n), E_H) <= FLOAT
    ce, _ = data_term("ce", cf.W @ cf.H, cf.labels)
    want = math.log1p((K - 1) * math.exp(-K * math.sqrt(E_W * E_H) / (K - 1)))
    assert relative_deviation(ce, want) <= FLOAT
    assert relative_deviation(cf.objective, want) <= FLOAT
    assert all(is_simplex_etf(cf.W.T / cf.w_norm).values())


@example(5, 2.0)
@given(st.integers(2, 10), st.floats(1, 2.5))
def test_layer_peeled_tiny_value_keeps_its_digits(K, log_E):
    """Property: at large budgets (E_W = E_H = 10^log_E, value down to 1e-300) the layer-peeled
    optimum is log1p((K-1) e^{-K E/(K-1)}) to FLOAT in *relative* terms, not 0 (issue 15, item 5;
    ``layer_peeled_optimum(5, 100, 100)`` was 0.0 for 2.07e-54)."""
    E = 10**log_E
    want = math.log1p((K - 1) * math.exp(-K * E / (K - 1)))
    if want > 1e-300:  # far from float64's subnormals, where relative accuracy ends
        assert abs(layer_peeled_optimum(K, E, E).objective / want - 1) <= FLOAT


@settings(max_examples=8)
@given(
    st.integers(2, 4), st.integers(1, 3), st.floats(-1, 1), st.floats(-1, 1), st.integers(0, 1000)
)
def test_layer_peeled_not_beaten(K, n, log_EW, log_EH, seed):
    """Property: L-BFGS over configurations on the constraint boundary (W and H rescaled to the full
    budgets, where the optimum lies: scaling up a classifying configuration lowers CE) from random
    starts never finds a lower CE than the closed form."""
    E_W, E_H = 10**log_EW, 10**log_EH
    cf = layer_peeled_optimum(K, E_W, E_H, n=n, d=K)
    labels = cf.labels
    N = K * n

    def fun(z):
        W, H = z[: K * K].reshape(K, K), z[K * K :].reshape(K, N)
        W = W * math.sqrt(K * E_W) / np.linalg.norm(W)
        H = H * math.sqrt(N * E_H) / np.linalg.norm(H)
        return data_term("ce", W @ H, labels)[0]

    rng = np.random.default_rng(seed)
    for _ in range(3):
        res = minimize(fun, rng.standard_normal(K * K + K * N), method="L-BFGS-B")
        assert (cf.objective - res.fun) / (1 + cf.objective) <= FLOAT


@pytest.mark.parametrize(
    "args",
    [
        dict(K=1, E_W=1, E_H=1),
        dict(K=3, E_W=0.0, E_H=1),
        dict(K=3, E_W=1, E_H=-1),
        dict(K=4, E_W=1, E_H=1, d=2),
    ],
)
def test_layer_peeled_refusals(args):
    """Property: K < 2, non-positive budgets and d < K - 1 are refused."""
    with pytest.raises(InvalidParameter):
        layer_peeled_optimum(**args)


BASE = [
    "minimizer",
    "--loss",
    "ce",
    "--bias",
    "regularized",
    "--K",
    "3",
    "--d",
    "2",
    "--n",
    "4",
    "--lambda-w",
    "1e-3",
    "--lambda-h",
    "2e-3",
    "--lambda-b",
    "1e-2",
]


def test_cli_minimizer_json_contract(tmp_path):
    """Property: `ufm minimizer --json -o FILE` prints every contract key and saves a configuration
    whose objective is the printed minimum."""
    path = tmp_path / "cf.npz"
    out = CliRunner().invoke(cli, [*BASE, "--json", "-o", str(path)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    keys = {
        "problem",
        "conventions",
        "objective",
        "w_norm",
        "h_norm",
        "b",
        "zero_solution",
        "threshold",
        "W",
        "M",
    }
    assert keys <= set(data)
    assert "threshold_formula" in data["conventions"]
    assert np.asarray(data["W"]).shape == (3, 2) and np.asarray(data["M"]).shape == (2, 3)
    assert data["zero_solution"] is False and len(data["b"]) == 3
    config = load(path)
    assert relative_deviation(config.objective(), data["objective"]) <= FLOAT
    assert config.H.shape == (2, 12)


def test_cli_minimizer_latex_and_table():
    """Property: --latex prints LaTeX expressions; the default prints a table with the objective."""
    latex = CliRunner().invoke(cli, [*BASE, "--latex"])
    assert latex.exit_code == 0 and "f^{\\star} = " in latex.output and "\\log" in latex.output
    table = CliRunner().invoke(cli, BASE)
    assert table.exit_code == 0 and "objective" in table.output


@pytest.mark.parametrize(
    "change",
    [
        {"--d": "1"},
        {"--lambda-w": "-0.1"},
        {"--K": "1"},
        {"--bias": "none"},
    ],
)
def test_cli_minimizer_refusals(change, capsys):
    """Property: d < K - 1, a negative lambda, K = 1 and lambda_b with bias none exit 2 with a
    message."""
    args = list(BASE)
    for key, value in change.items():
        args[args.index(key) + 1] = value
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("error:")


def test_result_records_have_a_short_repr():
    """Property: printing a result (closed form, its configuration) shows array shapes, not the
    arrays, so the repr stays short however large K and N are."""
    problem = Problem(loss="ce", K=20, d=20, n=50, lambda_W=1e-3, lambda_H=1e-3, bias="none")
    cf = global_minimizer(problem)
    for record in (cf, cf.configuration(seed=0)):
        text = repr(record)
        assert "<array 20x20 float64>" in text and len(text) < 1000
        assert "array([" not in text


# --- issue 15, item 12: --latex compiles, is simplified, and is written in kappa ----------------

#: LaTeX commands the closed forms may print: greek symbols, fractions, roots, logarithms,
#: delimiters and sympy's matrix environment (the imbalanced singular values).
_LATEX_COMMANDS = {"kappa", "rho", "alpha", "beta", "gamma", "lambda", "sigma", "star", "frac",
                   "sqrt", "log", "left", "right", "begin", "end", "cdot", "|"}  # fmt: skip

_LATEX_PROBLEMS = [
    dict(loss="ce", bias="free"),
    dict(loss="ce", bias="regularized", lambda_b=0.1),
    dict(loss="ce-ls", bias="free", loss_params={"smoothing": 0.1}),
    dict(loss="mse", bias="none"),
    dict(loss="mse", bias="regularized", lambda_b=0.1),
]


def _strict_latex(line: str) -> None:
    """A strict check of one formula: known commands only, balanced braces, every subscript or
    superscript a single character or a braced group, and no multi-letter word outside commands
    (``x_star`` or ``smoothing`` would typeset as products of letters)."""
    import re

    assert line.count("{") == line.count("}"), line
    depth = 0
    for char in line:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, line
    commands = set(re.findall(r"\\([A-Za-z]+|\|)", line))
    assert commands <= _LATEX_COMMANDS, commands - _LATEX_COMMANDS
    assert not re.search(r"[_^][A-Za-z0-9]{2,}", line), line
    bare = re.sub(r"\\[A-Za-z]+|\{matrix\}", " ", line)
    assert not re.search(r"[A-Za-z]{2,}", bare), line


def _kappa_substituted(expr):
    from ufm.minimizers import KAPPA, KAPPA_SYMBOL

    return expr.subs(KAPPA_SYMBOL, KAPPA)


@pytest.mark.parametrize("spec", _LATEX_PROBLEMS, ids=lambda s: f"{s['loss']}-{s['bias']}")
def test_latex_is_valid_simplified_and_in_kappa(spec):
    """Property: every line of ``latex()`` is ``<symbol> = <formula>`` with valid LaTeX names
    (``x^{\\star}``, ``f^{\\star}``, ``\\kappa``; no ``x_star``), lambda_H appears only in the
    definition of kappa, each expression of ``in_kappa()`` has no more operations than the raw one
    and equals it once kappa = K sqrt(n lambda_W lambda_H) is put back (30 digits at a point below
    the threshold, where every logarithm's argument is positive)."""
    import sympy as sp

    from ufm.minimizers import SYMBOLS

    cf = global_minimizer(Problem(K=4, d=4, n=3, lambda_W=0.01, lambda_H=0.01, **spec))
    lines = cf.latex().splitlines()
    assert len(lines) == len(cf.expressions)
    assert lines[0].startswith("\\kappa = ")
    for line in lines:
        lhs, rhs = line.split(" = ", 1)
        _strict_latex(lhs)
        _strict_latex(rhs)
        assert "_star" not in line and "smoothing" not in line
    assert all("lambda_{H}" not in line for line in lines[1:])
    point = {SYMBOLS[name]: sp.Rational(value) for name, value in [
        ("K", 4), ("n", 3), ("lambda_W", "1/100"), ("lambda_H", "1/100"), ("lambda_b", "1/10"),
        ("smoothing", "1/10"), ("x", "7/10"), ("alpha", "3/10"), ("gamma", "1/5"),
        ("beta", "1/10")]}  # fmt: skip
    for name, simple in cf.in_kappa().items():
        raw = cf.expressions[name]
        assert sp.count_ops(simple) <= sp.count_ops(raw), name
        difference = sp.N((_kappa_substituted(simple) - raw).subs(point), 30)
        assert abs(difference) < sp.Float("1e-25"), (name, difference)


def test_latex_of_the_ce_value_is_short():
    """Property: the CE minimal value in kappa is a few logarithms (Zhu et al. 2021, Thm 3.1,
    value log(1 + (K-1) e^{-K x*/(K-1)}) + kappa x*), not the nested raw form (65 operations)."""
    import sympy as sp

    cf = global_minimizer(Problem(loss="ce", bias="free", K=4, d=4, n=3, lambda_W=0.01,
                                  lambda_H=0.01))  # fmt: skip
    assert sp.count_ops(cf.in_kappa()["value"]) <= 25
    assert "\\exp" not in cf.latex() and "e^{- \\frac{\\left(K" not in cf.latex()


def test_latex_compiles_or_parses(tmp_path):
    """Property: the ``--latex`` lines compile in a LaTeX document (when an engine is installed)
    and parse with sympy's ``parse_latex`` (when its parser is installed); skipped, with the
    reason, where neither tool exists (the strict check above always runs)."""
    import shutil
    import subprocess

    cf = global_minimizer(Problem(loss="ce-ls", bias="free", K=4, d=4, n=3, lambda_W=0.01,
                                  lambda_H=0.01, loss_params={"smoothing": 0.1}))  # fmt: skip
    lines = cf.latex().splitlines()
    checked = []
    try:
        from sympy.parsing.latex import parse_latex

        for line in lines:
            parse_latex(line.split(" = ", 1)[1])
        checked.append("parse_latex")
    except ImportError:
        pass
    engine = shutil.which("pdflatex") or shutil.which("lualatex")
    if engine:
        body = "\n".join(f"\\[{line}\\]" for line in lines)
        (tmp_path / "f.tex").write_text(
            "\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n"
            f"{body}\n\\end{{document}}\n"
        )
        argv = [engine, "-interaction=nonstopmode", "-halt-on-error", "f.tex"]
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-2000:]
        checked.append(engine)
    if not checked:
        pytest.skip("no LaTeX engine and no parse_latex backend (antlr4 4.11) installed")


def test_deep_metastable_objective_is_where_descent_stops():
    """Property: inside the metastable window (a*, a_e) of the deep linear MSE UFM (depth 2) the
    closed form's ``metastable_objective`` is the objective at which chain descent from the
    collapsed minimizer of a smaller decay stops, above the global value f(0) = ||Y||^2/(2N) of the
    zero solution; below a* there is no metastable point."""
    from ufm.dynamics import chain_descend_to_stationary
    from ufm.minimizers_deep import deep_linear_minimizer, jump_thresholds
    from ufm.tolerances import DESCENT_OBJECTIVE

    K, n, q = 3, 2, 3
    jumps = jump_thresholds(q)
    a_star, a_e = float(jumps["a_star"]), float(jumps["a_e"])

    def problem(a):  # sigma = sqrt(n), C = (q/2) lambda: a = 2 N C sigma^(2/q - 2)
        lam = a * n ** (1 - 1 / q) / (K * n * q)
        return Problem(
            loss="mse", K=K, d=K, n=n, lambda_H=lam, bias="none", model="deep-linear",
            model_params={"depth": q - 1, "lambdas": lam},
        )  # fmt: skip

    below = deep_linear_minimizer(problem(0.9 * a_star))
    assert math.isnan(below.metastable_objective) and not below.zero_solution
    inside_problem = problem((a_star + a_e) / 2)
    inside = deep_linear_minimizer(inside_problem)
    assert inside.zero_solution and inside.objective == pytest.approx(0.5, abs=FLOAT)
    assert inside.metastable_objective > inside.objective
    run = chain_descend_to_stationary(inside_problem, init=below.blocks)
    stopped = objective(inside_problem, run.blocks)
    assert relative_deviation(stopped, inside.metastable_objective) <= DESCENT_OBJECTIVE
