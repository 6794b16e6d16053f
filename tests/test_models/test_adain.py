"""Tests of AdaIN stylization (clad_mm/models/stylization/adain.py).

The reference networks below are written out layer by layer as in
pytorch-AdaIN's ``net.py`` (the full normalised VGG-19 to relu5_4 and the
decoder), independently of the component's layout builders, so a saved
``state_dict`` of them stands for the released ``vgg_normalised.pth`` and
``decoder.pth``.
"""

import math

import pytest
import torch
from mmpretrain.registry import MODELS
from torch import nn

from clad_mm.models.stylization.adain import AdaINStylizer, adain


def pad_conv(in_channels, out_channels):
    return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(in_channels, out_channels, 3)]


def pad_conv_relu(in_channels, out_channels):
    return [*pad_conv(in_channels, out_channels), nn.ReLU()]


def pool():
    return nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)


def reference_full_vgg():
    return nn.Sequential(
        nn.Conv2d(3, 3, (1, 1)),
        *pad_conv_relu(3, 64),  # relu1_1
        *pad_conv_relu(64, 64),  # relu1_2
        pool(),
        *pad_conv_relu(64, 128),  # relu2_1
        *pad_conv_relu(128, 128),  # relu2_2
        pool(),
        *pad_conv_relu(128, 256),  # relu3_1
        *pad_conv_relu(256, 256),  # relu3_2
        *pad_conv_relu(256, 256),  # relu3_3
        *pad_conv_relu(256, 256),  # relu3_4
        pool(),
        *pad_conv_relu(256, 512),  # relu4_1: module 30
        *pad_conv_relu(512, 512),  # relu4_2
        *pad_conv_relu(512, 512),  # relu4_3
        *pad_conv_relu(512, 512),  # relu4_4
        pool(),
        *pad_conv_relu(512, 512),  # relu5_1
        *pad_conv_relu(512, 512),  # relu5_2
        *pad_conv_relu(512, 512),  # relu5_3
        *pad_conv_relu(512, 512),  # relu5_4
    )


def reference_decoder():
    return nn.Sequential(
        *pad_conv_relu(512, 256),
        nn.Upsample(scale_factor=2, mode='nearest'),
        *pad_conv_relu(256, 256),
        *pad_conv_relu(256, 256),
        *pad_conv_relu(256, 256),
        *pad_conv_relu(256, 128),
        nn.Upsample(scale_factor=2, mode='nearest'),
        *pad_conv_relu(128, 128),
        *pad_conv_relu(128, 64),
        nn.Upsample(scale_factor=2, mode='nearest'),
        *pad_conv_relu(64, 64),
        *pad_conv(64, 3),
    )


def reference_adain(content_feat, style_feat, eps=1e-5):
    """Eq. 8 of Huang & Belongie with flattened spatial dims (1/HW variance)."""

    def stats(feat):
        flat = feat.flatten(2)
        mean = flat.mean(dim=2)
        var = ((flat - mean[..., None]) ** 2).mean(dim=2)
        return mean[..., None, None], (var + eps).sqrt()[..., None, None]

    content_mean, content_std = stats(content_feat)
    style_mean, style_std = stats(style_feat)
    return style_std * (content_feat - content_mean) / content_std + style_mean


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """Reference networks and their state dicts saved as the release files.

    PyTorch's default init shrinks activations layer after layer, which would
    leave a random decoder's output nearly constant; the 3x3 conv weights are
    scaled by sqrt(6) (ReLU-preserving, as trained weights roughly are) and
    the last bias set to 0.5, so the output spreads inside (0, 1) and depends
    visibly on the features.
    """
    torch.manual_seed(0)
    vgg, decoder = reference_full_vgg().eval(), reference_decoder().eval()
    with torch.no_grad():
        for module in [*vgg, *decoder]:
            if isinstance(module, nn.Conv2d) and module.kernel_size == (3, 3):
                module.weight.mul_(math.sqrt(6))
        decoder[-1].weight.div_(math.sqrt(6))
        decoder[-1].bias.fill_(0.5)
    folder = tmp_path_factory.mktemp('adain_weights')
    paths = {
        'vgg': folder / 'vgg_normalised.pth',
        'decoder': folder / 'decoder.pth',
        'vgg_relu4_1': folder / 'vgg_relu4_1.pth',
    }
    torch.save(vgg.state_dict(), paths['vgg'])
    torch.save(decoder.state_dict(), paths['decoder'])
    torch.save(vgg[:31].state_dict(), paths['vgg_relu4_1'])
    return vgg, decoder, paths


