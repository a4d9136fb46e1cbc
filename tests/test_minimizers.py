"""Tests of ufm.minimizers: the closed forms are stationary, match their formulas, are not beaten by
perturbations or by L-BFGS from random starts, and are refused outside their hypotheses."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from ufm import Problem, gradient, load, nc_metrics, objective, relaxations
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
    equals the formula's value, W = 0, H = 0 exactly when kappa >= 1, and b = 0 for CE and
    without a bias."""
    cf = global_minimizer(problem)
    assert _relative_gradient(*_args(problem, cf)) <= STATIONARY
    assert relative_deviation(objective(*_args(problem, cf)), cf.objective) <= FLOAT
    kappa = problem.K * math.sqrt(problem.n * problem.lambda_W * problem.lambda_H)
    assert relative_deviation(cf.threshold, kappa) <= FLOAT
    # The closed form decides on the exact value of the float inputs; kappa here is rounded.
    assert cf.zero_solution == (kappa >= 1) or abs(kappa - 1) <= FLOAT
    if problem.loss == "ce" or not problem.has_bias:  # CE's bias is 0 at the optimum
        assert not cf.b.any()
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
    remedy, a function that exists."""
    spec = dict(loss="ce", K=3, bias="free", lambda_W=1e-3, lambda_H=1e-3) | kwargs
    with pytest.raises(InvalidParameter, match=match) as exc:
        global_minimizer(Problem(**spec))
    assert "ufm relax nuclear" in str(exc.value)
    remedy = re.search(r"\(ufm\.relaxations\.(\w+)\)$", str(exc.value))
    assert callable(getattr(relaxations, remedy.group(1)))  # the named remedy exists
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


# --- issue 16, item 5: checks that kill the mutants of ufm/minimizers.py ------------------------


def _pj_matrix(K, a, b):
    import sympy as sp

    return a * sp.eye(K) + b * sp.ones(K, K)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_pj_algebra_matches_explicit_matrices(K):
    """Property: sums, differences, products (with PJ and with scalars), trace, Frobenius norm and
    nuclear norm (sum of absolute eigenvalues) of P,J-algebra elements with symbolic K equal those
    of the explicit K x K matrices, exactly; a PJ with a concrete K gives the same matrix."""
    import sympy as sp

    from ufm.minimizers import PJ, SYMBOLS

    r = sp.Rational
    A = PJ.from_IJ(r(3, 2), r(-5, 7))  # 3/2 I - 5/7 J: eigenvalues of both signs for K >= 3
    B = PJ(r(-2, 3), r(1, 4))
    a, b = _pj_matrix(K, r(3, 2), r(-5, 7)), _pj_matrix(K, r(-2, 3), r(1, 4) + r(2, 3) / K)
    assert A.matrix(K) == a and B.matrix(K) == b
    assert (A + B).matrix(K) == a + b
    assert (A - B).matrix(K) == a - b
    assert (A * B).matrix(K) == a * b
    assert (A * r(3, 5)).matrix(K) == (r(3, 5) * A).matrix(K) == r(3, 5) * a
    at_K = {SYMBOLS["K"]: K}
    assert A.trace().subs(at_K) == a.trace()
    assert A.frobenius_sq().subs(at_K) == sum(x**2 for x in a)
    eigenvalues = [e for e, m in a.eigenvals().items() for _ in range(m)]
    assert A.nuclear().subs(at_K) == sum(abs(e) for e in eigenvalues)
    concrete = PJ(r(-2, 3), r(1, 4), sp.Integer(K))
    assert concrete.matrix(K) == b and concrete.trace() == b.trace()


@pytest.mark.parametrize(
    "loss, bias", [*CASES, ("ce-ls", "free")], ids=lambda v: v if isinstance(v, str) else None
)
def test_reduced_objective_is_the_objective_on_the_collapsed_family(loss, bias):
    """Property: the reduced objective F that every derivation minimizes equals the full objective
    f(W, H, b) (``ufm.objective``) at the collapsed, symmetric, balanced-factorized point it
    describes: WM = alpha P + gamma J realized with rho = sqrt(n lambda_H/lambda_W), b = beta 1
    (CE: alpha = K x/(K-1), gamma = 0, b = 0). Both sides at a point with every scale nonzero."""
    import sympy as sp

    from ufm.minimizers import SYMBOLS, _collapsed_realization, _reduced_objective

    K, n, lam_W, lam_H, lam_b, smoothing = 3, 2, 0.02, 0.03, 0.5, 0.125
    scales = {"x": 0.7, "alpha": 0.6, "gamma": 0.2, "beta": 0.15 if bias != "none" else 0.0}
    params = {"smoothing": smoothing} if loss == "ce-ls" else {}
    problem = Problem(
        loss=loss, K=K, d=K, n=n, lambda_W=lam_W, lambda_H=lam_H, bias=bias,
        lambda_b=lam_b if bias == "regularized" else None, loss_params=params,
    )  # fmt: skip
    F, variables = _reduced_objective(loss, bias)
    values = {"K": K, "n": n, "lambda_W": lam_W, "lambda_H": lam_H, "lambda_b": lam_b}
    values |= scales | params
    reduced = float(sp.N(F.subs({SYMBOLS[k]: sp.Rational(v) for k, v in values.items()}), 30))
    if problem.loss_fn.link == "softmax":
        assert variables == (SYMBOLS["x"],)
        alpha, gamma, beta = scales["x"] * K / (K - 1), 0.0, 0.0
    else:
        assert set(variables) == {
            SYMBOLS[v] for v in ("alpha", "gamma", "beta")[: (bias != "none") + 2]
        }
        alpha, gamma, beta = scales["alpha"], scales["gamma"], scales["beta"]
    W, M = _collapsed_realization(K, K, alpha, gamma, math.sqrt(n * lam_H / lam_W))
    b = np.full(K, beta) if problem.has_bias else None
    assert relative_deviation(objective(problem, W, M[:, problem.labels], b), reduced) <= FLOAT


@settings(max_examples=15)
@given(
    st.lists(st.integers(1, 6), min_size=2, max_size=4).filter(lambda s: len(set(s)) > 1),
    st.sampled_from(["free", "none"]),
    st.floats(-2, 0.5),
    st.floats(-1, 1),
)
def test_imbalanced_mse_closed_form(sizes, bias, log_ratio_t, log_split):
    """Property: for imbalanced MSE (free or no bias) with t = N sqrt(lambda_W lambda_H) from 1e-2
    to 3 times the largest singular value sigma_1 of Yhat = (I - n 1^T/N) D^(1/2) (free) or
    D^(1/2) (none), computed here by numpy's SVD: the closed form is stationary, its objective is
    f(W, H, b) and the soft-threshold value sum min(sigma, t)^2/(2N) + sqrt(lambda_W lambda_H)
    sum (sigma - t)_+, its expressions evaluate to t, sigma and the value, threshold = t/sigma_1
    decides the zero solution, w_norm, h_norm are the root mean squares of the rows of W and
    the columns of H, b = n/N (free: Zbar n = 0 since (I - n 1^T/N) n = 0) or 0 (none), and its
    configuration (on its problem) has the same objective; it records its parameters, labels and
    citation."""
    K, N = len(sizes), sum(sizes)
    n_vec = np.asarray(sizes, dtype=float)
    Pi = np.eye(K) - np.outer(n_vec, np.ones(K)) / N if bias == "free" else np.eye(K)
    sigma = np.linalg.svd(Pi * np.sqrt(n_vec), compute_uv=False)
    t = 10**log_ratio_t * sigma[0]
    root = t / N
    problem = Problem(
        loss="mse", K=K, d=K, class_sizes=tuple(sizes), bias=bias,
        lambda_W=root * 10**log_split, lambda_H=root / 10**log_split,
    )  # fmt: skip
    cf = global_minimizer(problem)
    assert _relative_gradient(*_args(problem, cf)) <= STATIONARY
    value = np.sum(np.minimum(sigma, t) ** 2) / (2 * N) + root * np.sum(np.maximum(sigma - t, 0))
    assert relative_deviation(cf.objective, value) <= FLOAT
    assert relative_deviation(objective(*_args(problem, cf)), cf.objective) <= FLOAT
    assert relative_deviation(float(cf.expressions["value"]), cf.objective) <= FLOAT
    assert relative_deviation(float(cf.expressions["t"]), t) <= FLOAT
    got_sigma = np.sort(np.asarray(cf.expressions["sigma"], dtype=float).ravel())[::-1]
    assert np.max(np.abs(got_sigma - sigma)) <= FLOAT * (1 + sigma[0])
    assert relative_deviation(cf.threshold, t / sigma[0]) <= FLOAT
    assert cf.zero_solution == (cf.threshold >= 1) or abs(cf.threshold - 1) <= FLOAT
    assert cf.zero_solution == (not cf.W.any())
    assert relative_deviation(cf.w_norm, math.sqrt(np.sum(cf.W**2) / K)) <= FLOAT
    assert relative_deviation(cf.h_norm, math.sqrt(np.sum(cf.H**2) / N)) <= FLOAT
    assert not cf.b.any() if bias == "none" else relative_deviation(cf.b, n_vec / N) <= FLOAT
    assert relative_deviation(cf.configuration().objective(), cf.objective) <= FLOAT
    assert Problem.from_dict(cf.parameters) == problem and np.array_equal(cf.labels, problem.labels)
    assert isinstance(cf.citation, str) and "(" in cf.citation
    assert cf.threshold_formula.endswith("iff t/sigma_1 >= 1")
    assert cf.hypotheses.startswith(
        "any class sizes, d >= " + ("K - 1" if bias == "free" else "K,")
    )


def _rerun_from_provenance(config):
    """Call the function named by a configuration's ``produced_by`` with its parameters."""
    import importlib

    produced = config.metadata["produced_by"]
    module, name = produced["method"].rsplit(".", 1)
    function = getattr(importlib.import_module(module), name)
    params = produced["parameters"]
    if name == "global_minimizer":
        return function(Problem.from_dict(params))
    return function(**params)


