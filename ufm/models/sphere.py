r"""Normalized features and classifiers: unit rows of W and unit columns of H, temperature tau.

.. math:: f(W,H) = \frac1N\sum_{i=1}^N\ell\Big(\frac{Wh_i}{\tau}, y_i\Big)\quad\text{on}\quad
          \|w_k\| = 1\ (k\le K),\ \|h_i\| = 1\ (i\le N),

with the data term of the problem's loss (cross-entropy in [1]_), W (K x d), H (d x N). Model
parameter ``tau`` > 0; no weight decay, ``bias='none'``. The feasible set is a product of spheres,
and :meth:`SphereModel.gradient` is the *Riemannian* gradient there: the Euclidean gradient with
each row of :math:`\nabla_W` (column of :math:`\nabla_H`) projected onto the tangent space
:math:`\{v : v^\top w_k = 0\}`. Its inner product with any tangent direction is the derivative of f
along a curve on the spheres, which is what the tests check by finite differences.

References
----------
.. [1] Yaras, Wang, Zhu, Balzano & Qu (2022), "Neural collapse with normalized features: a
   geometric analysis over the Riemannian manifold", NeurIPS.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameter
from ..tolerances import UNIT_NORM
from ._base import Model, register_model


@register_model
class SphereModel(Model):
    """The normalized (spherical) UFM (module docstring)."""

    name = "sphere"
    citation = "Yaras, Wang, Zhu, Balzano & Qu (2022), NeurIPS"
    lambdas = ()
    bias_modes = ("none",)

    def check_params(self, params, *, K, d):
        return self._positive_params(params, ("tau",))

    def check(self, problem, blocks):
        """Shapes, and unit norms of the rows of W and the columns of H up to ``UNIT_NORM``."""
        blocks = super().check(problem, blocks)
        for name, axis, what in (("W", 1, "rows"), ("H", 0, "columns")):
            dev = np.abs(np.linalg.norm(blocks[name], axis=axis) - 1.0)
            if dev.max() > UNIT_NORM:
                raise InvalidParameter(
                    f"the {what} of {name} must have unit norm on model 'sphere' (within "
                    f"{UNIT_NORM:g}); {what[:-1]} {int(dev.argmax())} is off by {dev.max():.3g}"
                )
        return blocks

    def initialize(self, problem, seed=0, init_scale=1.0):
        """Gaussian blocks normalized onto the spheres (so ``init_scale`` has no effect)."""
        blocks = super().initialize(problem, seed, init_scale)
        return {
            "W": blocks["W"] / np.linalg.norm(blocks["W"], axis=1, keepdims=True),
            "H": blocks["H"] / np.linalg.norm(blocks["H"], axis=0, keepdims=True),
        }

    def _data(self, problem, blocks):
        blocks = self.check(problem, blocks)
        tau = problem.model_params["tau"]
        value, G = problem.loss_fn.value_and_grad(blocks["W"] @ blocks["H"] / tau, problem.labels)
        return blocks, value, G / tau

    def objective(self, problem, blocks):
        return self._data(problem, blocks)[1]

    def gradient(self, problem, blocks):
        r"""Riemannian gradient: with :math:`E_W = GH^\top/\tau`, :math:`E_H = W^\top G/\tau` (G the
        data term's gradient in the logits), :math:`\nabla_W = E_W - \operatorname{diag}(
        \langle e_k, w_k\rangle)W` row by row and likewise for the columns of H."""
        blocks, _, G = self._data(problem, blocks)
        W, H = blocks["W"], blocks["H"]
        gW, gH = G @ H.T, W.T @ G
        gW -= np.sum(gW * W, axis=1, keepdims=True) * W
        gH -= np.sum(gH * H, axis=0, keepdims=True) * H
        return {"W": gW, "H": gH}
