r"""Claims of the locally elastic SDE (Zhang, Wang & Su 2021), in the linear model of the authors'
code (:mod:`ufm.dynamics._lesde_model`; the paper's text was not readable here, so every statement
is *derived here* for that model and checked by two routes).

* ``lesde.separation-rate``: the centred class means (I model: all contrasts; L model: the simplex
  mode) grow or decay like :math:`e^{(A - B)/K}`, :math:`A = \int\alpha`, :math:`B = \int\beta`;
* ``lesde.separability-transition``: I model, N >> d: P(linearly separable) -> 1 for
  :math:`\alpha > \beta`, -> 0 for :math:`\alpha < \beta`;
* ``lesde.l-boundary``: L model: the boundary is :math:`\max(\alpha - \beta, \alpha +
  \beta/(K-1)) = 0`, so for :math:`\beta > 0` the features separate even when :math:`\alpha <
  \beta`;
* ``lesde.nc-emerges``: I model, :math:`\alpha > \beta`: NC1 (the trace ratio
  :math:`\operatorname{tr}\Sigma_W/\operatorname{tr}\Sigma_B`, as a ratio of expectations) equals
  :math:`\frac{(n-1)K\,w(t)}{n(K-1)\,v(t)} \to 0` with :math:`w = s^2 + \sigma^2 t`, :math:`v =
  e^{2\lambda t}(s^2 + \sigma^2/(2\lambda))/n - \sigma^2/(2\lambda n)`, :math:`\lambda = (\alpha -
  \beta)/K`. (The centred means themselves stay a random Gaussian configuration, not a simplex ETF:
  NC2 is not a consequence of the I model; see ``proofs/lesde_modes.py``.)

Symbolic routes use the exact Gaussian law (sympy eigenvalues, closed forms, Van Loan), dynamic
routes the Euler-Maruyama kernel.
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from .._registry import register

_CITATION = (
    "Zhang, Wang & Su 2021 (LE-SDE), linear drift of the authors' code zjiayao/le_sde "
    "(fwd_euler, estimate_AB_I/L); statement derived here for that model"
)

#: Noise and initial scale of the claims' paths, and the exponent lambda T reached at the horizon:
#: e^20 = 5e8 of contrast growth against a spread sigma sqrt(T) <= 10 makes the separable side
#: certain, and the same horizon lets the spread swamp the stationary contrasts on the other side.
_NOISE, _INIT, _EXPONENT = 0.1, 0.1, 20.0


def _contrast_rate_symbolic(model: str, K: int, alpha, beta):
    """Exact rates of the centred class-mean modes (sympy): the I model's E/K on 1-perp; the L
    model's generator on the coefficients s_c = u_c^T m_c/|u_c|^2 (proofs/lesde_modes.py)."""
    import sympy as sp

    a, b = sp.Rational(alpha), sp.Rational(beta)
    if model == "I":
        return {(a - b) / K}
    S = sp.Matrix(
        K, K, lambda c, e: (a - b) * int(c == e) + b * sp.Rational(K * int(c == e) - 1, K - 1)
    )
    return set(sp.Matrix(S / K).eigenvals())


# --- lesde.separation-rate ----------------------------------------------------------------------


def _rate_predict(point):
    """(alpha - beta)/K, exact in the binary rationals of the sampled floats."""
    import sympy as sp

    return (sp.Rational(point["alpha"]) - sp.Rational(point["beta"])) / point["K"]


def _rate_symbolic(point):
    import sympy as sp

    rates = _contrast_rate_symbolic(point["model"], point["K"], point["alpha"], point["beta"])
    target = (sp.Rational(point["alpha"]) - sp.Rational(point["beta"])) / point["K"]
    if point["model"] == "L":
        # the simplex mode s = 1: S 1 = (alpha - beta) 1 / K, an exact eigenvector
        return target if target in rates else sp.nan
    return rates.pop()


def _rate_dynamic(point):
    from ...dynamics import simulate_lesde

    K, d, n, T = point["K"], point["K"], 3, 2.0
    init = None
    if point["model"] == "L":
        u = np.eye(K) - 1.0 / K
        init = np.repeat(u, n, axis=1)[None]
    res = simulate_lesde(
        K, n, d, point["alpha"], point["beta"], 0.0, T, model=point["model"], dt=1e-3,
        paths=1, records=2, seed=point["seed"], init=init,
    )  # fmt: skip
    return float((res.log_separation(-1) - res.log_separation(0))[0] / T)