@pytest.mark.parametrize(
    "make",
    [
        lambda: global_minimizer(
            Problem(
                loss="mse",
                K=3,
                d=4,
                n=2,
                lambda_W=0.01,
                lambda_H=0.02,
                bias="regularized",
                lambda_b=0.5,
            )  # fmt: skip
        ),
        lambda: global_minimizer(
            Problem(loss="ce", K=3, d=2, n=2, lambda_W=0.01, lambda_H=0.02, bias="none")
        ),
        lambda: layer_peeled_optimum(3, 0.5, 2.0, d=4, n=2),
    ],
    ids=["mse-regularized", "ce-none", "layer-peeled"],
)
def test_configuration_records_how_to_reproduce_it(make):
    """Property: a configuration's metadata name the function and parameters that reproduce it
    (rerunning them gives the same W, H, b and objective), and carry the result's objective,
    zero-solution flag, threshold and rotation seed (a numpy integer recorded as a Python int, not
    lost); seed None keeps the canonical frame, an integer seed rotates feature space (W changes,
    W W^T and WH do not), and the configuration's problem has the same objective there (the
    layer-peeled one: its model and budgets)."""
    cf = make()
    canonical, rotated = cf.configuration(), cf.configuration(seed=np.int64(3))
    assert np.array_equal(rotated.W, cf.configuration(seed=3).W)
    assert np.array_equal(canonical.W, cf.W) and np.array_equal(canonical.H, cf.H)
    assert not np.allclose(rotated.W, cf.W)
    assert relative_deviation(rotated.W @ rotated.W.T, cf.W @ cf.W.T) <= FLOAT
    assert relative_deviation(rotated.W @ rotated.H, cf.W @ cf.H) <= FLOAT
    for config, seed in ((canonical, None), (rotated, 3)):
        assert relative_deviation(config.objective(), cf.objective) <= FLOAT
        extra = config.metadata["extra"]
        assert extra["rotation_seed"] == seed and type(extra["rotation_seed"]) is type(seed)
        assert extra["objective"] == cf.objective and extra["zero_solution"] == cf.zero_solution
        assert extra["threshold"] == cf.threshold
        assert extra["threshold_formula"] == cf.threshold_formula
        again = _rerun_from_provenance(config)
        assert np.array_equal(again.W, cf.W) and np.array_equal(again.H, cf.H)
        assert np.array_equal(again.b, cf.b) and again.objective == cf.objective
    if cf.problem is None:
        assert canonical.problem.model == "layer-peeled"
        assert canonical.problem.model_params == {"E_W": 0.5, "E_H": 2.0}
        assert (canonical.problem.K, canonical.problem.d, canonical.problem.n) == (3, 4, 2)
    else:
        assert canonical.problem == cf.problem
    assert np.array_equal(canonical.b, cf.b)