def images(batch, height, width, seed):
    return torch.rand(
        batch, 3, height, width, generator=torch.Generator().manual_seed(seed)
    )


def test_adain_against_hand_computation():
    # One sample, one channel; content 2x2, style 1x3 (sizes may differ).
    content = torch.tensor([[[[1.0, 3.0], [5.0, 7.0]]]])
    style = torch.tensor([[[[10.0, 20.0, 30.0]]]])
    # Content: mean 4, var (9+1+1+9)/4 = 5. Style: mean 20, var 200/3.
    content_std = math.sqrt(5.0 + 1e-5)
    style_std = math.sqrt(200.0 / 3.0 + 1e-5)
    expected = [
        [20.0 + style_std * (value - 4.0) / content_std for value in row]
        for row in ([1.0, 3.0], [5.0, 7.0])
    ]
    result = adain(content, style)
    assert torch.allclose(result[0, 0], torch.tensor(expected), atol=1e-5)
    # A large eps shows where it enters: under the square root.
    ratio = math.sqrt(200.0 / 3.0 + 1.0) / math.sqrt(5.0 + 1.0)
    expected = [
        [20.0 + ratio * (value - 4.0) for value in row]
        for row in ([1.0, 3.0], [5.0, 7.0])
    ]
    result = adain(content, style, eps=1.0)
    assert torch.allclose(result[0, 0], torch.tensor(expected), atol=1e-5)


def test_adain_gives_content_the_style_statistics():
    generator = torch.Generator().manual_seed(1)
    content = torch.randn(2, 6, 5, 7, generator=generator) * 3 + 2
    style = (
        torch.randn(2, 6, 4, 4, generator=generator)
        * torch.arange(1.0, 7.0)[:, None, None]
        - torch.arange(6.0)[:, None, None]
    )
    result = adain(content, style)
    assert result.shape == content.shape
    assert torch.allclose(result.mean(dim=(2, 3)), style.mean(dim=(2, 3)), atol=1e-4)
    assert torch.allclose(
        result.std(dim=(2, 3), unbiased=False),
        style.std(dim=(2, 3), unbiased=False),
        rtol=1e-4,
    )
    # The pattern within each channel is kept (a positive affine map of it).
    assert torch.allclose(result, reference_adain(content, style), atol=1e-5)
    correlation = torch.corrcoef(
        torch.stack([result[0, 0].flatten(), content[0, 0].flatten()])
    )
    assert correlation[0, 1] > 0.9999


def test_adain_rejects_mismatched_channels():
    with pytest.raises(ValueError, match='batch size and channels'):
        adain(torch.zeros(2, 4, 3, 3), torch.zeros(2, 5, 3, 3))


@pytest.mark.parametrize('encoder_file', ['vgg', 'vgg_relu4_1'])
@pytest.mark.parametrize('alpha', [1.0, 0.5])
def test_released_layout_loads_and_matches_reference(reference, encoder_file, alpha):
    vgg, decoder, paths = reference
    stylizer = AdaINStylizer(
        encoder_checkpoint=str(paths[encoder_file]),
        decoder_checkpoint=str(paths['decoder']),
    )
    content, style = images(2, 32, 32, seed=2), images(2, 48, 40, seed=3)
    with torch.no_grad():
        content_feat, style_feat = vgg[:31](content), vgg[:31](style)
        target = (
            alpha * reference_adain(content_feat, style_feat)
            + (1 - alpha) * content_feat
        )
        expected = decoder(target).clamp(0, 1)
    result = stylizer(content, style, alpha=alpha)
    # The check is meaningful: outputs are not clamped flat and differ by pixel.
    assert ((expected > 0) & (expected < 1)).float().mean() > 0.99
    assert expected.std() > 1e-4
    assert torch.allclose(result, expected, atol=1e-5)


