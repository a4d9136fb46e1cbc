"""The problem specification: one immutable object that names an unconstrained features model.

Notation used throughout ufm
----------------------------
K classes, feature dimension d, class sizes n_1..n_K, N = n_1 + ... + n_K samples.
W is K x d (row k is the classifier w_k), H is d x N with its columns grouped by class (the first
n_1 columns belong to class 0, the next n_2 to class 1, ...), b has length K. Class labels are
0..K-1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from ._limits import check_memory
from ._validation import check_choice, check_int, check_nonneg
from .errors import InvalidParameter
from .losses import Loss, get_loss, loss_names
from .models import LAMBDA_FIELDS, get_model, model_names

__all__ = ["Problem", "LOSSES", "BIAS_MODES", "MODELS"]

#: Names of the registered losses (:mod:`ufm.losses`; each one's normalization is in its file).
LOSSES = loss_names()

#: ``regularized``: b present and penalized by lambda_b/2 ||b||^2; ``free``: present, not penalized;
#: ``none``: no bias (b = 0 throughout).
BIAS_MODES = ("regularized", "free", "none")

#: Names of the registered model families (:mod:`ufm.models`; each one's objective is in its file).
MODELS = model_names()


@dataclass(frozen=True, init=False)
class Problem:
    r"""An unconstrained features model: loss, sizes and regularization.

    The objective it names is, for ``loss='ce'`` (Zhu et al. 2021, eq. (4)),

    .. math:: f(W,H,b) = \frac1N\sum_{k=1}^K\sum_{i=1}^{n_k}\mathcal L_{CE}(W h_{k,i}+b, y_k)
              + \frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2
              + \frac{\lambda_b}{2}\|b\|^2,

    and for ``loss='mse'`` (Tirer & Bruna 2022; Zhou et al. 2022)

    .. math:: f(W,H,b) = \frac{1}{2N}\|WH + b\mathbf 1_N^\top - Y\|_F^2
              + \frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2
              + \frac{\lambda_b}{2}\|b\|^2,

    with Y the K x N one-hot label matrix; in general the data term is that of the registered loss
    :mod:`ufm.losses` names (e.g. ``loss='ce-ls'`` with ``loss_params={'smoothing': 0.1}``, the
    label-smoothed CE). The bias term is present only for ``bias='regularized'``;
    ``bias='free'`` keeps b unpenalized, ``bias='none'`` fixes b = 0.

    This is the objective of the default model, ``model='ufm'``. Other model families
    (:mod:`ufm.models`: ``'layer-peeled'``, ``'deep-linear'``, ``'sphere'``) own their blocks and
    objective, take their parameters in ``model_params``, and refuse the weight-decay fields and
    bias modes that do not apply to them.

    Parameters
    ----------
    loss : str or ufm.losses.Loss
        A registered loss name (:data:`LOSSES`: ``'ce'``, ``'mse'``, ``'ce-ls'``, ...) or a
        :class:`ufm.losses.Loss`.
    K : int
        Number of classes, K >= 2.
    d : int
        Feature dimension, d >= 1 (theorems add their own requirement, e.g. d >= K - 1).
    n : int, optional
        Balanced shortcut: every class has n >= 1 samples. Give exactly one of ``n`` and
        ``class_sizes``.
    class_sizes : sequence of int, optional
        n_1, ..., n_K, each >= 1.
    lambda_W, lambda_H : float
        Weight decay on W and H, finite and >= 0.
    lambda_b : float, optional
        Weight decay on b; required (finite, >= 0) when ``bias='regularized'``, refused otherwise.
    bias : {'regularized', 'free', 'none'}, optional
        Default: the model's first allowed mode (``'regularized'`` for ``'ufm'`` and
        ``'deep-linear'``, ``'none'`` for ``'layer-peeled'`` and ``'sphere'``).
    loss_params : dict, optional
        The loss's own parameters, e.g. ``{'smoothing': 0.1}`` for ``'ce-ls'``.
    model : str, optional
        A registered model family (:data:`MODELS`), default ``'ufm'``.
    model_params : dict, optional
        The model's own parameters: ``{'E_W': ..., 'E_H': ...}`` for ``'layer-peeled'``,
        ``{'depth': L, 'lambdas': [...], 'widths': [...]}`` for ``'deep-linear'``,
        ``{'tau': ...}`` for ``'sphere'``; none for ``'ufm'``.

    Raises
    ------
    InvalidParameter
        If any argument is outside its domain; the message names it.

    Examples
    --------
    >>> p = Problem(loss='ce', K=4, d=8, n=20, lambda_W=5e-3, lambda_H=5e-3, lambda_b=1e-2,
    ...             bias='regularized')
    >>> p.N, p.balanced, p.n
    (80, True, 20)
    """

    loss: str
    K: int
    d: int
    class_sizes: tuple[int, ...]
    lambda_W: float
    lambda_H: float
    lambda_b: float
    bias: str
    labels: np.ndarray = field(repr=False, compare=False)
    loss_params: dict = field(default_factory=dict, compare=False)
    loss_fn: Loss = field(default=None, repr=False)
    model: str = "ufm"
    model_params: dict = field(default_factory=dict, compare=False)
    # The model parameters as canonical JSON: compared and hashed in place of the dict.
    _model_key: str = field(default="", repr=False)

    def __init__(
        self,
        loss: str,
        K: int,
        d: int,
        n: int | None = None,
        class_sizes=None,
        lambda_W: float = 0.0,
        lambda_H: float = 0.0,
        lambda_b: float | None = None,
        bias: str | None = None,
        loss_params: dict | None = None,
        model: str = "ufm",
        model_params: dict | None = None,
    ):
        if loss_params is not None and not isinstance(loss_params, dict):
            raise InvalidParameter(
                f"loss_params must be a dict of the loss's parameters, got {loss_params!r}"
            )
        loss_fn = get_loss(loss, **(loss_params or {}))
        loss = loss_fn.name
        K = check_int("K", K, 2)
        d = check_int("d", d, 1)
        record = get_model(model)
        bias = record.bias_modes[0] if bias is None else check_choice("bias", bias, BIAS_MODES)
        if bias not in record.bias_modes:
            raise InvalidParameter(
                f"bias must be {' or '.join(map(repr, record.bias_modes))} for model "
                f"{record.name!r}, got {bias!r}"
            )
        if (n is None) == (class_sizes is None):
            raise InvalidParameter(
                "give exactly one of n (balanced classes) and class_sizes, got "
                f"n={n!r}, class_sizes={class_sizes!r}"
            )
        if n is not None:
            sizes = (check_int("n", n, 1),) * K
        else:
            if isinstance(class_sizes, str | bytes) or not hasattr(class_sizes, "__len__"):
                raise InvalidParameter(
                    f"class_sizes must be a sequence of K={K} integers, got {class_sizes!r}"
                )
            if len(class_sizes) != K:
                raise InvalidParameter(
                    f"class_sizes must have K={K} entries, got {len(class_sizes)}: "
                    f"{tuple(class_sizes)!r}"
                )
            sizes = tuple(check_int(f"class_sizes[{k}]", s, 1) for k, s in enumerate(class_sizes))
        if bias == "regularized":
            if lambda_b is None:
                raise InvalidParameter(
                    "lambda_b is required when bias='regularized' (use bias='free' for an "
                    "unpenalized bias or bias='none' for no bias)"
                )
            lambda_b = check_nonneg("lambda_b", lambda_b)
        elif lambda_b is not None:
            raise InvalidParameter(
                "lambda_b applies only when bias='regularized', got "
                f"lambda_b={lambda_b!r} with bias={bias!r}"
            )
        else:
            lambda_b = 0.0
        lambda_W, lambda_H = check_nonneg("lambda_W", lambda_W), check_nonneg("lambda_H", lambda_H)
        for name, value in (("lambda_W", lambda_W), ("lambda_H", lambda_H)):
            if value != 0 and name not in record.lambdas:
                applies = ", ".join(f for f in LAMBDA_FIELDS if f in record.lambdas) or "none"
                raise InvalidParameter(
                    f"{name} does not apply to model {record.name!r} (its weight-decay fields: "
                    f"{applies}; see ufm.models), got {name}={value}"
                )
        if model_params is not None and not isinstance(model_params, dict):
            raise InvalidParameter(
                f"model_params must be a dict of the model's parameters, got {model_params!r}"
            )
        model_params = record.check_params(dict(model_params or {}), K=K, d=d)
        check_memory(
            f"the labels of N={sum(sizes)} samples", 8 * sum(sizes),
            "lower K or the class sizes",
        )  # fmt: skip
        labels = np.repeat(np.arange(K), sizes)
        labels.setflags(write=False)
        for name, value in (
            ("loss", loss),
            ("K", K),
            ("d", d),
            ("class_sizes", sizes),
            ("lambda_W", lambda_W),
            ("lambda_H", lambda_H),
            ("lambda_b", lambda_b),
            ("bias", bias),
            ("labels", labels),
            ("loss_params", dict(loss_fn.params)),
            ("loss_fn", loss_fn),
            ("model", record.name),
            ("model_params", model_params),
            ("_model_key", json.dumps(model_params, sort_keys=True)),
        ):
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
            if f.repr and (self.model != "ufm" or f.name not in ("model", "model_params"))
        ]
        return f"Problem({', '.join(shown)})"

    @property
    def N(self) -> int:
        """Total number of samples, N = n_1 + ... + n_K."""
        return sum(self.class_sizes)

    @property
    def balanced(self) -> bool:
        """True when every class has the same size."""
        return len(set(self.class_sizes)) == 1

    @property
    def n(self) -> int | None:
        """The common class size for balanced classes, else None."""
        return self.class_sizes[0] if self.balanced else None

    @property
    def has_bias(self) -> bool:
        """True unless ``bias='none'``."""
        return self.bias != "none"

    def replace(self, **changes) -> Problem:
        """A copy with some fields changed, validated again.

        ``n=`` replaces ``class_sizes``; changing K of a balanced problem keeps its class size n.
        """
        kwargs = self.to_dict()
        if "n" in changes or ("K" in changes and "class_sizes" not in changes and self.balanced):
            kwargs.pop("class_sizes")
            kwargs.setdefault("n", changes.get("n", self.n))
        if changes.get("bias", self.bias) != "regularized":
            kwargs.pop("lambda_b", None)
        if "loss" in changes and "loss_params" not in changes:
            kwargs.pop("loss_params", None)
        if "model" in changes and "model_params" not in changes:
            kwargs.pop("model_params", None)
        kwargs.update(changes)
        return Problem(**kwargs)

    def to_dict(self) -> dict:
        """JSON-ready fields; ``Problem.from_dict(p.to_dict()) == p``.

        ``model`` and ``model_params`` appear only for a model other than ``'ufm'``, and then the
        weight-decay fields that do not apply to it are left out.
        """
        out = {
            "loss": self.loss,
            "K": self.K,
            "d": self.d,
            "class_sizes": list(self.class_sizes),
            "lambda_W": self.lambda_W,
            "lambda_H": self.lambda_H,
            "lambda_b": self.lambda_b,
            "bias": self.bias,
        }
        if self.bias != "regularized":
            del out["lambda_b"]
        if self.loss_params:
            out["loss_params"] = dict(self.loss_params)
        if self.model != "ufm":
            for name in ("lambda_W", "lambda_H"):
                if name not in get_model(self.model).lambdas:
                    del out[name]
            out["model"] = self.model
            out["model_params"] = json.loads(json.dumps(self.model_params))
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Problem:
        """Inverse of :meth:`to_dict`; validates every field."""
        if not isinstance(data, dict):
            raise InvalidParameter(f"a problem must be a JSON object, got {type(data).__name__}")
        allowed = {
            "loss", "K", "d", "n", "class_sizes", "lambda_W", "lambda_H", "lambda_b", "bias",
            "loss_params", "model", "model_params",
        }  # fmt: skip
        unknown = set(data) - allowed
        if unknown:
            raise InvalidParameter(
                f"unknown problem fields {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        return cls(**data)
