"""AdaIN stylization (Huang & Belongie, ICCV 2017), the re-texturing of S-CLAD.

"Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization":
a fixed VGG-19 encoder up to ``relu4_1`` maps content and style images to
features, AdaIN gives the content features the per-channel mean and standard
deviation of the style features, and a trained decoder maps the result back
to pixels. S-CLAD uses it to make a texture-swapped positive: the anchor's
shape with another class's texture.

The layer layouts are those of the widely used PyTorch port
(github.com/naoto0804/pytorch-AdaIN, ``net.py``), so its released weights load
unchanged: ``vgg_normalised.pth`` (the full normalised VGG-19, of which the
first 31 modules, up to ``relu4_1``, are used) and ``decoder.pth``.

Config keys (``type='AdaINStylizer'``): ``encoder_checkpoint``,
``decoder_checkpoint``, ``alpha``.
"""

from collections.abc import Mapping

import torch
from mmpretrain.registry import MODELS
from torch import nn

from clad_mm.utils.errors import UserError

# Conv output channels of the normalised VGG-19 up to relu4_1; 'M' = max pool.
VGG_RELU4_1_CHANNELS = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512)
# Conv output channels of the decoder from the 512 relu4_1 channels; 'U' = x2
# nearest upsampling. The last conv (to RGB) has no ReLU.
DECODER_CHANNELS = (256, 'U', 256, 256, 256, 128, 'U', 128, 64, 'U', 64, 3)
# Modules of the full vgg_normalised Sequential up to relu4_1 (pytorch-AdaIN's
# ``enc_layers[:31]``); the released file holds the layers after it as well.
NUM_ENCODER_MODULES = 31
MAX_LISTED_KEYS = 5


