r"""Links: the two shapes of data term that every registered loss takes.

A loss of ufm is a *link* and a *target* per class (:mod:`ufm.losses._base`). With logits
:math:`z \in \mathbb R^K` of one sample of class y and its target :math:`t = T_{:,y}`:

* ``softmax`` link (targets are probability vectors, :math:`\mathbf 1^\top t = 1`):

  .. math:: \ell(z; t) = \log\sum_j e^{z_j} - t^\top z, \qquad
            \nabla_z\ell = \operatorname{softmax}(z) - t, \qquad
            \nabla_z^2\ell = \operatorname{diag}(p) - pp^\top \preceq \tfrac12 I,

  the cross-entropy :math:`-\sum_j t_j\log p_j` of the softmax probabilities p against t (for a
  one-hot t: the CE of Zhu et al. 2021). Invariant under :math:`z \to z + c\mathbf 1`.
* ``square`` link:

  .. math:: \ell(z; t) = \tfrac12\|z - t\|^2, \qquad \nabla_z\ell = z - t, \qquad
            \nabla_z^2\ell = I.

The data term of the UFM is the sample average :math:`\frac1N\sum_i \ell(z_i; t_{y_i})`.

Each link supplies every form the layers of ufm need: numpy value and gradient, the Hessian
applied to a direction (:mod:`ufm.landscape`), the integer code the numba kernels branch on
(:mod:`ufm.dynamics._kernels`), cvxpy expressions over logits (:mod:`ufm.relaxations`), and a sympy
expression for one sample (:mod:`ufm.minimizers`). Numba cannot cache a kernel that receives a
function object (every process compiles it again, measured), so the kernels branch on the link's
integer code and take the targets as an array: a new loss with an existing link needs no kernel
change; a new link adds one branch there.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NotConverged
from ..tolerances import STATIONARY

#: Gradient norm at which Newton's method for the stationary bias stops: well below the
#: stationarity test of the critical points it serves.
BIAS_NEWTON_TOL = 1e-3 * STATIONARY

__all__ = ["LINKS", "SoftmaxLink", "SquareLink", "weighted_sq_norm"]


def weighted_sq_norm(A: np.ndarray, weight: float) -> float:
    """weight * ||A||_F^2 without overflow in the squares: the largest entry is taken out first, so
    the result is inf only when the value itself exceeds the float64 range."""
    top = float(np.max(np.abs(A), initial=0.0))
    if top == 0.0 or weight == 0.0:
        return 0.0
    root = top * math.sqrt(weight)
    # Python floats: an overflow gives inf without a warning; the caller decides what it means.
    return root * (root * float(np.sum(np.square(A / top))))


class SoftmaxLink:
    """Log-sum-exp minus the target-weighted logit (module docstring)."""

    name = "softmax"
    code = 0
    #: Spectral bound of the per-sample Hessian diag(p) - p p^T (Gershgorin: row j has absolute
    #: sum 2 p_j (1 - p_j) <= 1/2).
    curvature = 0.5
    shift_invariant = True

    @staticmethod
    def value_and_grad(Z: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """(1/N) sum_i l(z_i; t_i) and its gradient (softmax(Z) - T)/N for K x N logits Z and
        per-sample targets (K x N), by max-shifted log-sum-exp (any finite logits)."""
        N = Z.shape[1]
        top = Z.max(axis=0, keepdims=True)
        # Half differences: z - top itself overflows for logits beyond 1e308 apart (and 0 * inf
        # would then be NaN); t^T (z - top) / 2 is a convex combination of finite numbers.
        half = 0.5 * Z - 0.5 * top
        with np.errstate(over="ignore", under="ignore"):
            expz = np.exp(2.0 * half)
        sums = expz.sum(axis=0)
        # lse - t^T z with the column maximum taken out of both terms (1^T t = 1), so that logits
        # of any finite size give a finite value; inf only when the value exceeds float64.
        with np.errstate(over="ignore"):
            value = float(np.sum(np.log(sums) / N - (2.0 / N) * np.sum(targets * half, axis=0)))
        return value, (expz / sums - targets) / N

    @staticmethod
    def hessian_apply(Z: np.ndarray, dZ: np.ndarray) -> np.ndarray:
        """(diag(p) - p p^T) dz_i column by column, divided by N."""
        p = np.exp(Z - Z.max(axis=0, keepdims=True))
        p /= p.sum(axis=0)
        return (p * dZ - p * np.sum(p * dZ, axis=0)) / Z.shape[1]

    @staticmethod
    def hessian_blocks(Z: np.ndarray) -> np.ndarray:
        """Per-sample Hessians diag(p_i) - p_i p_i^T, shape (N, K, K)."""
        p = np.exp(Z - Z.max(axis=0, keepdims=True))
        p /= p.sum(axis=0)
        return np.einsum("ki,kl->ikl", p, np.eye(p.shape[0])) - np.einsum("ki,li->ikl", p, p)

    @staticmethod
    def cvx_columns(cp, logits, targets: np.ndarray, weights: np.ndarray, N: int):
        """(1/N) sum_j w_j l(z_j; t_j) over the columns of a cvxpy K x m expression."""
        lse = cp.log_sum_exp(logits, axis=0)
        return (weights @ lse - cp.sum(cp.multiply(targets * weights, logits))) / N

    @staticmethod
    def cvx_exchange(cp, own, L, stacked, m, weights, t_own: float, t_other: float):
        r"""Exchange-symmetric class term :math:`\sum_j w_j[\mathrm{LSE}_j - t_o o_j -
        t_x\sum_i m_{ij}L_{ij}]`; ``stacked`` holds every logit of a class once with its
        multiplicity as an additive log (:func:`ufm.relaxations._symmetry.exchange_data`)."""
        lse = cp.log_sum_exp(stacked, axis=0)
        linear = t_own * own + t_other * cp.sum(cp.multiply(m, L), axis=0)
        return weights @ (lse - linear)

    @staticmethod
    def sympy_sample(own, other, K, t_own, t_other):
        """l of one sample whose own logit is ``own`` and K - 1 other logits are ``other``."""
        import sympy as sp

        lse = sp.log(sp.exp(own) + (K - 1) * sp.exp(other))
        return lse - t_own * own - (K - 1) * t_other * other

    @staticmethod
    def stationary_bias(Zbar, T, pi, lambda_b):
        """Damped Newton on the convex phi(b) = sum_k pi_k l(zbar_k + b; t_k) + lambda_b |b|^2/2."""
        K = Zbar.shape[0]

        def phi(b):
            Z = Zbar + b[:, None]
            shift = Z.max(axis=0)
            lse = shift + np.log(np.exp(Z - shift).sum(axis=0))
            return float(pi @ (lse - np.sum(T * Z, axis=0))) + 0.5 * lambda_b * float(b @ b)

        def grad_hess(b):
            Z = Zbar + b[:, None]
            p = np.exp(Z - Z.max(axis=0))
            p /= p.sum(axis=0)
            grad = (p - T) @ pi + lambda_b * b
            return grad, np.diag(p @ pi) - (p * pi) @ p.T + lambda_b * np.eye(K)

        b = np.zeros(K)
        for _ in range(100):
            grad, hess = grad_hess(b)
            if np.linalg.norm(grad) <= BIAS_NEWTON_TOL:
                break
            step = np.linalg.lstsq(hess, -grad, rcond=None)[0]
            t, f0 = 1.0, phi(b)
            # Armijo on phi, or a smaller gradient: near the root phi's decrease is below rounding
            while t > 1e-12:
                trial = b + t * step
                if phi(trial) <= f0 + 0.25 * t * float(grad @ step):
                    break
                if np.linalg.norm(grad_hess(trial)[0]) < np.linalg.norm(grad):
                    break
                t *= 0.5
            b = trial
        else:
            raise NotConverged(
                "Newton's method found no stationary bias (gradient norm "
                f"{np.linalg.norm(grad):.3g})"
            )
        return b - b.mean() if lambda_b == 0 else b


class SquareLink:
    """Half the squared error (module docstring)."""

    name = "square"
    code = 1
    curvature = 1.0
    shift_invariant = False

    @staticmethod
    def value_and_grad(Z: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """(1/(2N)) ||Z - T||_F^2 and its gradient (Z - T)/N."""
        N = Z.shape[1]
        R = Z - targets
        return weighted_sq_norm(R, 0.5 / N), R / N

    @staticmethod
    def hessian_apply(Z: np.ndarray, dZ: np.ndarray) -> np.ndarray:
        return dZ / Z.shape[1]

    @staticmethod
    def hessian_blocks(Z: np.ndarray) -> np.ndarray:
        K, N = Z.shape
        return np.broadcast_to(np.eye(K), (N, K, K)).copy()

    @staticmethod
    def cvx_columns(cp, logits, targets: np.ndarray, weights: np.ndarray, N: int):
        return cp.sum_squares(cp.multiply(logits - targets, np.sqrt(weights)[None, :])) / (2 * N)

    @staticmethod
    def cvx_exchange(cp, own, L, stacked, m, weights, t_own: float, t_other: float):
        r""":math:`\sum_j w_j\,\tfrac12[(o_j - t_o)^2 + \sum_i m_{ij}(L_{ij} - t_x)^2]`."""
        return 0.5 * (
            cp.sum_squares(cp.multiply(np.sqrt(weights), own - t_own))
            + cp.sum(cp.multiply(m * weights[None, :], cp.square(L - t_other)))
        )

    @staticmethod
    def sympy_sample(own, other, K, t_own, t_other):
        return ((own - t_own) ** 2 + (K - 1) * (other - t_other) ** 2) / 2

    @staticmethod
    def stationary_bias(Zbar, T, pi, lambda_b):
        """(T - Zbar) pi / (1 + lambda_b): the root of the linear stationarity equation."""
        return (T - Zbar) @ pi / (1.0 + lambda_b)


#: Links by name.
LINKS = {link.name: link for link in (SoftmaxLink, SquareLink)}
