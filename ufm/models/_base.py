r"""The :class:`Model` record and the registry of model families.

A model family owns its parameter *blocks* (named arrays, e.g. W, H, b for the UFM) and its
objective over them. The :class:`ufm.Problem` names the model (``model='ufm'`` by default) and
carries its parameters (``model_params``); everything else (loss, K, d, class sizes, the lambdas
that apply, the bias mode) is shared. Every record answers the same questions:

* :meth:`Model.blocks` - ``{name: shape}`` in a fixed order (the order of the file's entries);
* :meth:`Model.check` - validated float64 blocks (shapes, finiteness, the model's constraints);
* :meth:`Model.objective`, :meth:`Model.gradient` - the value and its exact gradient (numpy);
* :meth:`Model.initialize` - a random start;
* :meth:`Model.classifier_and_features` - the last-layer classifier (W, b) and the features H it
  reads, as K x d', d' x N, (K,) arrays for the NC metrics.

To add a model: write ``ufm/models/<name>.py`` with a :class:`Model` subclass decorated by
:func:`register_model`, import it in ``ufm/models/__init__.py`` (one line);
``tests/test_models.py`` then runs its battery (gradient against finite differences, shapes,
round trips through files) on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .._validation import check_int, check_matrix, check_nonneg, check_positive
from ..errors import InvalidParameter

__all__ = ["Model", "register_model", "get_model", "model_names", "LAMBDA_FIELDS"]

#: The Problem fields holding weight decay; a model lists in ``Model.lambdas`` those that apply.
LAMBDA_FIELDS = ("lambda_W", "lambda_H", "lambda_b")


class Model:
    """A model family: its parameters, blocks and objective (module docstring).

    Attributes
    ----------
    name : str
        Registry name (``Problem(model=...)``).
    citation : str
    lambdas : tuple of str
        The Problem's weight-decay fields that apply (the others must be left at 0).
    bias_modes : tuple of str
        The Problem's bias modes the model allows; the first is its default.
    """

    name: ClassVar[str]
    citation: ClassVar[str]
    lambdas: ClassVar[tuple[str, ...]] = LAMBDA_FIELDS
    bias_modes: ClassVar[tuple[str, ...]] = ("regularized", "free", "none")

    def __repr__(self) -> str:
        return f"<model {self.name!r}>"

    # Parameters ---------------------------------------------------------------------------------

    def check_params(self, params: dict, *, K: int, d: int) -> dict:
        """The model's parameters, validated and normalized (JSON-ready); default: none."""
        self._refuse_unknown(params, ())
        return {}

    def _refuse_unknown(self, params: dict, allowed) -> None:
        unknown = set(params) - set(allowed)
        if unknown:
            names = ", ".join(allowed) or "none"
            raise InvalidParameter(
                f"model_params of model {self.name!r} are: {names}; got unknown {sorted(unknown)}"
            )

    def _require(self, params: dict, key: str):
        if key not in params:
            raise InvalidParameter(f"model {self.name!r} requires model_params[{key!r}]")
        return params[key]

    def _positive_params(self, params: dict, names: tuple[str, ...]) -> dict:
        """Exactly the parameters ``names``, each a finite real > 0."""
        self._refuse_unknown(params, names)
        return {
            key: check_positive(f"model_params[{key!r}]", self._require(params, key))
            for key in names
        }

    # Blocks -------------------------------------------------------------------------------------

    def blocks(self, problem) -> dict[str, tuple[int, ...]]:
        """``{name: shape}`` of the model's parameter blocks, in their canonical order; default
        W (K x d) and H (d x N)."""
        return {"W": (problem.K, problem.d), "H": (problem.d, problem.N)}

    def check(self, problem, blocks) -> dict[str, np.ndarray]:
        """Validated float64 copies of ``blocks`` (a mapping with exactly the model's names).

        Raises
        ------
        InvalidParameter
            A missing or unknown block, a wrong shape, a non-finite entry, or (subclasses) a
            violated constraint of the model.
        """
        if not isinstance(blocks, Mapping):
            raise InvalidParameter(
                f"blocks of model {self.name!r} must be a mapping name -> array, "
                f"got {type(blocks).__name__}"
            )
        shapes = self.blocks(problem)
        if set(blocks) != set(shapes):
            raise InvalidParameter(
                f"model {self.name!r} has the blocks {list(shapes)}, got {list(blocks)}"
            )
        return {name: check_matrix(name, blocks[name], shape) for name, shape in shapes.items()}

    def initialize(self, problem, seed: int = 0, init_scale: float = 1.0) -> dict:
        r"""Random start: every block i.i.d. :math:`\mathcal N(0, s^2)`, drawn in block order from
        ``numpy.random.default_rng(seed)`` (subclasses then project onto their constraints)."""
        seed = check_int("seed", seed, 0)
        init_scale = check_positive("init_scale", init_scale)
        rng = np.random.default_rng(seed)
        # an overflowing scale is refused, naming it, by the caller
        with np.errstate(over="ignore"):
            return {
                name: init_scale * rng.standard_normal(shape)
                for name, shape in self.blocks(problem).items()
            }

    # Objective ----------------------------------------------------------------------------------

    def objective(self, problem, blocks) -> float:
        """Value of the model's objective at ``blocks``."""
        raise NotImplementedError

    def gradient(self, problem, blocks) -> dict[str, np.ndarray]:
        """Exact gradient of :meth:`objective`, one array per block."""
        raise NotImplementedError

    def classifier_and_features(self, problem, blocks):
        """(W, H, b): the last-layer classifier (K x d'), the features it reads (d' x N), the bias
        (zeros without one); the NC metrics are measured on them."""
        blocks = self.check(problem, blocks)
        return blocks["W"], blocks["H"], blocks.get("b", np.zeros(problem.K))


def lambda_list(model: str, value, L: int) -> list[float]:
    """Per-layer weight decay: one number for every layer, or a sequence of L numbers >= 0."""
    if isinstance(value, list | tuple):
        if len(value) != L:
            raise InvalidParameter(
                f"model_params['lambdas'] of model {model!r} must have depth L={L} entries "
                f"(lambda_L, ..., lambda_1), got {len(value)}: {list(value)!r}"
            )
        return [check_nonneg(f"model_params['lambdas'][{i}]", v) for i, v in enumerate(value)]
    return [check_nonneg("model_params['lambdas']", value)] * L


_REGISTRY: dict[str, Model] = {}


def register_model(cls: type[Model]) -> type[Model]:
    """Class decorator: register one instance of a :class:`Model` subclass under ``cls.name``."""
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]) is not cls:
        raise InvalidParameter(f"a model named {cls.name!r} is registered already")
    _REGISTRY[cls.name] = cls()
    return cls


def model_names() -> tuple[str, ...]:
    """Names of the registered models, in registration order."""
    return tuple(_REGISTRY)


def get_model(name) -> Model:
    """The registered model record ``name`` (a :class:`Model` is returned as is)."""
    if isinstance(name, Model):
        return name
    if name not in _REGISTRY:
        raise InvalidParameter(
            f"model must be one of {', '.join(map(repr, _REGISTRY))}, got {name!r}"
        )
    return _REGISTRY[name]
