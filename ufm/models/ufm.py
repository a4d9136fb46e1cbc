r"""The unconstrained features model (UFM): blocks W, H and (with a bias) b.

.. math:: f(W,H,b) = \frac1N\sum_{i=1}^N\ell(Wh_i + b, y_i) + \frac{\lambda_W}{2}\|W\|_F^2
          + \frac{\lambda_H}{2}\|H\|_F^2 + \frac{\lambda_b}{2}\|b\|^2

with W (K x d), H (d x N, columns grouped by class), b (K,) and the data term of the problem's loss
(:mod:`ufm.losses`); this record is :func:`ufm.objective` and :func:`ufm.gradient` under named
blocks (Mixon, Parshall & Pi 2020; Zhu et al. 2021, eq. (4); the normalizations are in
:mod:`ufm.objectives`).
"""

from __future__ import annotations

import numpy as np

from ._base import Model, register_model


@register_model
class UFM(Model):
    r"""The regularized UFM (module docstring); no model parameters."""

    name = "ufm"
    citation = "Mixon, Parshall & Pi (2020); Zhu et al. (2021), NeurIPS, eq. (4)"

    def blocks(self, problem):
        shapes = super().blocks(problem)
        if problem.has_bias:
            shapes["b"] = (problem.K,)
        return shapes

    def _point(self, problem, blocks):
        blocks = self.check(problem, blocks)
        return blocks["W"], blocks["H"], blocks.get("b")

    def objective(self, problem, blocks):
        from ..objectives import objective

        return objective(problem, *self._point(problem, blocks))

    def gradient(self, problem, blocks):
        from ..objectives import gradient

        g = gradient(problem, *self._point(problem, blocks))._asdict()
        return {name: g[name] for name in self.blocks(problem)}

    def classifier_and_features(self, problem, blocks):
        W, H, b = self._point(problem, blocks)
        return W, H, np.zeros(problem.K) if b is None else b
