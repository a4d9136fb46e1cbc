"""Cross-entropy: the softmax link with one-hot targets (Zhu et al. 2021, eq. (4))."""

from __future__ import annotations

from ._base import Loss, OneHotTargets, register_loss


@register_loss
class CrossEntropy(OneHotTargets, Loss):
    r""":math:`\ell(z, y) = \log\sum_j e^{z_j} - z_y`.

    References: Papyan, Han & Donoho (2020); Zhu et al. (2021), "A geometric analysis of neural
    collapse with unconstrained features", NeurIPS, eq. (4).
    """

    name = "ce"
    link = "softmax"
    citation = "Zhu et al. (2021), NeurIPS, eq. (4)"
