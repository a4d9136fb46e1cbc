r"""The deep linear UFM: L weight layers on top of free features.

.. math:: f(W_L,\dots,W_1,H,b) = \frac1N\sum_{i=1}^N\ell(W_L\cdots W_1h_i + b, y_i)
          + \sum_{l=1}^L\frac{\lambda_l}{2}\|W_l\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2
          + \frac{\lambda_b}{2}\|b\|^2,

for MSE :math:`\frac1{2N}\|W_L\cdots W_1H + b\mathbf 1^\top - Y\|_F^2` plus the same penalties
(Tirer & Bruna 2022 [1]_; Súkeník, Mondelli & Lampert 2023 [2]_), and for any registered loss its
data term (:mod:`ufm.losses`) at the logits :math:`Z = W_L\cdots W_1H + b\mathbf 1^\top`.

Shapes: :math:`W_l` is :math:`d_l\times d_{l-1}` with :math:`d_0 = d` (H is d x N) and
:math:`d_L = K`, so :math:`W_L` is the classifier. Blocks are named ``"W{L}", ..., "W1", "H"`` and
``"b"`` (with a bias). Model parameters:

* ``depth`` - L >= 2 (L = 1 is ``model='ufm'``);
* ``widths`` - the hidden widths :math:`[d_{L-1}, \dots, d_1]` in block order (default all d);
* ``lambdas`` - :math:`[\lambda_L, \dots, \lambda_1]` in block order, or one number for every layer.

The Problem's ``lambda_W`` does not apply (per-layer decay is ``lambdas``); ``lambda_H`` and
``lambda_b`` do. The NC metrics read the classifier :math:`W_L` and the penultimate features
:math:`W_{L-1}\cdots W_1H`.

References
----------
.. [1] Tirer & Bruna (2022), "Extended unconstrained features model for exploring deep neural
   collapse", ICML.
.. [2] Súkeník, Mondelli & Lampert (2023), "Deep neural collapse is provably optimal for the deep
   unconstrained features model", NeurIPS.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..errors import InvalidParameter
from ._base import Model, lambda_list, register_model


@register_model
class DeepLinear(Model):
    """The deep linear UFM (module docstring)."""

    name = "deep-linear"
    citation = "Tirer & Bruna (2022), ICML; Sukenik, Mondelli & Lampert (2023), NeurIPS"
    lambdas = ("lambda_H", "lambda_b")

    def check_params(self, params, *, K, d):
        self._refuse_unknown(params, ("depth", "widths", "lambdas"))
        L = check_int("model_params['depth']", self._require(params, "depth"), 2)
        widths = params.get("widths", [d] * (L - 1))
        if not isinstance(widths, list | tuple) or len(widths) != L - 1:
            raise InvalidParameter(
                f"model_params['widths'] of model 'deep-linear' must list the L-1={L - 1} hidden "
                f"widths [d_{L - 1}, ..., d_1], got {widths!r}"
            )
        widths = [check_int(f"model_params['widths'][{i}]", w, 1) for i, w in enumerate(widths)]
        lambdas = lambda_list(self.name, self._require(params, "lambdas"), L)
        return {"depth": L, "widths": widths, "lambdas": lambdas}

    @staticmethod
    def layer_names(problem) -> list[str]:
        """``["W{L}", ..., "W1"]``."""
        L = problem.model_params["depth"]
        return [f"W{layer}" for layer in range(L, 0, -1)]

    def blocks(self, problem):
        dims = [problem.K, *problem.model_params["widths"], problem.d]  # d_L, ..., d_0
        shapes = {name: (dims[i], dims[i + 1]) for i, name in enumerate(self.layer_names(problem))}
        shapes["H"] = (problem.d, problem.N)
        if problem.has_bias:
            shapes["b"] = (problem.K,)
        return shapes

    def _forward(self, problem, blocks):
        """Validated blocks and the partial products [H, W_1 H, ..., W_L...W_1 H]."""
        blocks = self.check(problem, blocks)
        partial = [blocks["H"]]
        for name in reversed(self.layer_names(problem)):
            partial.append(blocks[name] @ partial[-1])
        return blocks, partial

    def _penalty(self, problem, blocks) -> float:
        lambdas = problem.model_params["lambdas"]
        value = sum(
            0.5 * lam * float(np.sum(blocks[name] ** 2))
            for lam, name in zip(lambdas, self.layer_names(problem), strict=True)
        )
        value += 0.5 * problem.lambda_H * float(np.sum(blocks["H"] ** 2))
        if problem.bias == "regularized":
            value += 0.5 * problem.lambda_b * float(blocks["b"] @ blocks["b"])
        return value

    def _logits(self, problem, blocks, partial):
        return partial[-1] + blocks["b"][:, None] if problem.has_bias else partial[-1]

    def objective(self, problem, blocks):
        blocks, partial = self._forward(problem, blocks)
        value, _ = problem.loss_fn.value_and_grad(
            self._logits(problem, blocks, partial), problem.labels
        )
        return value + self._penalty(problem, blocks)

    def gradient(self, problem, blocks):
        r"""With G the data term's gradient in the logits,
        :math:`\nabla_{W_l} = (W_L\cdots W_{l+1})^\top G\,(W_{l-1}\cdots W_1H)^\top + \lambda_lW_l`,
        :math:`\nabla_H = (W_L\cdots W_1)^\top G + \lambda_HH`,
        :math:`\nabla_b = G\mathbf 1 + \lambda_bb` (no :math:`\lambda_b` term for a free bias)."""
        blocks, partial = self._forward(problem, blocks)
        _, G = problem.loss_fn.value_and_grad(
            self._logits(problem, blocks, partial), problem.labels
        )
        grads = {}
        back = G
        names = self.layer_names(problem)
        for lam, name, below in zip(
            problem.model_params["lambdas"], names, reversed(partial[:-1]), strict=True
        ):
            grads[name] = back @ below.T + lam * blocks[name]
            back = blocks[name].T @ back
        grads["H"] = back + problem.lambda_H * blocks["H"]
        if problem.has_bias:
            lambda_b = problem.lambda_b if problem.bias == "regularized" else 0.0
            grads["b"] = G.sum(axis=1) + lambda_b * blocks["b"]
        return grads

    def classifier_and_features(self, problem, blocks):
        """(W_L, W_{L-1}...W_1 H, b)."""
        blocks, partial = self._forward(problem, blocks)
        W = blocks[self.layer_names(problem)[0]]
        return W, partial[-2], blocks.get("b", np.zeros(problem.K))
