"""Two-view preprocessor that stylizes S-CLAD's positives with AdaIN."""

import torch
from mmpretrain.registry import MODELS
from torch import nn

from clad_mm.utils.errors import UserError

from .two_view_cls_data_preprocessor import TwoViewClsDataPreprocessor

#: Views of a batch to stylize: anchor, positive content, style.
NUM_STYLIZING_VIEWS = 3
_MAX_PIXEL = 255.0


@MODELS.register_module()
class StylizingDataPreprocessor(TwoViewClsDataPreprocessor):
    """:class:`TwoViewClsDataPreprocessor` that makes S-CLAD's AdaIN positives.

    S-CLAD, the texture variant of CLAD (Wang et al., `CLAD: A Contrastive
    Learning based Approach for Background Debiasing
    <https://arxiv.org/abs/2210.02748>`_, BMVC 2022), pulls an image towards
    its AdaIN re-texturing with the style of another class.
    :class:`LoadStyleImage` packs each training sample as three views
    ``[anchor, content, style]``; this preprocessor turns such a batch into
    the two views CLAD trains on, ``[anchor, stylizer(content, style)]``,
    running the stylizer batched on the preprocessor's device (the GPU in
    training) instead of in the CPU data workers, then normalises both views
    exactly as the parent does.

    Channel order and range: the views arrive as ``PackInputs`` gives them,
    0-255 in the loader's channel order, which is BGR when ``to_rgb=True``
    (``LoadImageFromFile``'s default) and taken to be RGB otherwise. The
    stylizer gets RGB in [0, 1]; its output is scaled back to 0-255 in the
    views' channel order (not re-quantised to integers) before the parent's
    conversion and normalisation, so the stylized view is treated like any
    loaded image.

    Batches of any other number of views (two-view batches) and plain
    batches (validation, testing, inference) are processed exactly as by
    the parent.

    The stylizer's frozen weights are NOT part of the model: the stylizer
    is held outside the module tree, so it is absent from ``state_dict()``
    (checkpoints stay free of a fixed external file and load strictly into a
    model built from the same config), from ``parameters()`` (the optimizer)
    and from DDP's parameter and buffer synchronisation. It follows the
    data to the preprocessor's device at its first use. A stylizer config
    is built at the first three-view batch, so that validation, testing
    and inference with the same config neither read the AdaIN weight files
    nor hold them in memory; a wrong path is reported there.

    Args:
        stylizer (dict | nn.Module): The stylizer, a config such as
            ``dict(type='AdaINStylizer', encoder_checkpoint=...,
            decoder_checkpoint=..., alpha=1.0)`` (built from
            ``mmpretrain.registry.MODELS``) or a module. It maps RGB content
            and style images in [0, 1], ``[B, 3, H, W]`` each, to RGB images
            in [0, 1] of the content's size, without gradients.
        **kwargs: The arguments of :class:`TwoViewClsDataPreprocessor`
            (``mean``, ``std``, ``to_rgb``, ...).
    """

    def __init__(self, stylizer: dict | nn.Module, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(stylizer, (dict, nn.Module)):
            raise UserError(
                'stylizer must be a config dict (e.g. '
                "dict(type='AdaINStylizer', ...)) or an nn.Module, got "
                f'{type(stylizer).__name__}'
            )
        # Assigned past nn.Module.__setattr__ so that the frozen stylizer is
        # not a submodule: see the class docstring.
        object.__setattr__(self, '_stylizer', stylizer)

    @property
    def stylizer(self) -> nn.Module:
        """The stylizer module, built from its config at the first use."""
        if isinstance(self._stylizer, dict):
            object.__setattr__(self, '_stylizer', MODELS.build(self._stylizer))
        return self._stylizer

    def forward(self, data: dict, training: bool = False) -> dict:
        """Stylizes a three-view batch, then preprocesses like the parent.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from the dataloader;
                ``inputs`` is a plain batch or a list of view batches.
            training (bool): Whether the batch is a training batch.

        Returns:
            dict: ``inputs`` (a tensor, or a list of view batches:
            ``[anchor, stylized]`` for a three-view batch) and
            ``data_samples``.
        """
        views = data['inputs']
        if not _is_stylizing_batch(views):
            return super().forward(data, training)
        anchor, content, style = (self.cast_data(view) for view in views)
        stylizer = self.stylizer.to(content.device)
        stylized = stylizer(self._to_rgb01(content), self._to_rgb01(style))
        return super().forward(
            {
                'inputs': [anchor, self._from_rgb01(stylized)],
                'data_samples': data.get('data_samples'),
            },
            training,
        )

    def _to_rgb01(self, view: torch.Tensor) -> torch.Tensor:
        if self.to_rgb:
            view = view.flip(1)
        return view.float() / _MAX_PIXEL

    def _from_rgb01(self, images: torch.Tensor) -> torch.Tensor:
        images = images.float() * _MAX_PIXEL
        return images.flip(1) if self.to_rgb else images


def _is_stylizing_batch(inputs) -> bool:
    return (
        isinstance(inputs, (list, tuple))
        and len(inputs) == NUM_STYLIZING_VIEWS
        and all(
            isinstance(view, torch.Tensor) and view.dim() == 4 and view.size(1) == 3
            for view in inputs
        )
    )
