r"""Task kinds: the only place where the sweep calls into the rest of ``ufm``.

Each task kind is one small adapter: it names its parameters, checks a point (building the library
object, which validates it), and runs one point, returning its outputs as Python scalars. Only
public APIs are used (``ufm.Problem``, ``ufm.minimizers.global_minimizer``,
``ufm.relaxations.nuclear_relaxation`` / ``gap`` / ``minority_collapse_sweep``,
``ufm.dynamics.gradient_descent`` / ``gradient_flow`` / ``lesde_moments`` /
``separability_exact``, ``ufm.claims.get_claim``), imported inside the functions so that the
registry itself is cheap to import.

Parametrization by :math:`\kappa`. ``minimizer``, ``relax``, ``descent`` and ``flow`` accept
``kappa`` in place of ``lambda_W``, ``lambda_H``: with the ratio :math:`r = \lambda_H/\lambda_W`
(``lambda_ratio``, default 1) and the README's :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}`
(balanced classes),

.. math:: \lambda_W = \frac{\kappa}{K\sqrt{n r}}, \qquad \lambda_H = r\lambda_W .

Relative gaps use the house scale-free form (``ufm.tolerances``), signed:
:math:`(f - f^\star)/(1 + |f^\star|)`, so a slightly negative value is solver or rounding noise.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidParameter, UFMError

__all__ = ["TaskKind", "TASKS"]


@dataclass(frozen=True)
class TaskKind:
    """One kind of sweep task.

    Attributes
    ----------
    name, description : str
    outputs : dict
        output name -> numpy dtype string (``'f8'`` or ``'bool'``), with a one-line meaning in
        ``output_docs``.
    required, optional : tuple of str
        Parameter names.
    stochastic : bool
        Whether points take a seed (then the result has a ``seed`` dimension).
    seconds_per_point : float
        Rough cost of one point on one core, for the default batching.
    run : callable (point, seed, outputs) -> dict
        One point's outputs (Python floats/bools).
    check : callable (point, outputs) -> None
        Raises :class:`InvalidParameter` for a point the kind refuses (for these outputs).
    open_parameters : bool
        The parameters beyond ``required`` depend on the point (a claim's domain): ``check``, not
        the spec parser, names the ones it takes.
    """

    name: str
    description: str
    outputs: dict
    required: tuple
    optional: tuple
    stochastic: bool
    seconds_per_point: float
    run: Callable
    check: Callable
    output_docs: dict = field(default_factory=dict)
    open_parameters: bool = False


def _lambdas(point: dict) -> dict:
    """lambda_W, lambda_H (and lambda_b if given) of a point, from kappa or given directly."""
    has_kappa = "kappa" in point
    has_lambdas = "lambda_W" in point or "lambda_H" in point
    if has_kappa == has_lambdas:
        raise InvalidParameter(
            f"give either kappa or (lambda_W, lambda_H), got {sorted(set(point) & {'kappa', 'lambda_W', 'lambda_H'})}"  # noqa: E501
        )
    out = {}
    if has_kappa:
        kappa, ratio = point["kappa"], point.get("lambda_ratio", 1.0)
        if not (isinstance(kappa, int | float) and kappa > 0 and math.isfinite(kappa)):
            raise InvalidParameter(f"kappa must be finite and > 0, got {kappa!r}")
        if not (isinstance(ratio, int | float) and ratio > 0 and math.isfinite(ratio)):
            raise InvalidParameter(f"lambda_ratio must be finite and > 0, got {ratio!r}")
        if "n" not in point:
            raise InvalidParameter("kappa needs balanced classes: give n")
        out["lambda_W"] = kappa / (point["K"] * math.sqrt(point["n"] * ratio))
        out["lambda_H"] = ratio * out["lambda_W"]
    else:
        out["lambda_W"], out["lambda_H"] = point.get("lambda_W"), point.get("lambda_H")
    if "lambda_b" in point:
        out["lambda_b"] = point["lambda_b"]
    return out


def _problem(point: dict):
    from ..problem import Problem

    return Problem(
        loss=point["loss"], K=point["K"], d=point.get("d", point["K"]), n=point["n"],
        bias=point["bias"], **_lambdas(point),
    )  # fmt: skip


# -- minimizer: closed-form global minimizers --------------------------------------------------


def _minimizer_run(point, seed, outputs):
    from ..minimizers import global_minimizer

    cf = global_minimizer(_problem(point))
    values = {
        "objective": cf.objective, "zero_solution": cf.zero_solution, "threshold": cf.threshold,
        "w_norm": cf.w_norm, "h_norm": cf.h_norm,
    }  # fmt: skip
    return {k: values[k] for k in outputs}


def _minimizer_check(point, outputs):
    from ..minimizers import global_minimizer

    global_minimizer(_problem(point))


_UFM_PARAMS = ("d", "kappa", "lambda_W", "lambda_H", "lambda_b", "lambda_ratio")

MINIMIZER = TaskKind(
    name="minimizer",
    description="closed-form global minimizer of a balanced regularized UFM "
    "(ufm.minimizers.global_minimizer; d defaults to K)",
    outputs={
        "objective": "f8",
        "zero_solution": "bool",
        "threshold": "f8",
        "w_norm": "f8",
        "h_norm": "f8",
    },  # fmt: skip
    output_docs={
        "objective": "minimal value of the objective",
        "zero_solution": "W = 0, H = 0 is the global minimizer (kappa >= 1)",
        "threshold": "kappa = K sqrt(n lambda_W lambda_H)",
        "w_norm": "common norm of the classifier rows",
        "h_norm": "common norm of the feature vectors",
    },
    required=("loss", "bias", "K", "n"),
    optional=_UFM_PARAMS,
    stochastic=False,
    seconds_per_point=0.012,
    run=_minimizer_run,
    check=_minimizer_check,
)

# -- descent: gradient descent from random starts vs the certificate and the closed form ----------


@functools.lru_cache(maxsize=16)
def _certificate(key):
    from ..problem import Problem
    from ..relaxations import nuclear_relaxation

    return nuclear_relaxation(Problem.from_dict(dict(key)))


@functools.lru_cache(maxsize=16)
def _closed_form_value(key):
    from ..minimizers import global_minimizer
    from ..problem import Problem

    return float(global_minimizer(Problem.from_dict(dict(key))).objective)


def _key(problem):
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                        for k, v in problem.to_dict().items()))  # fmt: skip


def _final_values(p, run, outputs) -> dict:
    """Objective, gradient norm and the requested gaps at the end of a descent or flow run."""
    from ..relaxations import gap

    f = float(run.objective[-1])
    out = {"objective": f, "gradient_norm": float(run.gradient_norm[-1])}
    if "gap_certificate" in outputs:
        cert = _certificate(_key(p))
        g = gap((run.W, run.H, run.b if p.has_bias else None), p, cert)
        out["gap_certificate"] = g / (1 + abs(cert.objective))
    if "gap_closed_form" in outputs:
        star = _closed_form_value(_key(p))
        out["gap_closed_form"] = (f - star) / (1 + abs(star))
    return {k: out[k] for k in outputs}


def _check_closed_form(p, outputs) -> None:
    if "gap_closed_form" in outputs:
        from ..minimizers import global_minimizer

        global_minimizer(p)


def _descent_run(point, seed, outputs):
    from ..dynamics import gradient_descent

    p = _problem(point)
    steps = point["steps"]
    run = gradient_descent(
        p, steps=steps, lr=point["lr"], seed=seed, init_scale=point.get("init_scale", 1.0),
        record_every=max(1, steps),
    )  # fmt: skip
    return _final_values(p, run, outputs)


def _descent_check(point, outputs):
    p = _problem(point)
    for name in ("steps", "lr"):
        if name not in point:
            raise InvalidParameter(f"descent needs {name}")
    if isinstance(point["steps"], bool) or not isinstance(point["steps"], int):
        raise InvalidParameter(f"steps must be an integer >= 1, got {point['steps']!r}")
    if point["steps"] < 1 or not point["lr"] > 0:
        raise InvalidParameter(f"steps must be >= 1 and lr > 0, got {point['steps']}, "
                               f"{point['lr']}")  # fmt: skip
    _check_closed_form(p, outputs)


DESCENT = TaskKind(
    name="descent",
    description="full-batch gradient descent from a random start (ufm.dynamics.gradient_descent); "
    "gaps (f - f*)/(1 + |f*|) to the nuclear-norm certificate and to the closed form",
    outputs={
        "objective": "f8",
        "gradient_norm": "f8",
        "gap_certificate": "f8",
        "gap_closed_form": "f8",
    },  # fmt: skip
    output_docs={
        "objective": "objective at the last step",
        "gradient_norm": "gradient norm at the last step",
        "gap_certificate": "(f - f*)/(1 + |f*|), f* the nuclear-norm certificate",
        "gap_closed_form": "(f - f*)/(1 + |f*|), f* the closed-form minimal value",
    },
    required=("loss", "bias", "K", "n", "steps", "lr"),
    optional=_UFM_PARAMS + ("init_scale",),
    stochastic=True,
    seconds_per_point=0.03,
    run=_descent_run,
    check=_descent_check,
)

# -- flow: gradient flow to a time horizon --------------------------------------------------------


def _flow_run(point, seed, outputs):
    from ..dynamics import gradient_flow

    p = _problem(point)
    run = gradient_flow(
        p, time_horizon=point["time"], seed=seed, init_scale=point.get("init_scale", 1.0),
        records=2,
    )  # fmt: skip
    return _final_values(p, run, outputs)


def _flow_check(point, outputs):
    from .._validation import check_positive

    p = _problem(point)
    check_positive("time", point["time"])
    _check_closed_form(p, outputs)


FLOW = TaskKind(
    name="flow",
    description="gradient flow dX/dt = -grad f(X) to time T from a random start "
    "(ufm.dynamics.gradient_flow, adaptive Dormand-Prince); gaps as for descent",
    outputs=DESCENT.outputs,
    output_docs={
        **DESCENT.output_docs,
        "objective": "objective at time T",
        "gradient_norm": "gradient norm at time T",
    },
    required=("loss", "bias", "K", "n", "time"),
    optional=_UFM_PARAMS + ("init_scale",),
    stochastic=True,
    seconds_per_point=0.2,
    run=_flow_run,
    check=_flow_check,
)

# -- relax: the nuclear-norm convex program ------------------------------------------------------


def _relax_run(point, seed, outputs):
    p = _problem(point)
    cert = _certificate(_key(p))
    out = {"objective": float(cert.objective), "lower": float(cert.lower),
           "upper": float(cert.upper), "exact": bool(cert.exact)}  # fmt: skip
    if "gap_closed_form" in outputs:
        star = _closed_form_value(_key(p))
        out["gap_closed_form"] = (out["objective"] - star) / (1 + abs(star))
    return {k: out[k] for k in outputs}


def _relax_check(point, outputs):
    _check_closed_form(_problem(point), outputs)


RELAX = TaskKind(
    name="relax",
    description="certified global optimum of the UFM by its nuclear-norm convex program "
    "(ufm.relaxations.nuclear_relaxation, Clarabel)",
    outputs={
        "objective": "f8",
        "lower": "f8",
        "upper": "f8",
        "exact": "bool",
        "gap_closed_form": "f8",
    },
    output_docs={
        "objective": "primal value of the convex program",
        "lower": "certified lower bound (the dual value)",
        "upper": "UFM objective of the recovered (W, H, b)",
        "exact": "the relaxation is tight at this d",
        "gap_closed_form": "(objective - f*)/(1 + |f*|), f* the closed-form minimal value",
    },
    required=("loss", "bias", "K", "n"),
    optional=_UFM_PARAMS,
    stochastic=False,
    seconds_per_point=0.05,
    run=_relax_run,
    check=_relax_check,
)

# -- lesde: separability of the locally elastic SDE -------------------------------------------


def _alpha(point):
    if ("alpha" in point) == ("alpha_over_beta" in point):
        raise InvalidParameter("give exactly one of alpha and alpha_over_beta")
    return point["alpha"] if "alpha" in point else point["alpha_over_beta"] * point["beta"]


def _lesde_law(point):
    from ..dynamics import lesde_moments

    return lesde_moments(
        point["K"], point["n"], point["d"], _alpha(point), point["beta"], point["noise"],
        point["time"], model=point.get("model", "I"), lr=point.get("lr", 1.0),
        init_scale=point.get("init_scale", 0.1),
    )  # fmt: skip


def _lesde_run(point, seed, outputs):
    from ..dynamics import separability_exact

    estimate = separability_exact(_lesde_law(point), paths=point.get("paths", 100), seed=seed)
    values = {"probability": estimate.probability, "ci_low": estimate.ci_low,
              "ci_high": estimate.ci_high}  # fmt: skip
    return {k: values[k] for k in outputs}


def _lesde_check(point, outputs):
    from .._validation import check_int

    _lesde_law(point)
    check_int("paths", point.get("paths", 100), 1)


LESDE = TaskKind(
    name="lesde",
    description="P(linearly separable) of the locally elastic SDE at time T, linear model of the "
    "authors' code (model I by default, or L): paths drawn from the exact Gaussian law of the "
    "modes (ufm.dynamics.lesde_moments, separability_exact: no time stepping), decided by LP, "
    "Clopper-Pearson 95% interval",
    outputs={"probability": "f8", "ci_low": "f8", "ci_high": "f8"},
    output_docs={
        "probability": "fraction of linearly separable paths at time T",
        "ci_low": "Clopper-Pearson 95% lower end",
        "ci_high": "upper end",
    },  # fmt: skip
    required=("K", "n", "d", "beta", "noise", "time"),
    optional=("alpha", "alpha_over_beta", "model", "lr", "init_scale", "paths"),
    stochastic=True,
    seconds_per_point=0.4,
    run=_lesde_run,
    check=_lesde_check,
)

# -- minority: Minority Collapse in the layer-peeled model ------------------------------------


def _minority_run(point, seed, outputs):
    from ..relaxations import minority_collapse_sweep

    s = minority_collapse_sweep(
        point["K_A"], point["K_B"], point["E_W"], point["E_H"], [point["R"]], locate=False
    )
    values = {"objective": s.objective[0], "spread": s.minority_spread[0],
              "collapsed": s.collapsed[0]}  # fmt: skip
    return {k: values[k] for k in outputs}


def _minority_check(point, outputs):
    for name in ("K_A", "K_B"):
        if isinstance(point[name], bool) or not isinstance(point[name], int):
            raise InvalidParameter(f"{name} must be an integer, got {point[name]!r}")
    if not point["R"] >= 1 or not point["E_W"] > 0 or not point["E_H"] > 0:
        raise InvalidParameter(
            f"R must be >= 1 and E_W, E_H > 0, got R={point['R']}, E_W={point['E_W']}, "
            f"E_H={point['E_H']}"
        )


MINORITY = TaskKind(
    name="minority",
    description="Minority Collapse in the layer-peeled model (ufm.relaxations."
    "minority_collapse_sweep at one imbalance ratio R = n_A/n_B)",
    outputs={"objective": "f8", "spread": "f8", "collapsed": "bool"},
    output_docs={
        "objective": "layer-peeled optimum",
        "spread": "max ||w_k - w_l||^2/E_W over minority pairs",
        "collapsed": "the collapse certificate psi(R) >= 0 (ufm.relaxations.minority_threshold)",
    },  # fmt: skip
    required=("K_A", "K_B", "E_W", "E_H", "R"),
    optional=(),
    stochastic=False,
    seconds_per_point=0.5,
    run=_minority_run,
    check=_minority_check,
)

# -- measure: NC metrics of stored features, one file per point -----------------------------------

#: Metrics of ``ufm.measure`` a ``measure`` sweep can keep; the classifier ones need W in the file.
_MEASURE_METRICS = {
    "nc1": "tr(Sigma_W Sigma_B^+)/K (Papyan et al. 2020)",
    "nc1_trace_ratio": "tr(Sigma_W)/tr(Sigma_B)",
    "cdnv": "class-distance normalized variance, mean over pairs",
    "etf_distance_means": "Gram distance of the centred means to the simplex ETF",
    "equinorm_means": "std/mean of the centred means' norms",
    "effective_rank_means": "effective rank of the centred means",
    "etf_distance_classifiers": "Gram distance of W W^T to the simplex ETF",
    "nc3_zhu": "||W^T/||W|| - M~/||M~||||_F",
    "nc4": "fraction of samples where classifier and nearest class mean disagree",
}
_CLASSIFIER_METRICS = ("etf_distance_classifiers", "nc3_zhu", "nc4")


def _measure_sources(point, outputs) -> dict:
    """The arrays of ``point['file']`` to read (``PATH:KEY``), checked to exist in the file."""
    import numpy as np

    path = Path(point["file"])
    keys = {"features": point.get("features", "H"), "labels": point.get("labels", "labels")}
    if any(name in outputs for name in _CLASSIFIER_METRICS):
        keys["W"] = point.get("W", "W")
        if "b" in point:
            keys["b"] = point["b"]
    if path.suffix != ".npz" or not path.is_file():
        raise InvalidParameter(f"file must be an existing .npz archive, got {str(path)!r}")
    with np.load(path, allow_pickle=False) as archive:
        missing = sorted(set(keys.values()) - set(archive.files))
    if missing:
        raise InvalidParameter(
            f"{str(path)!r} has no entries {missing} (it holds {sorted(archive.files)}); the "
            "classifier metrics need W"
        )
    return {name: f"{path}:{key}" for name, key in keys.items()}


def _measure_run(point, seed, outputs):
    from ..measure import measure

    sources = _measure_sources(point, outputs)
    features, labels = sources.pop("features"), sources.pop("labels")
    result = measure(features, labels, layout=point.get("layout", "d,N"), **sources)
    return {k: result.metrics.get(k) for k in outputs}


MEASURE = TaskKind(
    name="measure",
    description="NC metrics of stored features (ufm.measure, streamed): one .npz file per point, "
    "by default a ufm configuration file (H d x N, labels, W)",
    outputs=dict.fromkeys(_MEASURE_METRICS, "f8"),
    output_docs=_MEASURE_METRICS,
    required=("file",),
    optional=("features", "labels", "W", "b", "layout"),
    stochastic=False,
    seconds_per_point=0.05,
    run=_measure_run,
    check=lambda point, outputs: _measure_sources(point, outputs),
)

# -- claim: one route of a catalogue claim, at the swept points ----------------------------------


def _inside(rule, value) -> bool:
    """Whether ``value`` lies in a domain rule (``Choice``, ``IntRange``, ``LogRange``)."""
    from ..claims import Choice, IntRange

    if isinstance(rule, Choice):
        return value in rule.values
    number = isinstance(value, int if isinstance(rule, IntRange) else int | float)
    return number and not isinstance(value, bool) and rule.lo <= value <= rule.hi


def _claim_point(point: dict, seed: int) -> tuple:
    """The claim, its route, and the full point of its domain (derived parameters added)."""
    from ..claims import get_claim

    claim = get_claim(point["claim"])
    route = point["route"]
    if route not in claim.routes:
        raise InvalidParameter(f"claim {claim.id!r} has routes {sorted(claim.routes)}, got route "
                               f"{route!r}")  # fmt: skip
    domain = claim.domain
    given = {k: v for k, v in point.items() if k not in ("claim", "route")}
    # the sweep's seed rule (ufm.sweep._spec) supplies the domain's seed
    expected = set(domain.params) - {"seed"}
    if set(given) != expected:
        raise InvalidParameter(
            f"claim {claim.id!r} takes the parameters {sorted(expected)} (seed comes from the "
            f"sweep), got {sorted(given)}"
        )
    for name, rule in domain.params.items():
        if name != "seed" and not _inside(rule, given[name]):
            raise InvalidParameter(
                f"claim {claim.id!r}: {name}={given[name]!r} is outside its hypotheses ({rule})"
            )
    full = dict(given)
    if "seed" in domain.params:
        full["seed"] = seed
    if domain.derive is not None:
        full.update(domain.derive(full))
    if domain.where is not None and not domain.where(full):
        raise InvalidParameter(
            f"claim {claim.id!r}: the point {given} violates its hypotheses: {domain.description}"
        )
    return claim, route, full


def _claim_run(point, seed, outputs):
    claim, route, full = _claim_point(point, seed)
    result = claim.run(route, full)
    if result.error is not None:
        raise UFMError(f"claim {claim.id!r}, route {route!r} crashed at {full}: {result.error}")
    values = {"deviation": float(result.deviation), "tolerance": float(result.tolerance),
              "ok": bool(result.ok)}  # fmt: skip
    return {k: values[k] for k in outputs}


def _claim_check(point, outputs):
    _claim_point(point, 0)


CLAIM = TaskKind(
    name="claim",
    description="one route of a catalogue claim (ufm.claims.get_claim(claim).run(route, point)): "
    "deviation |measured - predicted|/(1 + |predicted|) and the route's tolerance; the point's "
    "seed parameter, if the claim's domain has one, is the sweep's seed of the grid position",
    outputs={"deviation": "f8", "tolerance": "f8", "ok": "bool"},
    output_docs={
        "deviation": "|measured - predicted| / (1 + |predicted|) (one-sided for a bound)",
        "tolerance": "the route's tolerance (ufm.tolerances)",
        "ok": "deviation <= tolerance",
    },  # fmt: skip
    required=("claim", "route"),
    optional=(),
    stochastic=True,
    seconds_per_point=0.5,
    run=_claim_run,
    check=_claim_check,
    open_parameters=True,
)

#: The registry of task kinds, by name.
TASKS = {
    kind.name: kind for kind in (MINIMIZER, RELAX, DESCENT, FLOW, LESDE, MINORITY, MEASURE, CLAIM)
}


def minority_threshold_curve(K_A: int, K_B: int, E_W: float, E_H_values) -> list:
    """R* (``ufm.relaxations.minority_threshold``) at each E_H: the predicted boundary."""
    from ..relaxations import minority_threshold

    return [minority_threshold(K_A, K_B, E_W, float(e), xtol=1e-2).threshold for e in E_H_values]
