r"""Exact Gaussian law of the linear LE-SDE (derived here; ``proofs/lesde_moments.py``).

The model of :mod:`ufm.dynamics._lesde_model` is a linear SDE with additive noise, so from a
Gaussian (or fixed) start the features are Gaussian at every t. Each block of class-mean modes
(:func:`~ufm.dynamics._lesde_model.mode_blocks`) with generator :math:`G(t) = \alpha(t)G_\alpha +
\beta(t)G_\beta` and noise :math:`q(t) = \eta\sigma(t)^2/n` has

.. math::
   \mu(t) = \Phi(t)\,y_0,\qquad \Sigma(t) = \Phi(t)\Sigma_0\Phi(t)^\top
   + \int_0^t \Phi(t,\tau)\,q(\tau)\,\Phi(t,\tau)^\top d\tau,\qquad \dot\Phi = G\Phi,

and the within-class deviation modes have mean :math:`Z_0` and variance :math:`\Sigma_{Z,0} +
\eta\int_0^t\sigma^2`. Three evaluations, which the tests compare with each other:

* I model, constant coefficients: the closed form of the scalar Ornstein-Uhlenbeck mode with
  rate :math:`\lambda`: :math:`\Phi = e^{\lambda t}`, :math:`\Sigma = e^{2\lambda t}\Sigma_0 +
  q(e^{2\lambda t} - 1)/(2\lambda)` (:math:`qt` at :math:`\lambda = 0`);
* constant coefficients, any block: Van Loan's block exponential [1]_
  :math:`\exp\big(h[\begin{smallmatrix}-G & qI\\ 0 & G^\top\end{smallmatrix}]\big) =
  [\begin{smallmatrix}\cdot & F_{12}\\ 0 & F_{22}\end{smallmatrix}]`, :math:`\Phi(h) =
  F_{22}^\top`, :math:`\Gamma(h) = F_{22}^\top F_{12}`, on a step h with :math:`\|G\|h \le 1/2`,
  doubled k times (:math:`\Phi(2h) = \Phi(h)^2`, :math:`\Gamma(2h) = \Phi\Gamma\Phi^\top +
  \Gamma`) to :math:`t = 2^kh`;
* time-varying coefficients: the moment ODEs :math:`\dot\Phi = G\Phi`, :math:`\dot\Sigma =
  G\Sigma + \Sigma G^\top + qI` by DOP853 at ``MOMENT_RTOL``.

Scale: every block is carried as :math:`(\ell, \hat\Phi, \hat\Sigma)` with :math:`\Phi =
e^{\ell}\hat\Phi`, :math:`\Sigma = e^{2\ell}\hat\Sigma`, so that modes growing like
:math:`e^{800}` (the I model's common mode at t = 600) stay representable.

References
----------
.. [1] Van Loan (1978), "Computing integrals involving the matrix exponential", IEEE Trans.
   Automatic Control 23(3), Thm 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_positive
from ..errors import InvalidParameter
from . import _lesde_model as mdl

__all__ = ["lesde_moments", "LESDEMoments", "BlockLaw"]

#: Relative tolerance of the moment ODEs (time-varying coefficients): DOP853 at rtol 1e-10 keeps
#: the global error of O(1) normalized moments near 1e-9 over the horizons used (t <= 600).
MOMENT_RTOL = 1e-10

#: Absolute tolerance of the moment ODEs: the normalized moments are O(1) or (decaying modes, whose
#: fixed-start mean matters only next to the O(q) noise) negligible below 1e-15.
MOMENT_ATOL = 1e-15


@dataclass(frozen=True)
class BlockLaw:
    r"""Law of one block's replicas: :math:`y = e^{\ell}(\hat\mu + \hat\Sigma^{1/2}\xi)`.

    Attributes
    ----------
    block : ModeBlock
    log_scale : float
        :math:`\ell` (natural log).
    mean : ndarray, shape (R, m)
        :math:`\hat\mu` of every replica.
    cov : ndarray, shape (m, m)
        :math:`\hat\Sigma`, shared by the replicas (independent of each other).
    """

    block: mdl.ModeBlock
    log_scale: float
    mean: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)


@dataclass(frozen=True, eq=False)
class LESDEMoments:
    """The exact Gaussian law of the modes at time ``t`` (module docstring).

    Attributes
    ----------
    blocks : list of BlockLaw
        Class-mean modes.
    dev_mean : ndarray, shape (K d (n-1),)
        Mean of the deviation modes.
    dev_var : float
        Their variance (each independent).
    K, n, d : int
    t : float
    """

    blocks: list
    dev_mean: np.ndarray = field(repr=False)
    dev_var: float
    K: int
    n: int
    d: int
    t: float

    def log_separation_sq(self) -> float:
        r"""Natural log of :math:`\mathbb E\|\tilde M\|_F^2`, the centred class means' squared
        Frobenius norm (the contrast modes), computed scale-safely."""
        logs = []
        for law in self.blocks:
            contrast = (law.block.indices % self.K) != 0
            if not contrast.any():
                continue
            total = sum(
                float(law.cov[j, j] + law.mean[r, j] ** 2)
                for r, j in zip(*np.nonzero(contrast), strict=True)
            )
            if total > 0:
                logs.append(2 * law.log_scale + math.log(total))
        if not logs:
            return -math.inf
        top = max(logs)
        return top + math.log(sum(math.exp(v - top) for v in logs))

    def sample_modes(self, paths: int, seed: int):
        """Draws of (Y, log_scale, Z) from the exact law (shapes as the simulation's)."""
        rng = np.random.default_rng(seed)
        q = self.d * self.K
        Y = np.zeros((paths, q))
        logs = np.zeros((paths, q))
        for law in self.blocks:
            w, V = np.linalg.eigh(law.cov)
            root = V * np.sqrt(np.clip(w, 0.0, None))
            R, m = law.mean.shape
            draw = law.mean + rng.standard_normal((paths, R, m)) @ root.T
            Y[:, law.block.indices] = draw
            logs[:, law.block.indices] = law.log_scale
        Z = self.dev_mean + math.sqrt(self.dev_var) * rng.standard_normal(
            (paths, self.dev_mean.size)
        )
        return Y, logs, Z


def _ou_closed_form(rate: float, q: float, var0: float, t: float) -> tuple[float, float, float]:
    """Scalar OU mode dy = rate y dt + sqrt(q) dW: (log scale, Phi-hat, Sigma-hat)."""
    ell = max(rate * t, 0.0)
    phi = math.exp(rate * t - ell)
    if rate == 0.0:
        return ell, phi, var0 + q * t
    # q (e^{2 rate t} - 1)/(2 rate) divided by e^{2 ell}, without overflow (expm1 keeps accuracy)
    if rate > 0:
        noise = q * -math.expm1(-2 * rate * t) / (2 * rate)
    else:
        noise = q * math.expm1(2 * rate * t) / (2 * rate)
    return ell, phi, phi * phi * var0 + noise


def van_loan(G: np.ndarray, q: float, t: float) -> tuple[float, np.ndarray, np.ndarray]:
    r"""(:math:`\ell`, :math:`\hat\Phi`, :math:`\hat\Gamma`) of :math:`\dot y = Gy + \sqrt q\,\xi`
    over [0, t] for constant G: Van Loan on a short step, then doubling with renormalization."""
    from scipy.linalg import expm

    m = G.shape[0]
    norm = float(np.abs(G).sum(axis=1).max()) if m else 0.0
    k = max(0, math.ceil(math.log2(max(norm * t, 1e-300) / 0.5))) if norm * t > 0.5 else 0
    h = t / 2**k
    C = np.zeros((2 * m, 2 * m))
    C[:m, :m] = -G
    C[:m, m:] = q * np.eye(m)
    C[m:, m:] = G.T
    F = expm(h * C)
    Phi = F[m:, m:].T.copy()
    Gam = Phi @ F[:m, m:]
    ell = 0.0
    for _ in range(k):
        Gam = Phi @ Gam @ Phi.T + math.exp(-2 * ell) * Gam
        Phi = Phi @ Phi
        ell *= 2
        c = max(float(np.abs(Phi).max()), math.sqrt(float(np.abs(Gam).max())), 1.0)
        Phi /= c
        Gam /= c * c
        ell += math.log(c)
    return ell, Phi, Gam


def _moment_ode(blk, alpha, beta, qfun, t, cov0):
    from scipy.integrate import solve_ivp

    m = blk.G_alpha.shape[0]

    def generator(s):
        return alpha(s) * blk.G_alpha + beta(s) * blk.G_beta

    def rhs(s, state):
        ell = state[0]
        G = generator(s)
        mu = max(0.0, float(np.linalg.eigvalsh((G + G.T) / 2).max()))
        Gt = G - mu * np.eye(m)
        Phi = state[1 : 1 + m * m].reshape(m, m)
        S = state[1 + m * m :].reshape(m, m)
        dS = Gt @ S + S @ Gt.T + math.exp(-2 * ell) * qfun(s) * np.eye(m)
        return np.concatenate(([mu], (Gt @ Phi).ravel(), dS.ravel()))

    y0 = np.concatenate(([0.0], np.eye(m).ravel(), cov0 * np.eye(m).ravel()))
    sol = solve_ivp(rhs, (0.0, t), y0, method="DOP853", rtol=MOMENT_RTOL, atol=MOMENT_ATOL)
    if not sol.success:
        raise InvalidParameter(f"the moment ODE failed: {sol.message}")
    end = sol.y[:, -1]
    return float(end[0]), end[1 : 1 + m * m].reshape(m, m), end[1 + m * m :].reshape(m, m)


def lesde_moments(
    K: int,
    n: int,
    d: int,
    alpha,
    beta,
    noise,
    t: float,
    *,
    model: str = "I",
    lr: float = 1.0,
    init_scale: float = 0.1,
    init: np.ndarray | None = None,
    method: str = "auto",
) -> LESDEMoments:
    r"""Exact mean and covariance of the modes of the linear LE-SDE at time t.

    Parameters
    ----------
    K, n, d : int
        Classes (>= 2), samples per class (>= 1), feature dimension (>= 1; >= K for ``L``).
    alpha, beta, noise : float or callable t -> float
        Impacts and SGD noise :math:`\sigma` (>= 0); callables use the moment ODEs.
    t : float
        Time > 0.
    model : {'I', 'L'}
    lr : float
        Learning rate :math:`\eta > 0`: diffusion :math:`\sqrt\eta\sigma`.
    init_scale : float
        Standard deviation s of i.i.d. Gaussian initial features (ignored with ``init``).
    init : ndarray, shape (d, N), optional
        A fixed start: the law is then conditional on it (covariance from the noise only).
    method : {'auto', 'closed', 'van_loan', 'ode'}
        'auto': closed form (I, constant), Van Loan (L, constant), ODE (callables).

    Returns
    -------
    LESDEMoments

    Raises
    ------
    InvalidParameter
        Out-of-domain arguments; 'closed' for the L model or with callables.
    """
    from .._validation import check_choice, check_matrix

    K = check_int("K", K, 2)
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    model = check_choice("model", model, mdl.MODELS)
    mdl.check_model(model, K, d)
    t = check_positive("t", t)
    lr = check_positive("lr", lr)
    method = check_choice("method", method, ("auto", "closed", "van_loan", "ode"))
    a = mdl.coefficient("alpha", alpha)
    b = mdl.coefficient("beta", beta)
    s = mdl.coefficient("noise", noise, nonneg=True)
    varying = any(callable(v) for v in (a, b, s))
    if method == "auto":
        method = "ode" if varying else ("closed" if model == "I" else "van_loan")
    if method in ("closed", "van_loan") and varying:
        raise InvalidParameter(f"method={method!r} needs constant alpha, beta, noise")
    if method == "closed" and model != "I":
        raise InvalidParameter("method='closed' is the I model's; use 'van_loan' or 'ode'")

    def fn(v):
        return v if callable(v) else (lambda _s, v=v: v)

    af, bf, sf = fn(a), fn(b), fn(s)
    for name, f in (("alpha", af), ("beta", bf), ("noise", sf)):
        grid = np.linspace(0.0, t, 9)
        mdl.sample(name, f, grid, nonneg=name == "noise")

    def qfun(u):
        return lr * sf(u) ** 2 / n

    if init is None:
        init_scale = check_positive("init_scale", init_scale)
        y0 = np.zeros(d * K)
        z0 = np.zeros(K * d * (n - 1))
        var_y0, var_z0 = init_scale**2 / n, init_scale**2
    else:
        X0 = check_matrix("init", init, (d, K * n))
        Y0, Z0 = mdl.to_modes(X0[None], K, n)
        y0, z0 = Y0[0], Z0[0]
        var_y0 = var_z0 = 0.0
    laws = []
    for blk in mdl.mode_blocks(model, K, d):
        m = blk.G_alpha.shape[0]
        if method == "closed":
            ell, phi, cov = _ou_closed_form(
                (a * blk.G_alpha + b * blk.G_beta)[0, 0], qfun(0.0), var_y0, t
            )
            Phi, S = np.array([[phi]]), np.array([[cov]])
        elif method == "van_loan":
            ell, Phi, S = van_loan(a * blk.G_alpha + b * blk.G_beta, qfun(0.0), t)
            S = S + var_y0 * Phi @ Phi.T
        else:
            ell, Phi, S = _moment_ode(blk, af, bf, qfun, t, var_y0)
        laws.append(BlockLaw(blk, ell, y0[blk.indices] @ Phi.T, S.reshape(m, m)))
    from scipy.integrate import quad

    if callable(s):
        integral = quad(lambda u: sf(u) ** 2, 0.0, t, epsabs=0.0, epsrel=MOMENT_RTOL, limit=200)[0]
    else:
        integral = s * s * t
    return LESDEMoments(laws, z0, var_z0 + lr * integral, K, n, d, t)
