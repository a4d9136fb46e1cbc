"""Mean squared error: the square link, one-hot targets (Tirer & Bruna 2022; Zhou et al. 2022)."""

from __future__ import annotations

from ._base import Loss, OneHotTargets, register_loss


@register_loss
class MeanSquaredError(OneHotTargets, Loss):
    r""":math:`\ell(z, y) = \tfrac12\|z - e_y\|^2`, so the data term is
    :math:`\frac{1}{2N}\|Z - Y\|_F^2`.

    References: Tirer & Bruna (2022), ICML; Zhou, Li, Ding, You, Qu & Zhu (2022), ICML.
    """

    name = "mse"
    link = "square"
    citation = "Tirer & Bruna (2022), ICML; Zhou et al. (2022), ICML"