@pytest.mark.parametrize(
    "args, match",
    [
        ((0, 4, 2, 1), "^K_A must be an integer >= 1"),
        ((1, 4, 1, 1), "^K_B must be an integer >= 2"),
        ((1, 0, 2, 1), "^n_A must be an integer >= 1"),
        ((1, 4, 2, 0), "^n_B must be an integer >= 1"),
        ((1, 4, 2, 4), "^the minority must be smaller: n_B=4 >= n_A=4$"),
    ],
)
def test_ce_minority_threshold_refusals(args, match):
    """Property: each size rule (K_A >= 1, K_B >= 2, n_A, n_B >= 1, n_B < n_A) is enforced with a
    message that starts with the argument it names, and the smallest sizes it allows give
    sqrt(n_B)/N."""
    from ufm.minimizers import ce_minority_threshold_value

    with pytest.raises(InvalidParameter, match=match):
        ce_minority_threshold_value(*args)
    assert ce_minority_threshold_value(1, 2, 2, 1) == sp.Rational(1, 4)


@pytest.mark.parametrize("sizes", [(3, 3), (2, 2, 2, 2), (5, 5, 5), (1, 4), (2, 1, 3), (1, 1, 6)])
def test_max_margin_value_is_the_nuclear_norm_of_P_D_half(sizes):
    """Property: the max-margin value equals ||P D^(1/2)||_* (sum of singular values, by numpy's
    SVD), the SELI value; for balanced sizes it is exactly (K-1) sqrt(n)."""
    from ufm.minimizers import max_margin_value

    K = len(sizes)
    P = np.eye(K) - np.ones((K, K)) / K
    nuclear = np.linalg.svd(P * np.sqrt(sizes), compute_uv=False).sum()
    value = max_margin_value(sizes)
    assert relative_deviation(float(value), nuclear) <= FLOAT
    if len(set(sizes)) == 1:
        assert sp.simplify(value - (K - 1) * sp.sqrt(sizes[0])) == 0