register(
    Claim(
        id="lesde.separation-rate",
        citation=_CITATION,
        statement="In the linear LE-SDE the centred class means (I model: every contrast; L model: "
        "the simplex mode) grow or decay at the rate (alpha - beta)/K, i.e. like exp((A - B)/K).",
        domain=Domain(
            {
                "K": IntRange(2, 5, fast_hi=3),
                "alpha": LogRange(0.2, 2.0),
                "beta": LogRange(0.2, 2.0),
                "model": Choice(("I", "L")),
                "seed": IntRange(0, 10**6),
            },
            description="noiseless paths, d = K, constant alpha, beta",
            regimes=("I, growing", "I, decaying", "L, growing", "L, decaying"),
            regime_of=lambda p: (
                f"{p['model']}, {'growing' if p['alpha'] > p['beta'] else 'decaying'}"
            ),
        ),
        predict=_rate_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _rate_symbolic,
                tol.EXACT,
                fast_points=2,
                description="exact eigenvalue of the contrast generator (sympy)",
            ),
            "dynamic": Route(
                "dynamic",
                _rate_dynamic,
                tol.LESDE_EULER_RATE,
                max_points=6,
                fast_points=2,
                description="noiseless Euler paths: log growth of ||centred means|| / T",
            ),
        },  # fmt: skip
        proof="proofs/lesde_modes.py",
    )
)


# --- lesde.separability-transition and lesde.l-boundary -------------------------------------------


def _separable_predict(point):
    return {"separable": float(point["rate"] > 0)}


def _horizon(point) -> float:
    return _EXPONENT / abs(point["rate"])


def _dt(point) -> float:
    """Euler step: dt |fastest rate| <= 0.05 (stable, and the modes' bias stays small)."""
    K, a, b = point["K"], point["alpha"], point["beta"]
    fastest = max(abs(a + (K - 1) * b), abs(a - b), abs(a + b / (K - 1)), 1e-9) / K
    return min(0.05 / fastest, _horizon(point) / 200)


def _symbolic_separable(point):
    from ...dynamics import lesde_moments, separability_exact

    law = lesde_moments(
        point["K"], point["n"], point["d"], point["alpha"], point["beta"], _NOISE,
        _horizon(point), model=point["model"], init_scale=_INIT,
    )  # fmt: skip
    return {
        "separable": separability_exact(law, paths=point["paths"], seed=point["seed"]).probability
    }


def _dynamic_separable(point):
    from ...dynamics import simulate_lesde

    res = simulate_lesde(
        point["K"], point["n"], point["d"], point["alpha"], point["beta"], _NOISE,
        _horizon(point), model=point["model"], dt=_dt(point), paths=point["paths"],
        seed=point["seed"], init_scale=_INIT, records=2,
    )  # fmt: skip
    return {"separable": res.separability().probability}


def _i_point(p):
    beta = p["alpha"] * (p["ratio"] if p["regime"] == "locally elastic" else 1 / p["ratio"])
    return {"beta": beta, "d": p["K"], "model": "I", "rate": (p["alpha"] - beta) / p["K"]}


def _separability_routes():
    return {
        "symbolic": Route(
            "symbolic", _symbolic_separable, tol.LESDE_PROBABILITY, max_points=3, fast_points=1,
            description="P(separable) from the exact Gaussian law at the horizon (Van Loan / "
            "closed-form moments, no time stepping), Clopper-Pearson",
        ),
        "dynamic": Route(
            "dynamic", _dynamic_separable, tol.LESDE_PROBABILITY, max_points=3, fast_points=1,
            description="Euler-Maruyama paths in modal coordinates, LP separability at the horizon",
        ),
    }  # fmt: skip


register(
    Claim(
        id="lesde.separability-transition",
        citation=_CITATION,
        statement="I model, N >> d: the features become linearly separable with probability -> 1 "
        "when alpha > beta and stay non-separable (probability -> 0) when alpha < beta, at any "
        "horizon (checked at |alpha - beta| T / K = 20, noise 0.1).",
        domain=Domain(
            {
                "K": IntRange(2, 4, fast_hi=3),
                "n": IntRange(40, 60),
                "alpha": LogRange(0.5, 2.0),
                "ratio": LogRange(0.2, 0.5),
                "regime": Choice(("locally elastic", "inelastic")),
                "paths": IntRange(40, 40),
                "seed": IntRange(0, 10**6),
            },
            derive=_i_point,
            description="d = K, n in [40, 60] (N >> d), beta/alpha in [0.2, 0.5] or [2, 5]",
            regimes=("locally elastic", "inelastic"),
            regime_of=lambda p: p["regime"],
        ),
        predict=_separable_predict,
        routes=_separability_routes(),
        proof="proofs/lesde_modes.py",
    )
)


def _l_point(p):
    K, beta = p["K"], p["beta"]
    side = 1.0 if p["side"] == "separable" else -1.0
    alpha = (-1.0 + side * p["gap"]) * beta / (K - 1)
    rate = max(alpha - beta, alpha + beta / (K - 1)) / K
    return {"alpha": alpha, "d": K, "model": "L", "rate": rate}


