"""The embedding neck of deep metric learning: pool, project, L2-normalise."""

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn

from clad_mm.utils.errors import UserError


@MODELS.register_module()
class EmbeddingNeck(BaseModule):
    """Global average pooling, a linear map to ``out_channels``, L2 normalisation.

    The embedding head of deep metric learning as in Kobs & Hotho, `On
    Background Bias in Deep Metric Learning <https://arxiv.org/abs/2210.01615>`_
    (ICMV 2022) and Musgrave et al., `A Metric Learning Reality Check
    <https://arxiv.org/abs/2003.08505>`_ (ECCV 2020): the backbone's last
    feature map is averaged over space, projected to a 128-d embedding and
    scaled to unit length, so that squared Euclidean distance and cosine
    similarity rank neighbours alike.

    Input: a backbone's output, a tuple of feature maps (the last is used)
    or one tensor, ``(N, C, H, W)`` or already pooled ``(N, C)``.
    Output: a one-element tuple holding the ``(N, out_channels)``
    embeddings, MMPretrain's neck convention.

    Args:
        in_channels (int): Channels of the backbone's last feature map
            (2048 for ResNet-50, 1280 for EfficientNet-Lite0).
        out_channels (int): Embedding dimension D. Defaults to 128.
        normalize (bool): Whether to scale embeddings to unit L2 norm.
            Defaults to True.
        init_cfg (dict, optional): Initialisation config of the linear map.
            Defaults to None (PyTorch's default initialisation).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 128,
        normalize: bool = True,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_channels <= 0 or out_channels <= 0:
            raise UserError(
                f'EmbeddingNeck needs positive in_channels and out_channels, got '
                f'{in_channels} and {out_channels}'
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalize = normalize
        self.fc = nn.Linear(in_channels, out_channels)

    def forward(self, inputs: tuple[torch.Tensor, ...] | torch.Tensor) -> tuple:
        """Embeds the backbone's last feature map.

        Args:
            inputs (tuple[Tensor] | Tensor): Backbone output.

        Returns:
            tuple[Tensor]: ``((N, out_channels),)``, unit length if
            ``normalize``.
        """
        features = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if features.dim() == 4:
            features = features.mean(dim=(2, 3))
        if features.dim() != 2 or features.shape[1] != self.in_channels:
            raise UserError(
                f'EmbeddingNeck(in_channels={self.in_channels}) got features of '
                f'shape {tuple(features.shape)}; set in_channels to the '
                "backbone's output channels"
            )
        embeddings = self.fc(features)
        if self.normalize:
            embeddings = F.normalize(embeddings, dim=1)
        return (embeddings,)
