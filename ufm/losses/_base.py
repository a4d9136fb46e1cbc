r"""The :class:`Loss` record and the registry of losses.

A loss is a link (:mod:`ufm.losses._links`) and a target vector per class. Targets of every
registered loss are *exchange-symmetric*: the target of class k is

.. math:: t_k = (t_\circ - t_\times)\,e_k + t_\times\mathbf 1,

one value :math:`t_\circ` on the own class and :math:`t_\times` on every other (one-hot:
:math:`t_\circ = 1, t_\times = 0`; label smoothing with :math:`\alpha`:
:math:`t_\circ = 1 - \alpha + \alpha/K, t_\times = \alpha/K`). That symmetry is what the exact
symmetry reductions of :mod:`ufm.relaxations` and the balanced closed forms of
:mod:`ufm.minimizers` rely on.

To add a loss: write ``ufm/losses/<name>.py`` with a :class:`Loss` subclass decorated by
:func:`register_loss` (name, link, citation, parameters and their domains, targets), and import it
in ``ufm/losses/__init__.py`` (one line). ``tests/test_losses.py`` then runs the whole battery on
it.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ..errors import InvalidParameter
from ._links import LINKS

__all__ = [
    "Loss",
    "OneHotTargets",
    "Parameter",
    "register_loss",
    "get_loss",
    "loss_class",
    "loss_names",
]


class Parameter:
    """A real loss parameter with its domain ``lo <= value < hi`` (or ``<= hi`` if ``closed``)."""

    def __init__(self, lo: float, hi: float, closed: bool, doc: str):
        self.lo, self.hi, self.closed, self.doc = lo, hi, closed, doc

    def rule(self) -> str:
        return f"in [{self.lo:g}, {self.hi:g}{']' if self.closed else ')'}"

    def check(self, loss: str, name: str, value) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise InvalidParameter(
                f"{name} of loss {loss!r} must be a real number {self.rule()}, got {value!r}"
            )
        value = float(value)
        inside = self.lo <= value and (value <= self.hi if self.closed else value < self.hi)
        if not (math.isfinite(value) and inside):
            raise InvalidParameter(f"{name} of loss {loss!r} must be {self.rule()}, got {value}")
        return value


class Loss:
    """A data term of the UFM: a link and exchange-symmetric class targets (module docstring).

    Subclasses set the class attributes and implement :meth:`target_pair` and
    :meth:`sympy_target_pair`; everything else follows from the link.

    Attributes
    ----------
    name : str
        Registry name (``--loss`` on the command line).
    link : str
        ``'softmax'`` or ``'square'``.
    citation : str
        Where the loss and its UFM analysis come from.
    parameters : dict of str -> Parameter
        The loss's own parameters (e.g. the smoothing of ``ce-ls``).
    """

    name: ClassVar[str]
    link: ClassVar[str]
    citation: ClassVar[str]
    parameters: ClassVar[dict[str, Parameter]] = {}

    def __init__(self, **params):
        unknown = set(params) - set(self.parameters)
        if unknown:
            allowed = ", ".join(sorted(self.parameters)) or "none"
            raise InvalidParameter(
                f"loss {self.name!r} takes the parameters: {allowed}; got {sorted(unknown)}"
            )
        missing = sorted(set(self.parameters) - set(params))
        if missing:
            rules = ", ".join(f"{key} {self.parameters[key].rule()}" for key in missing)
            raise InvalidParameter(f"loss {self.name!r} requires its parameter {rules}")
        self.params = {
            key: self.parameters[key].check(self.name, key, value) for key, value in params.items()
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.params == self.params

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    # Targets ---------------------------------------------------------------------------------

    def target_pair(self, K: int) -> tuple[float, float]:
        """(t_own, t_other): the target on the own class and on each other class."""
        raise NotImplementedError

    @classmethod
    def sympy_target_pair(cls, K, symbols: dict):
        """(t_own, t_other) as sympy expressions in K and ``symbols`` (parameter name -> Symbol)."""
        raise NotImplementedError

    def class_targets(self, K: int) -> np.ndarray:
        """T (K x K): column k is the target vector of class k."""
        own, other = self.target_pair(K)
        return (own - other) * np.eye(K) + other

    # Forms of the data term --------------------------------------------------------------------

    @property
    def link_impl(self):
        """The link's implementation (:mod:`ufm.losses._links`)."""
        return LINKS[self.link]

    @property
    def curvature(self) -> float:
        """Bound on the spectral norm of the per-sample Hessian in the logits (for step rules)."""
        return self.link_impl.curvature

    @property
    def shift_invariant(self) -> bool:
        """True when l(z + c 1) = l(z) for every c (then only K - 1 logit directions matter)."""
        return self.link_impl.shift_invariant

    def value_and_grad(self, Z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """(1/N) sum_i l(z_i; t_{y_i}) at logits Z (K x N) and its gradient in Z (K x N)."""
        return self.link_impl.value_and_grad(Z, self.class_targets(Z.shape[0])[:, labels])

    def per_sample(self, z: np.ndarray, y: int) -> float:
        """l(z; t_y) for one logit vector z (K,): the definition, written plainly (tests)."""
        t = self.class_targets(z.shape[0])[:, y]
        if self.link == "softmax":
            top = z.max()
            return float(top + np.log(np.sum(np.exp(z - top))) - t @ z)
        return float(0.5 * np.sum((z - t) ** 2))

    @classmethod
    def sympy_sample(cls, own, other, K, symbols: dict):
        """l of one sample with own logit ``own`` and K - 1 logits ``other`` (sympy)."""
        t_own, t_other = cls.sympy_target_pair(K, symbols)
        return LINKS[cls.link].sympy_sample(own, other, K, t_own, t_other)

    def stationary_bias(self, Zbar: np.ndarray, pi: np.ndarray, lambda_b: float) -> np.ndarray:
        r"""The b solving :math:`\sum_k\pi_k\nabla\ell(\bar z_k + b; t_k) + \lambda_b b = 0`.

        For collapsed logits Zbar (K x K, column k shared by class k) and class shares pi. Closed
        form for the square link; damped Newton for the softmax link (strictly convex for
        lambda_b > 0; for lambda_b = 0 the minimal-norm solution of the mean-zero gauge).
        """
        return self.link_impl.stationary_bias(Zbar, self.class_targets(len(pi)), pi, lambda_b)


class OneHotTargets:
    """Mixin for losses whose target is the one-hot label: t_own = 1, t_other = 0."""

    def target_pair(self, K):
        return 1.0, 0.0

    @classmethod
    def sympy_target_pair(cls, K, symbols):
        return 1, 0


_REGISTRY: dict[str, type[Loss]] = {}


def register_loss(cls: type[Loss]) -> type[Loss]:
    """Class decorator: add a :class:`Loss` subclass to the registry under ``cls.name``."""
    if cls.link not in LINKS:
        raise InvalidParameter(f"loss {cls.name!r}: link must be one of {sorted(LINKS)}")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise InvalidParameter(f"a loss named {cls.name!r} is registered already")
    _REGISTRY[cls.name] = cls
    return cls


def loss_names() -> tuple[str, ...]:
    """Names of the registered losses, in registration order."""
    return tuple(_REGISTRY)


def loss_class(name: str) -> type[Loss]:
    """The registered :class:`Loss` subclass ``name`` (for class-level forms such as sympy's)."""
    if name not in _REGISTRY:
        raise InvalidParameter(
            f"loss must be one of {', '.join(map(repr, _REGISTRY))}, got {name!r}"
        )
    return _REGISTRY[name]


def get_loss(name, **params) -> Loss:
    """The registered loss ``name`` with its parameters (a :class:`Loss` is returned as is)."""
    if isinstance(name, Loss):
        if params:
            raise InvalidParameter("pass loss parameters either in the Loss object or by name")
        return name
    return loss_class(name)(**params)
