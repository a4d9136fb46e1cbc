"""Family ``lesde``: the phase transition of the locally elastic SDE (Zhang, Wang & Su 2021)."""

from __future__ import annotations

from ... import tolerances as tol
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from .._registry import register


def _lesde_point(p):
    beta = p["alpha"] * (p["ratio"] if p["regime"] == "locally elastic" else 1 / p["ratio"])
    return {"beta": beta}


def _lesde_predict(point):
    return {"separable": float(point["alpha"] > point["beta"])}


def _lesde_symbolic(point):
    r"""Exact drift of the linearized LE-ODE at M = 0 for balanced classes: class k moves along
    (alpha - beta)(e_k - 1/K)/K, so the readout margin of its mean grows like (alpha - beta)t/K."""
    import sympy as sp

    K = point["K"]
    alpha, beta = sp.nsimplify(point["alpha"]), sp.nsimplify(point["beta"])
    E = (alpha - beta) * sp.eye(K) + beta * sp.ones(K, K)
    P = sp.eye(K) - sp.ones(K, K) / K
    drift = P * E / K  # column k: d m_k / dt at M = 0 in logit coordinates (balanced, W_0 = I)
    margins = [drift[k, k] - drift[j, k] for k in range(K) for j in range(K) if j != k]
    return {"separable": sp.Integer(int(all(m > 0 for m in margins)))}


#: Noise of the LE-SDE paths in the claim's check. The readout margin grows like (alpha - beta) t/K
#: until cross-entropy saturates (margin ~ log K) and then only logarithmically, while the noise
#: spreads the features like sigma sqrt(2t): the transition is sharp in the window where the drift
#: dominates, which the horizon below and this noise level keep (margin ~ 2 at the horizon against a
#: noise of at most 0.2 in the domain).
_LESDE_NOISE = 0.01


def _lesde_horizon(point) -> float:
    """4K/|alpha - beta|: where the linearized margin (alpha - beta) t/K reaches 4."""
    return 4 * point["K"] / abs(point["alpha"] - point["beta"])


def _lesde_dynamic(point):
    from ...dynamics import simulate_lesde

    K = point["K"]
    res = simulate_lesde(
        K,
        point["n"],
        K,
        point["alpha"],
        point["beta"],
        noise=_LESDE_NOISE,
        time=_lesde_horizon(point),
        paths=point["paths"],
        seed=point["seed"],
    )
    return {"separable": res.separability().probability}


register(
    Claim(
        id="lesde.phase-transition",
        citation="Zhang, Wang & Su 2021 (LE-SDE); model and linearization derived here",
        statement="Under the locally elastic SDE the features become separable by the readout "
        "(vanishing training loss) when the intra-class impact alpha exceeds the inter-class "
        "impact beta, and not when alpha < beta (checked while the drift dominates the noise: "
        "noise 0.01 up to time 4K/|alpha - beta|).",
        domain=Domain(
            {
                "K": IntRange(2, 5, fast_hi=3),
                "n": IntRange(3, 10, fast_hi=5),
                "alpha": LogRange(0.5, 2.0),
                "ratio": LogRange(0.1, 0.5),
                "regime": Choice(("locally elastic", "inelastic")),
                "paths": IntRange(40, 40),
                "seed": IntRange(0, 10**6),
            },
            derive=_lesde_point,
            description="features = logits (d = K), noise 0.01, horizon 4K/|alpha - beta|, "
            "beta/alpha in [0.1, 0.5] or [2, 10]",
        ),
        predict=_lesde_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _lesde_symbolic,
                tol.EXACT,
                fast_points=2,
                description="exact sign of the LE-ODE drift margins (sympy)",
            ),
            "dynamic": Route(
                "dynamic",
                _lesde_dynamic,
                tol.LESDE_PROBABILITY,
                max_points=4,
                fast_points=2,
                description="Euler-Maruyama paths, fraction separable at the final time",
            ),
        },
        proof="proofs/le_ode.py",
    )
)
