r"""Pieces shared by the deep linear claims (``mse.deep-linear``, ``mse.deep-linear-jump``).

Depth. The deep linear UFM (:mod:`ufm.models.deep_linear`) has L = ``depth`` weight layers
:math:`W_L, \dots, W_1` on the features H: q = L + 1 factors. Statements that count *factors*
(weight layers and H, as in Ziyin, Li & Meng 2022) say "depth >= 3 factors" for ufm depth >= 2.

The scalar law (derived here, ``proofs/deep_linear.py``; consistent with Tirer & Bruna 2022 and
Dang et al. 2023). Each singular value :math:`\sigma` of the target :math:`\hat Y` (``yhat``) is
shrunk to :math:`s = \sigma z`, where z minimizes over :math:`z \ge 0`

.. math:: \phi_a(z) = (z - 1)^2 + a z^p,\qquad p = 2/q,\qquad
          a = q N\mu\,\sigma^{p-2},\qquad \mu = (\lambda_L\cdots\lambda_1\lambda_H)^{1/q},

and the objective is :math:`\sum_i \frac{\sigma_i^2}{2N}\phi_{a_i}(z_i)`. The predictions evaluate
this law with their own root finding (:func:`scalar_law`), not with :mod:`ufm.minimizers_deep`,
which the symbolic routes check.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize

from ...problem import Problem
from ._common import yhat

#: Relative and absolute accuracy handed to brentq for the positive root of phi'_a: a few ulps.
_XTOL = 1e-15
_RTOL = 4 * np.finfo(float).eps


def phi(z: float, a: float, q: int) -> float:
    r""":math:`\phi_a(z) = (z-1)^2 + a z^{2/q}`."""
    return (z - 1.0) ** 2 + a * z ** (2.0 / q)


def local_minimizer(a: float, q: int) -> float:
    r"""The positive local minimizer of :math:`\phi_a` (0 if there is none).

    :math:`\phi_a'' = 2 + ap(p-1)z^{p-2}` vanishes at the inflection
    :math:`z_m = (ap(1-p)/2)^{1/(2-p)}`; :math:`\phi_a` is concave on :math:`(0, z_m)` and convex
    after it, and :math:`\phi_a'(1) = ap > 0`, so a positive local minimizer exists iff
    :math:`z_m < 1` and :math:`\phi_a'(z_m) < 0`; it is then the root of :math:`\phi_a'` in
    :math:`(z_m, 1)` (brentq). For q = 2 (p = 1), :math:`z_m = 0` and this is the soft threshold
    :math:`z = (1 - a/2)_+`.
    """
    p = 2.0 / q

    def dphi(z):
        return 2.0 * (z - 1.0) + a * p * z ** (p - 1.0)

    z_m = (a * p * (1.0 - p) / 2.0) ** (1.0 / (2.0 - p))
    if z_m >= 1.0 or dphi(z_m) >= 0.0:
        return 0.0
    return float(scipy.optimize.brentq(dphi, z_m, 1.0, xtol=_XTOL, rtol=_RTOL))


def scalar_law(a: float, q: int) -> tuple[float, float]:
    r"""(global minimizer z of :math:`\phi_a` on :math:`z \ge 0`, positive local minimizer or 0):
    the positive local minimizer wins iff :math:`\phi_a(z) < \phi_a(0) = 1` (a tie goes to 0)."""
    z = local_minimizer(a, q)
    return (z if z > 0 and phi(z, a, q) < 1.0 else 0.0), z


def thresholds(q: int) -> dict[str, float]:
    r"""Closed forms of the jump (derived in ``proofs/deep_linear.py``):
    :math:`z^* = \frac{q-2}{q-1}`, :math:`a^* = q(1-z^*)z^{*\,1-p}` (zero wins for a >= a*),
    :math:`z_e = \frac{q-2}{2(q-1)}`, :math:`a_e = q(1-z_e)z_e^{1-p}` (a positive local minimizer
    exists iff a < a_e). At q = 2: the soft threshold, :math:`a^* = a_e = 2`, no window."""
    p = 2.0 / q
    z_star = (q - 2) / (q - 1)
    z_e = (q - 2) / (2 * (q - 1))
    return {
        "z_star": z_star,
        "a_star": q * (1 - z_star) * z_star ** (1 - p),
        "z_e": z_e,
        "a_e": q * (1 - z_e) * z_e ** (1 - p),
    }


def spectrum(sizes, bias: str):
    """SVD U, sigma, V^T of yhat, sigma descending, with the exact zero of the centred target set
    to 0 (float SVD leaves ~1e-16 there)."""
    U, sigma, Vt = np.linalg.svd(yhat(sizes, bias))
    sigma[sigma < 1e-12 * sigma[0]] = 0.0
    return U, sigma, Vt


def decays(point: dict, a1: float, sigma1: float) -> dict:
    r"""Per-factor weight decays placing :math:`a_1 = qN\mu\sigma_1^{p-2}`:
    :math:`\mu = a_1\sigma_1^{2-p}/(qN)`, :math:`\lambda_x = \mu r_x` with seeded ratios
    :math:`r_x = e^{u_x - \bar u}`, :math:`u_x` uniform in [-log 3, log 3] (geometric mean 1, so the
    product of the decays is :math:`\mu^q`)."""
    q = point["depth"] + 1
    N = sum(point["class_sizes"])
    mu = a1 * sigma1 ** (2 - 2 / q) / (q * N)
    u = np.random.default_rng(point["seed"]).uniform(-math.log(3), math.log(3), q)
    lam = mu * np.exp(u - u.mean())
    return {"lambdas": tuple(float(x) for x in lam[:-1]), "lambda_H": float(lam[-1]), "mu": mu}


def deep_problem(point: dict, loss: str = "mse") -> Problem:
    """The deep linear problem of a point (``class_sizes``, ``d``, decays, bias; hidden widths all
    d)."""
    L = point["depth"]
    return Problem(
        loss=loss,
        K=len(point["class_sizes"]),
        d=point["d"],
        class_sizes=point["class_sizes"],
        lambda_H=point["lambda_H"],
        bias=point["bias"],
        model="deep-linear",
        model_params={
            "depth": L,
            "lambdas": list(point["lambdas"]),
            "widths": [point["d"]] * (L - 1),
        },
    )


def origin_blocks(problem: Problem) -> dict:
    """Zero factors; a free bias at its optimum n/N there (MSE: the mean label)."""
    from ...models import get_model

    blocks = {k: np.zeros(v) for k, v in get_model(problem.model).blocks(problem).items()}
    if problem.has_bias:
        blocks["b"] = np.asarray(problem.class_sizes, dtype=float) / problem.N
    return blocks


def end_to_end_s(problem: Problem, blocks: dict) -> np.ndarray:
    r"""Singular values (descending) of :math:`X = \bar Z D^{1/2}`, :math:`\bar Z` the class means
    of the bias-free logits :math:`W_L\cdots W_1H` (K x K)."""
    from ...metrics import class_means

    L = problem.model_params["depth"]
    F = blocks["H"]
    for layer in range(1, L + 1):
        F = blocks[f"W{layer}"] @ F
    Zbar, counts = class_means(F, problem.labels, problem.K)
    return np.linalg.svd(Zbar * np.sqrt(counts), compute_uv=False)


# --------------------------------------------------------------------------------------------------
# mse.deep-linear: sampling, prediction, measurement

#: Imbalanced class sizes are drawn from 1..this.
_N_MAX = 4


def _window(q: int) -> tuple[float, float]:
    """[0.8 a*, 1.2 a_e]: the jump and its metastable window, with 20% margins (claim
    ``mse.deep-linear-jump`` samples inside; ``mse.deep-linear`` stays out)."""
    t = thresholds(q)
    return 0.8 * t["a_star"], 1.2 * t["a_e"]


def sample_point(point: dict) -> dict:
    r"""Class sizes, d and the decays of an ``mse.deep-linear`` point.

    Sizes from the seed (balanced n = 1..3, or each class 1.._N_MAX); d = rank of
    :math:`\hat Y` + ``extra_d``; :math:`a_1` (of the largest singular value) log-uniform at
    ``position`` percent in [0.1, 0.8 a*] ('collapsed') or [1.2 a_e, 2.4 a_e] ('zero').
    """
    rng = np.random.default_rng(point["seed"] + 1)
    K, q = point["K"], point["depth"] + 1
    if point["sizes"] == "balanced":
        sizes = (int(rng.integers(1, 4)),) * K
    else:
        sizes = tuple(int(x) for x in rng.integers(1, _N_MAX + 1, K))
    _, sigma, _ = spectrum(sizes, point["bias"])
    a_star_lo, a_e_hi = _window(q)
    lo, hi = (0.1, a_star_lo) if point["regime"] == "collapsed" else (a_e_hi, 2 * a_e_hi)
    x = point["position"] / 100
    a1 = lo ** (1 - x) * hi**x
    return {
        "class_sizes": sizes,
        "d": K - (point["bias"] == "free") + point["extra_d"],
        "a1": a1,
        **decays({**point, "class_sizes": sizes}, a1, float(sigma[0])),
    }


#: Relative size of the Gaussian perturbation of :func:`large_start`'s frames: small enough that
#: every singular value of the start's logits stays well above the unstable stationary point
#: between 0 and the positive local minimizer (measured: 0.3 let one of 18 window runs fall to 0;
#: 0.1 none of 18), large enough that the start is not collapsed (within-class spread ~0.1).
START_NOISE = 0.1


def large_start(problem: Problem, seed: int) -> dict:
    r"""A seeded start above every mode: each factor :math:`c(E + 0.1G)`, E the identity-like
    frame (``numpy.eye`` of the factor's shape; for H the class-k columns at :math:`e_k`), G
    standard Gaussian (seeded), :math:`c^q = 2\sqrt{n_{\max}}`: twice the largest singular value
    :math:`\sqrt{n_{\max}}` of the target, so every mode of the logits starts above its positive
    local minimizer (where that exists) and descends into it rather than to 0 (a plain Gaussian
    start leaves some modes of the product small, and they fall to 0)."""
    from ...models import get_model

    q = problem.model_params["depth"] + 1
    c = (2 * math.sqrt(max(problem.class_sizes))) ** (1 / q)
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in get_model(problem.model).blocks(problem).items():
        if name == "b":
            out[name] = np.zeros(shape)
            continue
        frame = np.eye(problem.d, problem.K)[:, problem.labels] if name == "H" else np.eye(*shape)
        out[name] = c * (frame + START_NOISE * rng.standard_normal(shape))
    return out


def descend(point: dict):
    """(problem, chain descent from :func:`large_start` to a stationary point) of a point."""
    from ...dynamics import chain_descend_to_stationary

    p = deep_problem(point)
    return p, chain_descend_to_stationary(p, init=large_start(p, point["seed"]))


def a_values(point: dict) -> np.ndarray:
    r""":math:`a_i = qN\mu\sigma_i^{p-2}` per singular value (inf for :math:`\sigma_i = 0`)."""
    q = point["depth"] + 1
    _, sigma, _ = spectrum(point["class_sizes"], point["bias"])
    N = sum(point["class_sizes"])
    with np.errstate(divide="ignore"):
        return np.where(sigma > 0, q * N * point["mu"] * sigma ** (2 / q - 2), np.inf)


def outside_window(point: dict) -> bool:
    """Every nonzero singular value has a_i outside [0.8 a*, 1.2 a_e]."""
    lo, hi = _window(point["depth"] + 1)
    a = a_values(point)
    return bool(np.all((a < lo) | (a > hi)))


def predict(point: dict) -> dict:
    r"""The scalar law and the balanced factorization, literally.

    With :math:`\hat Y = U\operatorname{diag}(\sigma)V^\top`, :math:`s_i = \sigma_iz_i`,
    :math:`z_i` the global minimizer of :math:`\phi_{a_i}` (:func:`scalar_law`):

    * objective :math:`\sum_i\frac{\sigma_i^2}{2N}\phi_{a_i}(z_i)`; ``s`` the :math:`s_i`;
    * every factor is balanced (:math:`\lambda_{l+1}W_{l+1}^\top W_{l+1} = \lambda_lW_lW_l^\top` at
      any critical point), with singular values :math:`\sqrt{\mu/\lambda_x}\,s_i^{1/q}`:
      ``WWt`` :math:`= W_LW_L^\top = \frac{\mu}{\lambda_L}U\operatorname{diag}(s^{2/q})U^\top`;
    * ``feature_grams[j]`` = :math:`M_j^\top M_j` of the class means of the features after j
      weight layers (j = 0: H, ..., L - 1: the penultimate layer):
      :math:`c_jD^{-1/2}V\operatorname{diag}(s^{2(j+1)/q})V^\top D^{-1/2}`,
      :math:`c_j = \frac{\mu}{\lambda_H}\prod_{l=1}^{j}\frac{\mu}{\lambda_l}`;
    * ``within_class`` 0 at every layer (deep NC1), ``gradient_norm`` 0;
    * free bias: :math:`b = (n - \bar Zn)/N`, :math:`\bar Z = U\operatorname{diag}(s)V^\top
      D^{-1/2}`.
    """
    L, q = point["depth"], point["depth"] + 1
    sizes = point["class_sizes"]
    n = np.asarray(sizes, dtype=float)
    N = n.sum()
    U, sigma, Vt = spectrum(sizes, point["bias"])
    a = a_values(point)
    z = np.array([scalar_law(ai, q)[0] if np.isfinite(ai) else 0.0 for ai in a])
    s = sigma * z
    mu, lam = point["mu"], point["lambdas"]  # lam = (lambda_L, ..., lambda_1)
    Dmh = np.diag(1 / np.sqrt(n))
    grams, c = [], mu / point["lambda_H"]
    for j in range(L):
        if j:
            c *= mu / lam[L - j]
        grams.append(c * Dmh @ Vt.T @ np.diag(s ** (2 * (j + 1) / q)) @ Vt @ Dmh)
    out = {
        "objective": float(sum(sg**2 / (2 * N) * phi(zi, ai, q) if sg > 0 else 0.0
                               for sg, zi, ai in zip(sigma, z, a, strict=True))),
        "s": np.sort(s)[::-1],
        "WWt": mu / lam[0] * U @ np.diag(s ** (2 / q)) @ U.T,
        "feature_grams": np.array(grams),
        "within_class": 0.0,
        "gradient_norm": 0.0,
    }  # fmt: skip
    if point["bias"] == "free":
        Zbar = U @ np.diag(s) @ Vt @ Dmh
        out["b"] = (n - Zbar @ n) / N
    return out


def measure(problem: Problem, blocks: dict) -> dict:
    """The keys of :func:`predict` read off blocks through the model (``ufm.objective``), except
    ``gradient_norm`` (the caller's)."""
    from ...metrics import class_means
    from ...objectives import objective

    L, K, labels = problem.model_params["depth"], problem.K, problem.labels
    F, grams, within = blocks["H"], [], 0.0
    for layer in range(1, L + 1):
        M, _ = class_means(F, labels, K)
        grams.append(M.T @ M)
        within = max(within, float(np.linalg.norm(F - M[:, labels]) / (1 + np.linalg.norm(F))))
        F = blocks[f"W{layer}"] @ F
    out = {
        "objective": objective(problem, blocks),
        "s": end_to_end_s(problem, blocks),
        "WWt": blocks[f"W{L}"] @ blocks[f"W{L}"].T,
        "feature_grams": np.array(grams),
        "within_class": within,
    }
    if problem.has_bias:
        out["b"] = blocks["b"]
    return out


# --------------------------------------------------------------------------------------------------
# mse.deep-linear-jump: balanced classes, sigma = sqrt(n)

#: The three regimes of a = qN mu n^(p/2 - 1) and where ``position`` (0..100 %) places a in them:
#: below the jump, inside the metastable window (a*, a_e), above its end.
JUMP_REGIMES = ("window", "above", "below")


def jump_sample(point: dict) -> dict:
    r"""Balanced sizes (n per class), d and the decays placing the common
    :math:`a = qN\mu\sigma^{p-2}`, :math:`\sigma = \sqrt n`, linearly at ``position`` in
    [0.85, 0.97] a* ('below'), a* + [0.15, 0.85](a_e - a*) ('window'), [1.03, 1.2] a_e
    ('above')."""
    t = thresholds(point["depth"] + 1)
    x = point["position"] / 100
    lo, hi = {
        "below": (0.85 * t["a_star"], 0.97 * t["a_star"]),
        "window": (t["a_star"] + 0.15 * (t["a_e"] - t["a_star"]),
                   t["a_star"] + 0.85 * (t["a_e"] - t["a_star"])),
        "above": (1.03 * t["a_e"], 1.2 * t["a_e"]),
    }[point["regime"]]  # fmt: skip
    a = lo + x * (hi - lo)
    sizes = (point["n"],) * point["K"]
    return {
        "class_sizes": sizes,
        "d": point["K"] - (point["bias"] == "free") + point["extra_d"],
        "a": a,
        **decays({**point, "class_sizes": sizes}, a, math.sqrt(point["n"])),
    }


def jump_predict(point: dict) -> dict:
    r"""The thresholds (:func:`thresholds`) and the scalar law at the common a: ``s`` the global
    :math:`s_i = \sigma_iz`, ``s_local`` the positive local minimizer :math:`\sigma_iz_{loc}` where
    it exists (0 elsewhere, and for the zero singular value of a free bias), ``zero_global`` 1 iff
    the zero solution is the global minimizer (a >= a*)."""
    q = point["depth"] + 1
    _, sigma, _ = spectrum(point["class_sizes"], point["bias"])
    z_global, z_local = scalar_law(point["a"], q)
    return {
        **{k: v for k, v in thresholds(q).items() if k != "z_e"},
        "s": sigma * z_global,
        "s_local": sigma * z_local,
        "zero_global": float(z_global == 0.0),
    }


def origin_value(problem: Problem) -> float:
    """f at :func:`origin_blocks`."""
    from ...objectives import objective

    return objective(problem, origin_blocks(problem))