def channel_mean_std(
    feat: torch.Tensor, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and standard deviation over space.

    As in the paper's Eq. 5-6: ``σ = sqrt(mean((x - μ)²) + eps)``, i.e. the
    biased (1/HW) variance with ``eps`` added under the square root.

    Args:
        feat (torch.Tensor): Features ``[B, C, H, W]``.
        eps (float): Added to the variance. Defaults to 1e-5.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: Mean and std, each ``[B, C, 1, 1]``.
    """
    if feat.dim() != 4:
        raise ValueError(
            f'Expected features of shape [B, C, H, W], got {tuple(feat.shape)}.'
        )
    var, mean = torch.var_mean(feat, dim=(2, 3), keepdim=True, correction=0)
    return mean, (var + eps).sqrt()


def adain(
    content_feat: torch.Tensor, style_feat: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Adaptive instance normalization (Huang & Belongie 2017, Eq. 8).

    ``AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)`` with per-sample,
    per-channel statistics over the spatial dimensions (see
    :func:`channel_mean_std`: biased variance as in the paper; pytorch-AdaIN
    uses the unbiased one, which gives the same result up to ``eps`` when
    content and style features have the same spatial size, since only the
    ratio ``σ(y) / σ(x)`` enters).

    Args:
        content_feat (torch.Tensor): Content features ``[B, C, H, W]``.
        style_feat (torch.Tensor): Style features ``[B, C, H', W']``; the
            spatial size may differ from the content's.
        eps (float): Added to the variances. Defaults to 1e-5.

    Returns:
        torch.Tensor: The content features with the style's statistics,
        ``[B, C, H, W]``.
    """
    if content_feat.shape[:2] != style_feat.shape[:2]:
        raise ValueError(
            'Content and style features must agree in batch size and channels, '
            f'got {tuple(content_feat.shape)} and {tuple(style_feat.shape)}.'
        )
    content_mean, content_std = channel_mean_std(content_feat, eps)
    style_mean, style_std = channel_mean_std(style_feat, eps)
    return (content_feat - content_mean) / content_std * style_std + style_mean


def _conv3x3(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d(1), nn.Conv2d(in_channels, out_channels, 3)]


def build_vgg_relu4_1_encoder() -> nn.Sequential:
    """The normalised VGG-19 of pytorch-AdaIN, its first 31 modules.

    A 1×1 conv (the Caffe preprocessing of an RGB image in [0, 1]) followed
    by reflection-padded 3×3 convs, ReLUs and ceil-mode max pools, so module
    indices, hence state-dict keys, match ``vgg_normalised.pth``.

    Returns:
        nn.Sequential: The encoder, ``[B, 3, H, W]`` → ``[B, 512, H/8, W/8]``.
    """
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    in_channels = 3
    for channels in VGG_RELU4_1_CHANNELS:
        if channels == 'M':
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            continue
        layers += [*_conv3x3(in_channels, channels), nn.ReLU()]
        in_channels = channels
    return nn.Sequential(*layers)


def build_adain_decoder() -> nn.Sequential:
    """The AdaIN decoder of pytorch-AdaIN (the encoder mirrored, no pooling).

    Returns:
        nn.Sequential: The decoder, ``[B, 512, h, w]`` → ``[B, 3, 8h, 8w]``.
    """
    layers: list[nn.Module] = []
    in_channels = 512
    for channels in DECODER_CHANNELS:
        if channels == 'U':
            layers.append(nn.Upsample(scale_factor=2, mode='nearest'))
            continue
        layers += _conv3x3(in_channels, channels)
        if channels != 3:
            layers.append(nn.ReLU())
        in_channels = channels
    return nn.Sequential(*layers)


def _is_later_vgg_layer(key: str) -> bool:
    """Whether a key belongs to the full VGG-19 past relu4_1 (ignored)."""
    index = key.split('.', 1)[0]
    return index.isdigit() and int(index) >= NUM_ENCODER_MODULES


def _shape(value) -> tuple[int, ...] | None:
    """A state-dict value's shape, None for a non-tensor."""
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _first_items(items: list[str]) -> str:
    listed = ', '.join(items[:MAX_LISTED_KEYS])
    return listed + (', ...' if len(items) > MAX_LISTED_KEYS else '')


def load_sequential_checkpoint(
    module: nn.Sequential, path: str, allow_later_vgg_layers: bool = False
) -> None:
    """Load a plain state dict saved from a pytorch-AdaIN Sequential.

    Args:
        module (nn.Sequential): The Sequential to fill, in place.
        path (str): A ``torch.save``-d state dict (keys like ``'0.weight'``).
        allow_later_vgg_layers (bool): Ignore keys of module indices from 31
            on (the full ``vgg_normalised.pth`` goes up to relu5_4).
            Defaults to False.

    Raises:
        ValueError: The file is not a state dict of this layout: the message
            names the file and the first missing, unexpected or mis-shaped
            keys with the expected and found shapes.
    """
    state_dict = torch.load(path, map_location='cpu')
    if not isinstance(state_dict, Mapping):
        raise UserError(
            f"'{path}' holds a {type(state_dict).__name__}, expected a state "
            "dict (a mapping of keys like '0.weight' to tensors)."
        )
    expected = module.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [
        key
        for key in state_dict
        if key not in expected
        and not (allow_later_vgg_layers and _is_later_vgg_layer(key))
    ]
    mismatched = [
        f'{key}: expected {tuple(tensor.shape)}, found {_shape(state_dict[key])}'
        for key, tensor in expected.items()
        if key in state_dict and _shape(state_dict[key]) != tuple(tensor.shape)
    ]
    problems = [
        f'{name} ({len(items)}): {_first_items(items)}'
        for name, items in (
            ('missing keys', missing),
            ('unexpected keys', unexpected),
            ('shape mismatches', mismatched),
        )
        if items
    ]
    if problems:
        raise UserError(
            f"'{path}' does not match the pytorch-AdaIN layout "
            f'({len(expected)} tensors expected): ' + '; '.join(problems) + '.'
        )
    module.load_state_dict({key: state_dict[key] for key in expected})


@MODELS.register_module()
class AdaINStylizer(nn.Module):
    """AdaIN style transfer with a frozen encoder and decoder (inference only).

    Implements "Arbitrary Style Transfer in Real-time with Adaptive Instance
    Normalization" (Huang & Belongie, ICCV 2017) for S-CLAD's texture-swapped
    positives: ``t = α · AdaIN(f(c), f(s)) + (1 − α) · f(c)``, output
    ``g(t)`` clamped to [0, 1], where ``f`` is the VGG-19 encoder up to
    relu4_1 and ``g`` the decoder.

    Weights: the pytorch-AdaIN release (github.com/naoto0804/pytorch-AdaIN,
    "Download models": ``vgg_normalised.pth`` and ``decoder.pth``), plain
    state dicts loaded by path. They are NOT downloaded by this code; without
    them (``None``) the layers keep PyTorch's random init, which is only
    useful for tests.

    Both networks are frozen (``requires_grad=False``) and stay in eval mode
    whatever ``train()`` is called with; ``forward`` runs without autograd.
    The module follows ``.to(device)`` like any other, so on CUDA inputs it
    runs on CUDA once moved there.

    Args:
        encoder_checkpoint (str, optional): Path to ``vgg_normalised.pth``
            (the full file; modules past relu4_1 are ignored) or to a state
            dict of the first 31 modules. Defaults to None (random init).
        decoder_checkpoint (str, optional): Path to ``decoder.pth``.
            Defaults to None (random init).
        alpha (float): Default style strength in [0, 1]: 1 = full AdaIN,
            0 = the decoded content. Defaults to 1.0.
    """

    def __init__(
        self,
        encoder_checkpoint: str | None = None,
        decoder_checkpoint: str | None = None,
        alpha: float = 1.0,
    ):
        super().__init__()
        self.alpha = self._checked_alpha(alpha)
        self.encoder = build_vgg_relu4_1_encoder()
        self.decoder = build_adain_decoder()
        if encoder_checkpoint is not None:
            load_sequential_checkpoint(
                self.encoder, encoder_checkpoint, allow_later_vgg_layers=True
            )
        if decoder_checkpoint is not None:
            load_sequential_checkpoint(self.decoder, decoder_checkpoint)
        self.requires_grad_(False)
        self.train(False)

    @staticmethod
    def _checked_alpha(alpha: float) -> float:
        if not 0.0 <= alpha <= 1.0:
            raise UserError(f'alpha must be in [0, 1], got {alpha}.')
        return float(alpha)

    def train(self, mode: bool = True) -> 'AdaINStylizer':
        """Keep eval mode: the stylizer is a fixed, pretrained transform."""
        return super().train(False)

    @torch.no_grad()
    def forward(
        self,
        content: torch.Tensor,
        style: torch.Tensor,
        alpha: float | None = None,
    ) -> torch.Tensor:
        """Re-texture each content image with its style image.

        Args:
            content (torch.Tensor): RGB images in [0, 1], ``[B, 3, H, W]``.
            style (torch.Tensor): RGB images in [0, 1], ``[B, 3, H', W']``
                (pairs by batch index; the size may differ from the content's).
            alpha (float, optional): Style strength in [0, 1] for this call.
                Defaults to None (the module's ``alpha``).

        Returns:
            torch.Tensor: Stylized images in [0, 1], ``[B, 3, H, W]``. The
            decoder outputs ``8·ceil(H/8)`` rows (likewise columns); sizes
            that are not multiples of 8 are cropped back to ``H × W``.
        """
        alpha = self.alpha if alpha is None else self._checked_alpha(alpha)
        for name, images in (('content', content), ('style', style)):
            if images.dim() != 4 or images.shape[1] != 3:
                raise ValueError(
                    f'{name} must be RGB images [B, 3, H, W], got '
                    f'{tuple(images.shape)}.'
                )
        if content.shape[0] != style.shape[0]:
            raise ValueError(
                'content and style must have the same batch size, got '
                f'{content.shape[0]} and {style.shape[0]}.'
            )
        content_feat = self.encoder(content)
        target = content_feat
        if alpha > 0:
            stylized_feat = adain(content_feat, self.encoder(style))
            target = alpha * stylized_feat + (1 - alpha) * content_feat
        height, width = content.shape[-2:]
        return self.decoder(target)[..., :height, :width].clamp(0, 1)