def test_alpha_zero_is_the_decoded_content(reference):
    _, _, paths = reference
    stylizer = AdaINStylizer(str(paths['vgg']), str(paths['decoder']), alpha=0.0)
    content = images(2, 32, 32, seed=4)
    decoded = stylizer.decoder(stylizer.encoder(content)).clamp(0, 1)
    assert torch.equal(stylizer(content, images(2, 32, 32, seed=5)), decoded)
    assert torch.equal(stylizer(content, images(2, 64, 64, seed=6)), decoded)
    assert not torch.equal(stylizer(content, images(2, 32, 32, seed=5), 1.0), decoded)


def test_output_range_and_shape(tmp_path, reference):
    _, decoder, paths = reference
    # A decoder whose raw output reaches far outside [0, 1], so clamping shows.
    loud_decoder = reference_decoder()
    loud_decoder.load_state_dict(decoder.state_dict())
    with torch.no_grad():
        loud_decoder[-1].weight.mul_(1000)
    torch.save(loud_decoder.state_dict(), tmp_path / 'loud_decoder.pth')
    stylizer = AdaINStylizer(str(paths['vgg']), str(tmp_path / 'loud_decoder.pth'))
    for height, width in ((32, 32), (36, 44)):
        result = stylizer(images(2, height, width, 7), images(2, 40, 24, 8))
        assert result.shape == (2, 3, height, width)
        assert result.dtype == torch.float32
        assert result.min() == 0 and result.max() == 1


def test_wrong_files_raise_clear_errors(tmp_path, reference):
    vgg, decoder, paths = reference
    with pytest.raises(ValueError) as error:
        AdaINStylizer(encoder_checkpoint=str(paths['decoder']))
    message = str(error.value)
    assert str(paths['decoder']) in message
    assert 'missing keys' in message and '0.weight' in message
    assert 'unexpected keys' in message and '1.weight' in message
    assert '5.weight: expected (64, 64, 3, 3), found (256, 256, 3, 3)' in message

    state_dict = decoder.state_dict()
    state_dict['5.weight'] = torch.zeros(128, 256, 3, 3)
    bad_path = tmp_path / 'reshaped_decoder.pth'
    torch.save(state_dict, bad_path)
    with pytest.raises(ValueError) as error:
        AdaINStylizer(decoder_checkpoint=str(bad_path))
    message = str(error.value)
    assert str(bad_path) in message
    assert '5.weight: expected (256, 256, 3, 3), found (128, 256, 3, 3)' in message

    # Layers past relu4_1 are ignored in the encoder file only.
    state_dict = decoder.state_dict()
    state_dict['40.weight'] = torch.zeros(512, 512, 3, 3)
    torch.save(state_dict, bad_path)
    with pytest.raises(ValueError, match=r'unexpected keys \(1\): 40.weight'):
        AdaINStylizer(decoder_checkpoint=str(bad_path))

    tensor_path = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), tensor_path)
    with pytest.raises(ValueError, match='holds a Tensor, expected a state dict'):
        AdaINStylizer(encoder_checkpoint=str(tensor_path))


def test_frozen_and_built_from_registry():
    stylizer = MODELS.build(dict(type='AdaINStylizer', alpha=0.5))
    assert isinstance(stylizer, AdaINStylizer) and stylizer.alpha == 0.5
    assert not any(parameter.requires_grad for parameter in stylizer.parameters())
    stylizer.train()
    assert not any(module.training for module in stylizer.modules())
    content = images(2, 32, 32, seed=9).requires_grad_()
    assert not stylizer(content, images(2, 32, 32, seed=10)).requires_grad
    with pytest.raises(ValueError, match='alpha must be in'):
        stylizer(content, content, alpha=1.5)
    with pytest.raises(ValueError, match='same batch size'):
        stylizer(content, images(1, 32, 32, seed=11))
    with pytest.raises(ValueError, match=r'RGB images \[B, 3, H, W\]'):
        stylizer(content[:, :1], content)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_runs_on_cuda():
    stylizer = AdaINStylizer().cuda()
    result = stylizer(images(2, 32, 32, 12).cuda(), images(2, 32, 32, 13).cuda())
    assert result.is_cuda and result.shape == (2, 3, 32, 32)
