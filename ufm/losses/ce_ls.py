"""Label-smoothed cross-entropy (Szegedy et al. 2016), in the UFM analysed by Zhou et al. 2022b."""

from __future__ import annotations

from ._base import Loss, Parameter, register_loss


@register_loss
class LabelSmoothedCrossEntropy(Loss):
    r"""Cross-entropy against the smoothed target
    :math:`q_y = (1 - \alpha)e_y + \frac\alpha K\mathbf 1`:

    .. math:: \ell(z, y) = \log\sum_j e^{z_j} - q_y^\top z
              = -(1 - \alpha + \tfrac\alpha K)\log p_y - \tfrac\alpha K\sum_{j\ne y}\log p_j,

    with :math:`p = \operatorname{softmax}(z)` and smoothing :math:`\alpha \in [0, 1)`
    (:math:`\alpha = 0` is ``ce``; at :math:`\alpha = 1` the target is uniform and the loss has no
    class information). References: Szegedy, Vanhoucke, Ioffe, Shlens & Wojna (2016), CVPR, Sec. 7
    (label smoothing); Zhou, You, Li, Liu, Liu, Qu & Zhu (2022), "Are all losses created equal: a
    neural collapse perspective", NeurIPS (its UFM minimizers are NC solutions); Guo et al. (2025),
    TMLR. The closed form in :mod:`ufm.minimizers` is derived here
    (``proofs/ce_label_smoothing.py``).
    """

    name = "ce-ls"
    link = "softmax"
    citation = "Szegedy et al. (2016), CVPR; Zhou et al. (2022b), NeurIPS"
    parameters = {
        "smoothing": Parameter(0.0, 1.0, False, "alpha: weight of the uniform target, in [0, 1)")
    }

    def target_pair(self, K):
        alpha = self.params["smoothing"]
        return 1.0 - alpha + alpha / K, alpha / K

    @classmethod
    def sympy_target_pair(cls, K, symbols):
        alpha = symbols["smoothing"]
        return 1 - alpha + alpha / K, alpha / K
