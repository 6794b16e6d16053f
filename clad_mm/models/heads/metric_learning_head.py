"""A head that trains embeddings with any pytorch-metric-learning loss."""

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from pytorch_metric_learning import distances, losses, miners, reducers, regularizers

from clad_mm.utils.errors import UserError

# The pytorch-metric-learning modules whose classes a config may name, per
# argument: the loss and miner themselves and the components they take.
_COMPONENT_MODULES = {
    'loss': losses,
    'miner': miners,
    'distance': distances,
    'reducer': reducers,
    'embedding_regularizer': regularizers,
    'weight_regularizer': regularizers,
}


def build_pml_component(cfg: dict, argument: str):
    """Builds a pytorch-metric-learning loss, miner or component from a dict.

    ``cfg['type']`` names a class of the PML module for ``argument`` (e.g.
    ``'ArcFaceLoss'`` in ``pytorch_metric_learning.losses``); the other keys
    are its keyword arguments, where ``distance``, ``reducer`` and the
    regularizers may themselves be such dicts.

    Args:
        cfg (dict): The component's config.
        argument (str): Which component it is (a key of the head's config).

    Returns:
        The built component.

    Raises:
        UserError: If ``type`` is missing or not a class of that module, or
            the class rejects an argument.
    """
    module = _COMPONENT_MODULES[argument]
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    component = getattr(module, name, None) if isinstance(name, str) else None
    if not isinstance(component, type):
        available = sorted(
            key for key, value in vars(module).items() if isinstance(value, type)
        )
        raise UserError(
            f'{argument}.type={name!r} is not a class of {module.__name__}; '
            f'expected one of {available}'
        )
    for key, value in cfg.items():
        if key in _COMPONENT_MODULES and isinstance(value, dict):
            cfg[key] = build_pml_component(value, key)
    try:
        return component(**cfg)
    except TypeError as error:
        raise UserError(f'{argument}={name}: {error}') from error


@MODELS.register_module()
class MetricLearningHead(BaseModule):
    """Metric-learning loss (and optional miner) of pytorch-metric-learning.

    The training head of the embedding models of Kobs & Hotho, `On
    Background Bias in Deep Metric Learning
    <https://arxiv.org/abs/2210.01615>`_ (ICMV 2022): the batch's embeddings
    and labels go to a loss of ``pytorch_metric_learning.losses``, built by
    name from the config (``ContrastiveLoss``, ``TripletMarginLoss``,
    ``MultiSimilarityLoss``, ``ArcFaceLoss``, ``NormalizedSoftmaxLoss``, ...),
    with the pairs or triplets of a ``pytorch_metric_learning.miners`` miner
    when one is given. Proxy losses (ArcFace, normalized softmax) hold their
    class proxies as parameters of ``loss_module``: they are saved in
    checkpoints, and ``paramwise_cfg=dict(custom_keys={'head.loss_module':
    dict(lr_mult=...)})`` gives them their own learning rate.

    Config keys (``type='MetricLearningHead'``): ``loss`` (a dict with the PML
    class name as ``type``), ``miner`` (optional, the same), ``loss_weight``.

    Args:
        loss (dict): The PML loss, e.g. ``dict(type='MultiSimilarityLoss',
            alpha=2, beta=50, base=0.5)``; ``distance``, ``reducer`` and the
            regularizers may be given as dicts too.
        miner (dict, optional): The PML miner, e.g.
            ``dict(type='MultiSimilarityMiner', epsilon=0.1)``. Defaults to
            None (the loss sees every pair of the batch).
        loss_weight (float): Factor of the loss. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(
        self,
        loss: dict,
        miner: dict | None = None,
        loss_weight: float = 1.0,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_module = build_pml_component(loss, 'loss')
        self.miner = None if miner is None else build_pml_component(miner, 'miner')
        self.loss_weight = loss_weight
        # The classes of a proxy loss, checked against the training labels.
        # Read from the config: some PML losses (NormalizedSoftmaxLoss) keep
        # a ``num_classes`` statistic of 0 instead.
        self.num_classes = loss.get('num_classes')

    #: The config key of :attr:`num_classes`, for ``RunChecksHook``'s messages.
    num_classes_key = 'model.head.loss.num_classes'

    def loss(self, feats: tuple[torch.Tensor, ...] | torch.Tensor, data_samples):
        """The weighted metric-learning loss of a batch.

        Args:
            feats (tuple[Tensor] | Tensor): The neck's ``(N, D)`` embeddings
                (the last of a tuple).
            data_samples (list[DataSample]): The batch's samples with
                ``gt_label``.

        Returns:
            dict[str, Tensor]: ``{'loss': ...}``.
        """
        embeddings = feats[-1] if isinstance(feats, (tuple, list)) else feats
        labels = torch.cat([sample.gt_label for sample in data_samples]).to(
            embeddings.device
        )
        indices = None if self.miner is None else self.miner(embeddings, labels)
        return {
            'loss': self.loss_weight * self.loss_module(embeddings, labels, indices)
        }