@pytest.mark.parametrize(
    "sizes, match",
    [
        ("33", "sequence of K >= 2"),
        (3, "sequence of K >= 2"),
        ((3,), "K >= 2 entries, got 1"),
        ((3, 0), r"class_sizes\[1\] must be an integer >= 1"),
    ],  # fmt: skip
)
def test_class_size_refusals(sizes, match):
    """Property: the max-margin value and the least-squares classifier refuse a string, a number,
    one class and an empty class, naming the rule."""
    from ufm.minimizers import least_squares_classifier, max_margin_value

    with pytest.raises(InvalidParameter, match=match):
        max_margin_value(sizes)
    with pytest.raises(InvalidParameter, match=match):
        least_squares_classifier(np.zeros((2, 3)), sizes, 0.1)


@pytest.mark.parametrize(
    "H, lam, match",
    [
        (np.zeros(5), 0.1, r"^H must be a d x N matrix with N = sum\(class_sizes\) = 5 columns"),
        (np.zeros((2, 4)), 0.1, r"^H must be a d x N matrix .* got shape \(2, 4\)"),
        ([[0.0] * 5, [0.0] * 4], 0.1, r"^H must be a d x N matrix .* got shape None"),
        (np.zeros((1, 1, 5)), 0.1, r"^H must be a d x N matrix .* got shape \(1, 1, 5\)"),
        (np.zeros((2, 5)), -0.1, r"^lambda_W must be finite and >= 0, got -0.1"),
    ],
)
def test_feature_refusals(H, lam, match):
    """Property: the least-squares classifier and the central-path loss refuse features that are
    not a d x N array (N = sum of the class sizes; a ragged list has no shape) and a negative
    weight decay, with a message that starts with the argument."""
    from ufm.minimizers import central_path_loss, least_squares_classifier

    for function in (least_squares_classifier, central_path_loss):
        with pytest.raises(InvalidParameter, match=match):
            function(H, (2, 3), lam)


