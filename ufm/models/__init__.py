"""Model families: one record per family owning its parameter blocks and objective, a registry.

* :func:`get_model` - a registered model record by name; :func:`model_names` - the names;
* :class:`Model` - the record every model is; :func:`register_model` - the class decorator.

Registered: ``ufm`` (W, H, b; the default of :class:`ufm.Problem`), ``layer-peeled`` (norm
budgets E_W, E_H; Fang et al. 2021), ``deep-linear`` (W_L, ..., W_1, H, b), ``sphere`` (unit rows
and columns, temperature tau; Yaras et al. 2022). A :class:`ufm.Problem` names its model and
carries its parameters (``model_params``); :func:`ufm.objective` and :func:`ufm.gradient` dispatch
to the record, and configuration files store the blocks under their names. To add a model, see
:mod:`ufm.models._base`.
"""

# Registration order is the order of these imports: one line per model.
from . import ufm  # noqa: F401, I001  (each file registers its model)
from . import layer_peeled  # noqa: F401
from . import deep_linear  # noqa: F401
from . import sphere  # noqa: F401
from ._base import LAMBDA_FIELDS, Model, get_model, model_names, register_model

__all__ = ["Model", "get_model", "model_names", "register_model", "LAMBDA_FIELDS"]
