"""CLAD and CLAD+: contrastive background debiasing of any MMPretrain classifier."""

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from torch import nn

from clad_mm.utils.errors import UserError


@MODELS.register_module()
class CLADClassifier(ImageClassifier):
    """Image classifier trained with CLAD's contrastive term.

    Implements `CLAD: A Contrastive Learning based Approach for Background
    Debiasing <https://arxiv.org/abs/2210.02748>`_ (Ke Wang, Harshitha
    Machiraju, Oh-Hyeon Choung, Michael Herzog and Pascal Frossard, BMVC
    2022)::

        L_CLAD  = CE(x) + λ · InfoNCE(x, x⁺, x⁻)
        L_CLAD+ = CE(x) + CE(x⁺) + λ · InfoNCE(x, x⁺, x⁻)

    ``x⁺`` is the anchor's foreground on another class's background (made by
    ``BackgroundSwap``), and the negatives ``x⁻`` of an anchor of class ``y``
    are the entries of the negative dictionary's queue ``y``: features of
    positives that show class ``y``'s background with another class's
    foreground. Every positive is enqueued under its background label. The
    contrastive feature is what ``head.pre_logits`` returns: for a linear
    head its input, the globally pooled backbone feature with no projection;
    for a head with hidden layers (MobileNetV3's ``StackedLinearClsHead``, a
    ``VisionTransformerClsHead`` with ``hidden_dim``) the output of the last
    hidden layer, the input of the final linear layer.

    Training batches hold two views, ``inputs = [anchor, positive]`` (from
    ``TwoViewPipeline`` and ``TwoViewClsDataPreprocessor``, the default data
    preprocessor here), and each data sample carries the positive's
    dictionary key in the field named by ``dictionary_key``.

    S-CLAD, the paper's texture variant, is the same model with other pairs:
    the positive keeps the anchor's shape and takes another class's texture
    (``TextureSwap``, or AdaIN through ``StylizingDataPreprocessor``), and the
    dictionary is keyed by the positive's texture label
    (``dictionary_key='pos_texture_label'``).
    Anchors and positives go through the network as one batch.
    ``predict()`` is ImageClassifier's, so a trained checkpoint is used by
    MMPretrain's inferencers and tools like any classifier. The queue's
    schedule and health logging belong to ``NegativeDictionaryHook``.

    Args:
        backbone (dict): Backbone config, any MMPretrain backbone.
        neck (dict, optional): Neck config, e.g. ``GlobalAveragePooling``.
        head (dict): Classification head config.
        contrastive_head (dict): ``InfoNCEHead`` config: temperature τ
            (paper: 0.2) and ``loss_weight`` λ (paper: 1).
        dictionary (dict): ``NegativeDictionary`` config: ``num_keys`` (the
            number of background classes), ``queue_size`` N (paper: 32) and
            ``feat_dim``, the contrastive feature size: the width of what
            ``head.pre_logits`` returns (``head.in_channels`` for a linear
            head, e.g. 2048 for a ResNet-50; ``mid_channels[-1]`` for a
            ``StackedLinearClsHead``, e.g. 1280 for MobileNetV3-Large;
            ``hidden_dim`` for a ``VisionTransformerClsHead`` with one). Left
            out, it is measured on the built head; a value that differs from
            the measured width is an error.
        with_pos_loss (bool): CLAD+ when True: the positive's cross-entropy
            (logged as ``loss_pos``) is added. Defaults to False.
        enqueue_before_loss (bool): Paper order when True: the batch's
            positives are enqueued before its loss is computed; False
            enqueues them afterwards, so an iteration only sees negatives
            from earlier iterations. The model alone sets the order
            (``NegativeDictionaryHook`` only checks and logs it). Defaults
            to True.
        dictionary_key (str): Data-sample field holding each positive's
            dictionary key: ``'pos_bg_label'`` (CLAD, from
            ``BackgroundSwap``) or ``'pos_texture_label'`` (S-CLAD).
            Defaults to ``'pos_bg_label'``.
        pretrained (str, optional): Checkpoint to load, as ImageClassifier.
        train_cfg (dict, optional): As ImageClassifier; batch augments such
            as Mixup are refused by the two-view preprocessor.
        data_preprocessor (dict, optional): Defaults to
            ``TwoViewClsDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(
        self,
        backbone: dict,
        neck: dict | None = None,
        head: dict | None = None,
        contrastive_head: dict | None = None,
        dictionary: dict | None = None,
        with_pos_loss: bool = False,
        enqueue_before_loss: bool = True,
        dictionary_key: str = 'pos_bg_label',
        pretrained: str | None = None,
        train_cfg: dict | None = None,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ):
        if contrastive_head is None or dictionary is None:
            raise UserError(
                'CLADClassifier needs contrastive_head (e.g. '
                "dict(type='InfoNCEHead', temperature=0.2)) and dictionary "
                "(e.g. dict(type='NegativeDictionary', num_keys=9, "
                'queue_size=32))'
            )
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'TwoViewClsDataPreprocessor')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=train_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
        )
        self.contrastive_head = MODELS.build(contrastive_head)
        # After the head is built: its pre_logits output sets the width.
        self.dictionary = MODELS.build(
            _dictionary_following_head(dictionary, getattr(self, 'head', None))
        )
        self.with_pos_loss = with_pos_loss
        self.enqueue_before_loss = enqueue_before_loss
        self.dictionary_key = dictionary_key

    def loss(self, inputs, data_samples) -> dict:
        """Cross-entropy of the anchors (and positives for CLAD+) + λ·InfoNCE.

        Args:
            inputs (list[torch.Tensor]): ``[anchors, positives]``, each
                ``[B, C, H, W]``.
            data_samples (list[DataSample]): With ``gt_label`` and the
                ``dictionary_key`` field.

        Returns:
            dict: ``loss_cls`` (anchor CE), ``loss_pos`` (CLAD+),
            ``loss_infonce`` and the logged contrastive accuracy
            ``infonce_acc``; MMEngine logs their sum as ``loss``.
        """
        anchors, positives = _anchor_and_positive(inputs)
        features = self.extract_feat(torch.cat([anchors, positives]))
        anchor_features = _take(features, slice(0, len(anchors)))
        positive_features = _take(features, slice(len(anchors), None))

        losses = self.head.loss(anchor_features, data_samples)
        # MMEngine logs the total under 'loss', which a head's own 'loss' key
        # would overwrite in the log.
        losses['loss_cls'] = losses.pop('loss')
        if self.with_pos_loss:
            losses['loss_pos'] = self.head.loss(positive_features, data_samples)['loss']

        anchor_embeddings = self.head.pre_logits(anchor_features)
        positive_embeddings = self.head.pre_logits(positive_features)
        labels = torch.cat([sample.gt_label for sample in data_samples]).to(
            anchor_embeddings.device
        )
        positive_keys = _positive_keys(
            data_samples, self.dictionary_key, anchor_embeddings.device
        )

        queued = positive_embeddings.detach()
        if not self.dictionary.is_initialized:
            self.dictionary.initialize(queued, labels)
        if self.enqueue_before_loss:
            self.dictionary.enqueue(queued, positive_keys)
        negatives, valid = self.dictionary.negatives(labels)
        losses.update(
            self.contrastive_head.loss(
                anchor_embeddings, positive_embeddings, negatives.detach(), valid
            )
        )
        if not self.enqueue_before_loss:
            self.dictionary.enqueue(queued, positive_keys)
        return losses


def _dictionary_following_head(dictionary: dict, head: nn.Module | None) -> dict:
    """The dictionary config with ``feat_dim`` = the width of ``head.pre_logits``.

    The contrastive feature is what ``head.pre_logits`` returns, so the two
    sizes must agree; checked here, at build time, instead of at the first
    enqueue. The width is measured rather than read from a config key
    because heads differ in which key sets it (``in_channels`` of a linear
    head, ``mid_channels[-1]`` of a stacked one, ``hidden_dim`` of a ViT
    head).

    Args:
        dictionary (dict): ``NegativeDictionary`` config, with or without
            ``feat_dim``.
        head (nn.Module, optional): The built classification head.

    Returns:
        dict: The config with ``feat_dim`` set.

    Raises:
        UserError: ``feat_dim`` is missing and cannot be measured, or it
            differs from the measured width.
    """
    dictionary = dict(dictionary)
    feat_dim = dictionary.get('feat_dim')
    width = _pre_logits_width(head)
    described = (
        f'{type(head).__name__} with model.head.in_channels='
        f'{getattr(head, "in_channels", None)}'
        if head is not None
        else 'model.head is not set'
    )
    if feat_dim is None:
        if width is None:
            raise UserError(
                'model.dictionary.feat_dim is not given and the width of '
                f'model.head.pre_logits could not be measured ({described}; '
                'it is measured on a [batch, in_channels] feature): set '
                'model.dictionary.feat_dim to the size of the feature '
                'model.head.pre_logits returns'
            )
        dictionary['feat_dim'] = width
    elif width is not None and feat_dim != width:
        raise UserError(
            f'model.dictionary.feat_dim={feat_dim} differs from {width}, the '
            f'width of what model.head.pre_logits returns ({described}): '
            'the negatives are that feature, so leave model.dictionary.feat_dim '
            'out (it follows the head) or set it to the same value'
        )
    return dictionary


def _pre_logits_width(head: nn.Module | None) -> int | None:
    """The width of ``head.pre_logits``' output, or None if it cannot be told.

    Passes a zero ``[2, head.in_channels]`` feature, the pooled input of
    MMPretrain's vector heads, through ``pre_logits`` in eval mode (dropout
    off, BatchNorm on its running statistics) without gradients, and gives
    the head back in its former mode. A head without an integer
    ``in_channels``, or one whose ``pre_logits`` wants another input (a
    feature map, a token tuple), gives None.
    """
    in_channels = getattr(head, 'in_channels', None)
    if not isinstance(in_channels, int) or not hasattr(head, 'pre_logits'):
        return None
    was_training = head.training
    head.eval()
    try:
        with torch.no_grad():
            parameter = next(head.parameters(), None)
            probe = torch.zeros(
                2,
                in_channels,
                device=parameter.device if parameter is not None else None,
                dtype=parameter.dtype if parameter is not None else None,
            )
            embeddings = head.pre_logits((probe,))
    except (RuntimeError, TypeError, ValueError, IndexError, AssertionError):
        return None
    finally:
        head.train(was_training)
    if not isinstance(embeddings, torch.Tensor) or embeddings.dim() != 2:
        return None
    return int(embeddings.shape[1])


def _anchor_and_positive(inputs):
    if not (isinstance(inputs, (list, tuple)) and len(inputs) == 2):
        kind = type(inputs).__name__
        raise UserError(
            'CLADClassifier.loss expects inputs=[anchors, positives]; got '
            f'{kind}. Build training samples with BackgroundSwap + '
            "TwoViewPipeline and use data_preprocessor=dict(type='"
            "TwoViewClsDataPreprocessor')"
        )
    anchors, positives = inputs
    if anchors.shape != positives.shape:
        raise ValueError(
            f'anchor batch {tuple(anchors.shape)} and positive batch '
            f'{tuple(positives.shape)} must have the same shape'
        )
    return anchors, positives


def _take(features, rows: slice):
    """The rows of every tensor in a (nested) tuple of backbone outputs."""
    if isinstance(features, torch.Tensor):
        return features[rows]
    return type(features)(_take(feature, rows) for feature in features)


def _positive_keys(data_samples, field: str, device) -> torch.Tensor:
    missing = [i for i, sample in enumerate(data_samples) if field not in sample]
    if missing:
        provider = {
            'pos_bg_label': 'BackgroundSwap',
            'pos_texture_label': 'TextureSwap or LoadStyleImage',
        }.get(field, 'the transform that makes the positives')
        raise UserError(
            f'data samples {missing[:5]} have no {field}: add {provider} and '
            f"PackInputs(algorithm_keys=('{field}',)) to the training pipeline"
        )
    return torch.as_tensor(
        [int(sample.get(field)) for sample in data_samples], device=device
    )
