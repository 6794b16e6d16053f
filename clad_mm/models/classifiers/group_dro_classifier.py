"""GroupDRO: a classifier trained on its worst groups (uses group labels)."""

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS

from ..losses.group_dro import DEFAULT_STEP_SIZE, group_mean_losses
from ..memories.group_weight_state import GroupWeightState
from .sample_fields import sample_field


@MODELS.register_module()
class GroupDROClassifier(ImageClassifier):
    """Classifier trained with GroupDRO's robust loss: an oracle reference.

    Implements Sagawa et al., `Distributionally Robust Neural Networks for
    Group Shifts <https://arxiv.org/abs/1911.08731>`_ (ICLR 2020). It USES
    the training set's group labels, which ClusterFix does without: in the
    group-robustness tables it is an upper reference, not a competitor. The
    training loss is ``Σ_g q_g · L_g``, with ``L_g`` the mean of the target
    head's per-sample ``loss_module`` loss over the batch's samples of group
    ``g`` and the weights ``q`` of :class:`GroupWeightState` (no gradient),
    stepped first with the global batch's group losses. ``predict()`` is
    ImageClassifier's; validation and testing never touch the weights.

    Each training sample must carry its ``group``
    (``PackInputs(algorithm_keys=('group',))``; the group-labelled datasets
    put it in every data info).

    Config keys (``type='GroupDROClassifier'``): those of ``ImageClassifier``
    plus ``num_groups`` and ``step_size``.

    Args:
        num_groups (int): The number of groups (4 on Waterbirds and CelebA).
        step_size (float): η of the weights' exponentiated-gradient step.
            Defaults to 0.01.
        **kwargs: ``backbone``, ``neck``, ``head``, ``data_preprocessor``,
            ``init_cfg`` etc. of ``ImageClassifier``.
    """

    def __init__(
        self, num_groups: int, step_size: float = DEFAULT_STEP_SIZE, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.group_state = GroupWeightState(num_groups, step_size)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """The robust loss of a training batch.

        Returns:
            dict[str, Tensor]: ``loss`` (``Σ_g q_g · L_g``) and the logged
            ``group_weight_max``.
        """
        feats = self.extract_feat(inputs)
        cls_score = self.head(feats)
        device = cls_score.device
        targets = torch.cat([sample.gt_label for sample in data_samples]).to(device)
        groups = sample_field(
            data_samples,
            'group',
            device,
            'GroupDROClassifier',
            "add PackInputs(algorithm_keys=('group',)) to the training pipeline",
        )
        # The head's own loss (e.g. with label smoothing), per sample.
        losses = self.head.loss_module(cls_score, targets, reduction_override='none')
        weights = self.group_state.update(losses, groups)
        group_losses, _ = group_mean_losses(losses, groups, self.group_state.num_groups)
        return {
            'loss': (weights.to(losses.dtype) * group_losses).sum(),
            'group_weight_max': weights.max(),
        }