def test_features_may_be_nested_lists():
    """Property: features given as a nested list (array_like, as documented) or as a sympy matrix
    give the same classifier loss as the numpy array, in float64 and in exact arithmetic."""
    from ufm.minimizers import central_path_loss, least_squares_classifier

    H = [[1.0, 0.5, -1.0, 0.25, -0.5], [0.0, 1.0, -2.0, 0.5, 1.0]]
    sizes = (2, 1, 2)
    value = least_squares_classifier(np.array(H), sizes, 0.25)[2]
    assert least_squares_classifier(H, sizes, 0.25)[2] == value
    assert (
        least_squares_classifier(H, sizes, 0.25, exact=True)[2]
        == least_squares_classifier(np.array(H), sizes, 0.25, exact=True)[2]
    )
    assert relative_deviation(central_path_loss(H, sizes, 0.25), value) <= FLOAT
    exact_H = sp.Matrix(H).applyfunc(sp.Rational)
    assert least_squares_classifier(exact_H, sizes, 0.25)[2] == value
    assert relative_deviation(central_path_loss(exact_H, sizes, 0.25), value) <= FLOAT


@pytest.mark.parametrize("lam", [0.0, 0.25])
def test_least_squares_classifier_solves_its_normal_equations(lam):
    """Property: the returned (W, b) satisfy the normal equations of
    min (1/2N)||WH + b 1^T - Y||^2 + (lambda/2)||W||^2 exactly (rational arithmetic), the float64
    solve returns the same W, b and value, and the value is the objective at (W, b). Features of
    rank 1 < d with lambda = 0 exercise the minimum-norm solution."""
    from ufm.minimizers import least_squares_classifier

    H = np.array([[1.0, 0.5, -1.0, 0.25, -0.5], [2.0, 1.0, -2.0, 0.5, -1.0]])  # rank 1
    sizes = (2, 1, 2)
    K, N = 3, 5
    W, b, value = least_squares_classifier(H, sizes, lam, exact=True)
    Hs = sp.Matrix(H).applyfunc(sp.Rational)
    Y = sp.Matrix(np.repeat(np.eye(K, dtype=int), sizes, axis=1))
    R = W * Hs + b * sp.ones(1, N) - Y
    assert R * Hs.T / N + sp.Rational(lam) * W == sp.zeros(K, 2)
    assert R * sp.ones(N, 1) == sp.zeros(K, 1)
    assert value == (R * R.T).trace() / (2 * N) + sp.Rational(lam) / 2 * (W * W.T).trace()
    Wf, bf, vf = least_squares_classifier(H, sizes, lam)
    assert relative_deviation(Wf, np.array(W, dtype=float)) <= FLOAT
    assert relative_deviation(bf, np.array(b, dtype=float).ravel()) <= FLOAT
    assert relative_deviation(vf, float(value)) <= FLOAT


