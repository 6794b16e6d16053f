"""ClusterFix: an image classifier that up-weights its hard pseudo-groups."""

import torch
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from torch import nn

from clad_mm.datasets.pseudo_label_file import load_pseudo_labels
from clad_mm.utils.errors import UserError

from ..memories.cluster_weight_state import ClusterWeightState
from .sample_fields import sample_field


@MODELS.register_module()
class ClusterFixClassifier(ImageClassifier):
    """Classifier trained with ClusterFix's cluster weights, no group labels.

        Implements Capitani et al., `ClusterFix: A Cluster-Based Debiasing
        Approach Without Protected-Group Supervision
        <https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_
        (WACV 2024). Besides the target head (any MMPretrain classification
        head), one pseudo-label head per class predicts an image's cluster among
        its class's k clusters (the pseudo-label file's; the head is chosen by
        the ground-truth class, one linear layer of C·k outputs read in k-blocks).
        The training loss is::

            mean_i(w_i · CE_target_i) + β · mean_i(CE_pseudo_i)

    (``CE_target`` is the target head's ``loss_module``, per sample.)

        with the sample weights ``w`` of :class:`ClusterWeightState` (no
        gradient), kept from each sample's last pseudo-label loss, or, with
        ``split_plus=True``, its target + β·pseudo-label loss. ``predict()`` is
        ImageClassifier's: the pseudo heads only shape training, and validation
        and testing never touch the weight state.

        Each training sample must carry ``pseudo_label`` (``LoadPseudoLabel``
        and ``PackInputs(algorithm_keys=('pseudo_label',))``) and ``sample_idx``
        (PackInputs' default meta key), its index in the training set that the
        pseudo-label file was made for.

        Config keys (``type='ClusterFixClassifier'``): those of
        ``ImageClassifier`` plus ``pseudo_labels``, ``beta``, ``split_plus``,
        ``momentum``, ``feat_channels``.

        Args:
            pseudo_labels (str): The pseudo-label JSON file
                (``tools/analysis/make_pseudo_labels.py``).
            feat_channels (int): Channels of the pooled feature the heads read
                (the target head's ``in_channels``).
            beta (float): β, the weight of the pseudo-label loss (paper: 0.01
                on Waterbirds, 0.5 on CelebA). Defaults to 0.01.
            split_plus (bool): Keep target + β·pseudo-label losses for the
                cluster weights ("split-plus"). Defaults to False.
            momentum (float): Weight of the new value in the weights' moving
                average. Defaults to 0.3.
            **kwargs: ``backbone``, ``neck``, ``head``, ``data_preprocessor``,
                ``init_cfg`` etc. of ``ImageClassifier``.
    """

    def __init__(
        self,
        pseudo_labels: str,
        feat_channels: int,
        beta: float = 0.01,
        split_plus: bool = False,
        momentum: float = 0.3,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        content = load_pseudo_labels(pseudo_labels)
        num_classes = getattr(self.head, 'num_classes', None)
        if num_classes != content['num_classes']:
            raise UserError(
                f'model.head.num_classes={num_classes} but the pseudo-label file '
                f'{pseudo_labels} has {content["num_classes"]} classes'
            )
        if beta < 0:
            raise UserError(f'beta must be non-negative, got {beta}')
        self.pseudo_labels = pseudo_labels
        self.clusters_per_class = content['clusters_per_class']
        self.beta = beta
        self.split_plus = split_plus
        self.pseudo_head = nn.Linear(
            feat_channels, num_classes * self.clusters_per_class
        )
        self.cluster_state = ClusterWeightState(content['cluster_sizes'], momentum)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """Weighted target loss and pseudo-label loss of a training batch.

        Returns:
            dict[str, Tensor]: ``loss`` (the weighted target loss),
            ``loss_pseudo`` (β·mean pseudo-label CE) and the logged
            ``cluster_weight_max``.
        """
        feats = self.extract_feat(inputs)
        pooled = feats[-1] if isinstance(feats, tuple) else feats
        device = pooled.device
        targets = torch.cat([sample.gt_label for sample in data_samples]).to(device)
        clusters = sample_field(
            data_samples,
            'pseudo_label',
            device,
            'ClusterFixClassifier',
            'add LoadPseudoLabel to the training pipeline and '
            "PackInputs(algorithm_keys=('pseudo_label',))",
        )
        sample_idx = sample_field(
            data_samples,
            'sample_idx',
            device,
            'ClusterFixClassifier',
            "keep 'sample_idx' in PackInputs' meta_keys",
        )
        local = clusters - self.clusters_per_class * targets
        if ((local < 0) | (local >= self.clusters_per_class)).any():
            raise UserError(
                f'pseudo_label {clusters.tolist()} do not belong to the classes '
                f'{targets.tolist()} ({self.clusters_per_class} clusters per class)'
            )
        rows = torch.arange(len(targets), device=device)
        pseudo_logits = self.pseudo_head(pooled).view(
            len(targets), -1, self.clusters_per_class
        )[rows, targets]
        pseudo_ce = F.cross_entropy(pseudo_logits, local, reduction='none')
        cls_score = self.head(feats)
        # The head's own loss (e.g. with label smoothing), per sample.
        target_ce = self.head.loss_module(cls_score, targets, reduction_override='none')
        kept = target_ce + self.beta * pseudo_ce if self.split_plus else pseudo_ce
        weights = self.cluster_state.update(sample_idx, clusters, kept.detach())
        return {
            'loss': (weights * target_ce).mean(),
            'loss_pseudo': self.beta * pseudo_ce.mean(),
            'cluster_weight_max': weights.max(),
        }
