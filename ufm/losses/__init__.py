"""Losses of the UFM data term: one file per loss, a registry, and the two links they share.

* :func:`get_loss` - a registered loss by name, with its parameters (``get_loss('ce-ls',
  smoothing=0.1)``); :func:`loss_names` - the registered names;
* :class:`Loss` - the record every loss is (link, exchange-symmetric targets, parameters);
  :func:`register_loss` - the class decorator that registers one.

Registered: ``ce`` (cross-entropy), ``mse`` (half squared error), ``ce-ls`` (label-smoothed CE).
To add a loss, see :mod:`ufm.losses._base` and the README ("Add a loss").
"""

# Registration order is the order of these imports (ce, mse, ce-ls): one line per loss, each file
# registers its loss. isort: off keeps that order.
# isort: off
from . import ce  # noqa: F401
from . import mse  # noqa: F401
from . import ce_ls  # noqa: F401

# isort: on
from ._base import Loss, Parameter, get_loss, loss_class, loss_names, register_loss
from ._links import LINKS

__all__ = [
    "Loss", "Parameter", "get_loss", "loss_class", "loss_names", "register_loss", "LINKS"
]  # fmt: skip