register(
    Claim(
        id="lesde.l-boundary",
        citation=_CITATION,
        statement="L model, N >> d: the separability boundary is max(alpha - beta, alpha + beta/"
        "(K-1)) = 0, i.e. alpha = min(beta, -beta/(K-1)): with beta > 0 the features separate for "
        "every alpha > -beta/(K-1), including alpha < beta.",
        domain=Domain(
            {
                "K": IntRange(3, 4, fast_hi=3),
                "n": IntRange(40, 60),
                "beta": LogRange(0.5, 2.0),
                "gap": LogRange(0.3, 0.9),
                "side": Choice(("separable", "not separable")),
                "paths": IntRange(40, 40),
                "seed": IntRange(0, 10**6),
            },
            derive=_l_point,
            description="d = K, beta > 0, alpha = (-1 +/- gap) beta/(K-1): both sides of the "
            "boundary, all with alpha < beta",
            regimes=("separable", "not separable"),
            regime_of=lambda p: p["side"],
        ),
        predict=_separable_predict,
        routes=_separability_routes(),
        proof="proofs/lesde_modes.py",
    )
)


# --- lesde.nc-emerges ---------------------------------------------------------------------------


def _nc_time(point) -> float:
    return 4.0 / point["rate"]


def _nc_predict(point):
    return 1.0


def _nc_formula(point) -> float:
    """(n-1) K w / (n (K-1) v): the exact ratio of expectations (module docstring)."""
    K, n, lam, t = point["K"], point["n"], point["rate"], _nc_time(point)
    w = _INIT**2 + _NOISE**2 * t
    v = math.exp(2 * lam * t) * (_INIT**2 + _NOISE**2 / (2 * lam)) / n - _NOISE**2 / (2 * lam * n)
    return (n - 1) * K * w / (n * (K - 1) * v)


def _nc_symbolic(point):
    from ...dynamics import lesde_moments

    K, n, d = point["K"], point["n"], point["d"]
    law = lesde_moments(
        K, n, d, point["alpha"], point["beta"], _NOISE, _nc_time(point), init_scale=_INIT,
        method="van_loan",
    )  # fmt: skip
    trace_W = d * (n - 1) * law.dev_var / n
    trace_B = math.exp(law.log_separation_sq()) / K
    return trace_W / trace_B / _nc_formula(point)


def _nc_dynamic(point):
    from ...dynamics import simulate_lesde

    K, n, d = point["K"], point["n"], point["d"]
    res = simulate_lesde(
        K, n, d, point["alpha"], point["beta"], _NOISE, _nc_time(point), dt=2e-3 / point["rate"],
        paths=400, seed=point["seed"], init_scale=_INIT, records=2,
    )  # fmt: skip
    X, ref = res.centred(-1)
    P = X.shape[0]
    Xc = X.reshape(P, d, K, n)
    M = Xc.mean(axis=3)
    scale = np.exp(2 * (ref - ref.max()))
    trace_W = float(np.mean(((Xc - M[..., None]) ** 2).sum(axis=(1, 2, 3)) / (K * n) * scale))
    trace_B = float(np.mean((M**2).sum(axis=(1, 2)) / K * scale))
    return trace_W / trace_B / _nc_formula(point)


register(
    Claim(
        id="lesde.nc-emerges",
        citation=_CITATION,
        statement="I model with alpha > beta: within-class variability collapses relative to the "
        "class separation, tr Sigma_W / tr Sigma_B (ratio of expectations) = (n-1) K w(t) / "
        "(n (K-1) v(t)) -> 0 like t exp(-2(alpha - beta) t/K); the centred means stay a random "
        "Gaussian configuration (no ETF).",
        domain=Domain(
            {
                "K": IntRange(2, 4, fast_hi=3),
                "n": IntRange(5, 20),
                "alpha": LogRange(1.0, 2.0),
                "ratio": LogRange(0.1, 0.5),
                "seed": IntRange(0, 10**6),
            },
            derive=lambda p: {
                "beta": p["alpha"] * p["ratio"],
                "d": p["K"],
                "rate": p["alpha"] * (1 - p["ratio"]) / p["K"],
            },  # fmt: skip
            description="d = K, noise 0.1, s = 0.1, horizon t = 4K/(alpha - beta)",
        ),
        predict=_nc_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _nc_symbolic,
                tol.LESDE_MOMENTS,
                fast_points=2,
                description="exact moments by Van Loan against the closed form",
            ),
            "dynamic": Route(
                "dynamic",
                _nc_dynamic,
                tol.LESDE_NC_RATIO,
                max_points=3,
                fast_points=1,
                description="400 Euler-Maruyama paths: ratio of path-averaged traces",
            ),
        },  # fmt: skip
        proof="proofs/lesde_moments.py",
    )
)