def test_layer_peeled_record():
    """Property: the layer-peeled optimum's expressions evaluate to its numbers (x* = sqrt(E_W E_H),
    ||w_k|| = sqrt(E_W), ||h_i|| = sqrt(E_H)), it is never the zero solution and has no threshold
    (its formula says so), it states the d >= K - 1 it enforces: d defaults to K, d = K - 1 is
    allowed and d = K - 2 is refused; each bad argument is refused by a message that names it."""
    from ufm.minimizers import SYMBOLS

    K, E_W, E_H = 4, 0.5, 2.0
    cf = layer_peeled_optimum(K, E_W, E_H)
    at = {SYMBOLS["K"]: K, SYMBOLS["E_W"]: sp.Rational(E_W), SYMBOLS["E_H"]: sp.Rational(E_H)}
    numbers = {"x_star": 1.0, "value": cf.objective, "w_norm": cf.w_norm, "h_norm": cf.h_norm}
    for name, want in numbers.items():
        assert relative_deviation(float(sp.N(cf.expressions[name].subs(at), 30)), want) <= FLOAT
    assert relative_deviation(cf.w_norm, math.sqrt(E_W)) <= FLOAT
    assert relative_deviation(cf.h_norm, math.sqrt(E_H)) <= FLOAT
    assert not cf.zero_solution and cf.threshold is None and cf.threshold_critical is None
    assert cf.problem is None and not cf.b.any() and cf.b.shape == (K,)
    assert cf.W.shape == (K, K) and cf.H.shape == (K, K)
    assert cf.threshold_formula.startswith("none: ") and "d >= K - 1," in cf.hypotheses
    assert isinstance(cf.citation, str) and "(" in cf.citation
    assert layer_peeled_optimum(K, E_W, E_H, d=K - 1, n=2).H.shape == (K - 1, 2 * K)
    assert layer_peeled_optimum(2, E_W, E_H, d=1).W.shape == (2, 1)
    refusals = [
        (dict(d=K - 2), "^the simplex ETF optimum needs d >= K - 1 = 3, got d=2$"),
        (dict(d=0), "^d must be an integer >= 1"),
        (dict(n=0), "^n must be an integer >= 1"),
        (dict(K=1), "^K must be an integer >= 2"),
        (dict(E_W=0.0), "^E_W must be finite and > 0"),
        (dict(E_H=-1.0), "^E_H must be finite and > 0"),
    ]
    for change, match in refusals:
        with pytest.raises(InvalidParameter, match=match):
            layer_peeled_optimum(**({"K": K, "E_W": E_W, "E_H": E_H} | change))


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_label_smoothing_moves_the_threshold(smoothing):
    """Property: with label smoothing alpha the zero solution starts at kappa = 1 - alpha
    (``threshold_critical``, and the rule printed in ``threshold_formula`` evaluates to it): just
    below it the minimizer is not zero, just above it is; the CE expressions s and t are the norms
    ||w_k|| and ||h_i|| of the realization."""
    from ufm.minimizers import SYMBOLS

    K, n = 3, 2
    params = {"smoothing": smoothing} if smoothing else {}
    loss = "ce-ls" if smoothing else "ce"
    critical = 1 - smoothing
    for factor, zero in ((0.9, False), (1.1, True)):
        lam = factor * critical / (K * math.sqrt(n))
        problem = Problem(loss=loss, K=K, d=K, n=n, lambda_W=lam, lambda_H=lam, bias="free",
                          loss_params=params)  # fmt: skip
        cf = global_minimizer(problem)
        assert cf.zero_solution is zero
        assert cf.threshold_critical == critical
        rule = cf.threshold_formula.rsplit("kappa >= ", 1)[1]
        assert eval(rule, {"smoothing": smoothing}) == critical
        at = {SYMBOLS["K"]: K, SYMBOLS["n"]: n, SYMBOLS["lambda_W"]: sp.Rational(lam)}
        at |= {SYMBOLS["lambda_H"]: sp.Rational(lam), SYMBOLS["smoothing"]: sp.Rational(smoothing)}
        for name, norm in (("s", cf.w_norm), ("t", cf.h_norm)):
            assert abs(float(sp.N(cf.expressions[name].subs(at), 30)) - norm) <= FLOAT


@pytest.mark.parametrize("bias", ["free", "none"])
def test_min_norm_interpolant_for_very_unequal_classes(bias):
    """Property: with class sizes 1, 1, 16 (the largest 16 times the smallest, so the Richardson
    step must be sized by the smallest class) the limit is ||Yhat||_* (numpy's singular values),
    Yhat = (I - n 1^T/N) D^(1/2) (free) or D^(1/2) (none), with W M = I - n 1^T/N (free) or I and
    b = n/N (free) or 0."""
    from ufm.minimizers import min_norm_interpolant

    sizes = (1, 1, 16)
    n = np.asarray(sizes, dtype=float)
    Pi = np.eye(3) - np.outer(n, np.ones(3)) / n.sum() if bias == "free" else np.eye(3)
    r = min_norm_interpolant(sizes, bias)
    assert relative_deviation(r.objective, np.linalg.svd(Pi * np.sqrt(n)).S.sum()) <= FLOAT
    assert np.max(np.abs(r.WM - Pi)) <= FLOAT
    assert np.max(np.abs(r.b - (n / n.sum() if bias == "free" else 0))) <= FLOAT


