r"""The layer-peeled model (Fang, He, Long & Su 2021): norm-constrained W and H, no bias.

.. math:: \min_{W,H}\ \frac1N\sum_{k=1}^K\sum_{i=1}^{n_k}\ell(Wh_{k,i}, k)
          \quad\text{s.t.}\quad \frac1K\|W\|_F^2\le E_W,\quad
          \frac1K\sum_{k=1}^K\frac1{n_k}\sum_{i=1}^{n_k}\|h_{k,i}\|^2\le E_H,

with W (K x d), H (d x N) and the data term of the problem's loss (cross-entropy in [1]_). The
feature budget is the per-class average used by :mod:`ufm.relaxations._layer_peeled` and
:func:`ufm.minimizers.layer_peeled_optimum`; for balanced classes it is
:math:`\frac1N\|H\|_F^2\le E_H`. Model parameters: ``E_W``, ``E_H`` (> 0); no weight decay
(``lambda_W = lambda_H = 0``) and ``bias='none'``.

:meth:`LayerPeeledModel.sdp` and :meth:`LayerPeeledModel.optimum` are the paths from a
``Problem(model='layer-peeled', ...)`` to the SDP and to the balanced closed form.

References
----------
.. [1] Fang, He, Long & Su (2021), "Exploring deep neural networks via layer-peeled model: Minority
   collapse in imbalanced training", PNAS 118(43), e2103091118.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameter
from ..tolerances import FEASIBILITY
from ._base import Model, register_model


@register_model
class LayerPeeledModel(Model):
    """The norm-constrained layer-peeled model (module docstring)."""

    name = "layer-peeled"
    citation = "Fang, He, Long & Su (2021), PNAS 118(43), e2103091118"
    lambdas = ()
    bias_modes = ("none",)

    def check_params(self, params, *, K, d):
        return self._positive_params(params, ("E_W", "E_H"))

    @staticmethod
    def energies(problem, W, H) -> tuple[float, float]:
        r""":math:`(\frac1K\|W\|_F^2,\ \frac1K\sum_k\frac1{n_k}\sum_i\|h_{k,i}\|^2)`."""
        sizes = np.asarray(problem.class_sizes, dtype=float)
        per_sample = np.sum(H * H, axis=0) / sizes[problem.labels]
        return float(np.sum(W * W)) / problem.K, float(np.sum(per_sample)) / problem.K

    def check(self, problem, blocks):
        """Shapes and the two energy budgets, each met up to the relative ``FEASIBILITY``."""
        blocks = super().check(problem, blocks)
        for name, used in zip(
            ("E_W", "E_H"), self.energies(problem, blocks["W"], blocks["H"]), strict=True
        ):
            budget = problem.model_params[name]
            if used > budget * (1 + FEASIBILITY):
                block = name[-1]
                raise InvalidParameter(
                    f"{block} violates the layer-peeled budget {name}={budget:g}: its energy is "
                    f"{used:.17g}"
                )
        return blocks

    def initialize(self, problem, seed=0, init_scale=1.0):
        """Gaussian blocks (:meth:`Model.initialize`), each scaled onto its budget if outside."""
        blocks = super().initialize(problem, seed, init_scale)
        for name, used in zip(
            ("E_W", "E_H"), self.energies(problem, blocks["W"], blocks["H"]), strict=True
        ):
            budget = problem.model_params[name]
            if used > budget:
                blocks[name[-1]] *= np.sqrt(budget / used)
        return blocks

    def objective(self, problem, blocks):
        blocks = self.check(problem, blocks)
        return problem.loss_fn.value_and_grad(blocks["W"] @ blocks["H"], problem.labels)[0]

    def gradient(self, problem, blocks):
        r""":math:`\nabla_W = GH^\top,\ \nabla_H = W^\top G` with G the data term's gradient in
        the logits (the constraints are the optimizer's business)."""
        blocks = self.check(problem, blocks)
        W, H = blocks["W"], blocks["H"]
        _, G = problem.loss_fn.value_and_grad(W @ H, problem.labels)
        return {"W": G @ H.T, "H": W.T @ G}

    # Paths to the positional solvers ------------------------------------------------------------

    def _checked(self, problem):
        from ..problem import Problem

        if not isinstance(problem, Problem) or problem.model != self.name:
            raise InvalidParameter(
                f"problem must be a ufm.Problem with model='layer-peeled', got {problem!r}"
            )
        if problem.loss != "ce":
            raise InvalidParameter(
                f"the layer-peeled SDP and closed form are for loss='ce', got {problem.loss!r}"
            )
        return problem

    def sdp(self, problem, **options):
        """:func:`ufm.relaxations.layer_peeled_sdp` for ``problem`` (``options``: solver, tol,
        symmetry); its ``configuration(problem)`` gives the optimum's blocks."""
        from ..relaxations import layer_peeled_sdp

        problem = self._checked(problem)
        p = problem.model_params
        return layer_peeled_sdp(problem.K, problem.class_sizes, p["E_W"], p["E_H"], **options)

    def optimum(self, problem):
        """:func:`ufm.minimizers.layer_peeled_optimum` for a balanced ``problem``."""
        from ..minimizers import layer_peeled_optimum

        problem = self._checked(problem)
        if not problem.balanced:
            raise InvalidParameter(
                "the layer-peeled closed form needs balanced classes, got class_sizes="
                f"{problem.class_sizes}; use the SDP (sdp(problem)) for imbalanced classes"
            )
        p = problem.model_params
        return layer_peeled_optimum(problem.K, p["E_W"], p["E_H"], d=problem.d, n=problem.n)