#: Relative accuracy of the imbalanced closed form's sympy expressions: they are computed at
#: ``minimizers._DIGITS`` = 30 significant digits, so 1e-27 leaves three digits for the rounding of
#: the eigen-solve; a float64 (16-digit) evaluation anywhere on the way would miss it by 1e11.
_WORKING_PRECISION = sp.Float("1e-27")


@pytest.mark.parametrize("sizes", [(1, 3), (2, 5), (1, 4), (3, 7)])
def test_imbalanced_value_is_correctly_rounded(sizes):
    """Property: for K = 2 with a free bias Yhat has rank 1, sigma_1^2 = tr(Pi D Pi^T) exactly, so
    the value min(sigma, t)^2/(2N) + sqrt(lambda_W lambda_H)(sigma - t)_+ is exact in sympy; the
    closed form's float64 objective is that value correctly rounded (the module evaluates at
    _DIGITS = 30 digits so that it is), its expressions for the value and sigma_1 carry those
    digits, and its arrays are float64, on both sides of the threshold t = sigma_1."""
    n = [sp.Integer(s) for s in sizes]
    N = sum(n)
    Pi = sp.eye(2) - sp.Matrix(n) * sp.ones(1, 2) / N
    sigma = sp.sqrt((Pi * sp.diag(*n) * Pi.T).trace())
    for lam_W, lam_H in [(0.013, 0.021), (0.0031, 0.007), (0.1, 0.0003), (1e-3, 3e-3), (0.2, 0.3)]:
        problem = Problem(loss="mse", K=2, d=2, class_sizes=sizes, lambda_W=lam_W, lambda_H=lam_H,
                          bias="free")  # fmt: skip
        root = sp.sqrt(sp.Rational(lam_W) * sp.Rational(lam_H))
        t = N * root
        exact = sp.Min(sigma, t) ** 2 / (2 * N) + root * sp.Max(sigma - t, 0)
        cf = global_minimizer(problem)
        assert cf.objective == float(sp.N(exact, 60))
        assert abs(sp.N(cf.expressions["value"] - exact, 60)) <= _WORKING_PRECISION * exact
        sigma_1 = max(cf.expressions["sigma"])
        assert abs(sp.N(sigma_1 - sigma, 60)) <= _WORKING_PRECISION * sigma
        assert all(a.dtype == np.float64 for a in (cf.W, cf.H, cf.M, cf.b))


def test_min_norm_interpolant_refuses_a_regularized_bias():
    """Property: the bias mode is validated with a message that starts with the argument and lists
    the valid modes (the limit exists for a free bias and without one)."""
    from ufm.minimizers import min_norm_interpolant

    with pytest.raises(InvalidParameter, match="^bias must be one of 'free', 'none', got 'reg"):
        min_norm_interpolant((3, 3), "regularized")


@pytest.mark.parametrize("loss, bias", CASES, ids=lambda v: v)
def test_stated_hypothesis_on_d_is_the_enforced_one(loss, bias):
    """Property: the ``d >= ...`` rule that a closed form states in ``hypotheses`` (its first one,
    for the smallest kappa-independent d) is the one global_minimizer enforces: d at the rule is
    solved, one less is refused; every result carries a citation."""
    K = 3
    spec = dict(loss=loss, K=K, n=2, lambda_W=0.2, lambda_H=0.2, bias=bias)
    spec |= {"lambda_b": 0.1} if bias == "regularized" else {}
    cf = global_minimizer(Problem(d=K + 1, **spec))
    rule = re.search(r"d >= (K(?: - 1)?)\b", cf.hypotheses).group(1)
    d = eval(rule, {"K": K})
    assert global_minimizer(Problem(d=d, **spec)).problem.d == d
    with pytest.raises(InvalidParameter, match=f"requires d >= {d}, got d={d - 1} with K={K}"):
        global_minimizer(Problem(d=d - 1, **spec))
    assert isinstance(cf.citation, str) and "(" in cf.citation
