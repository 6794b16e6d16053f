"""SmoothGrad maths and saliency maps."""

import numpy as np
import pytest
import torch

from clad_mm.analysis.smooth_grad import saliency_map, smooth_grad


class TanhNet(torch.nn.Module):
    """A small smooth classifier, so that finite differences are accurate."""

    def __init__(self, num_classes=4):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 5, 3, padding=1)
        self.fc = torch.nn.Linear(5 * 4 * 4, num_classes)

    def forward(self, images):
        features = torch.tanh(self.conv(images))
        return self.fc(torch.nn.functional.avg_pool2d(features, 2).flatten(1))


@pytest.fixture
def tanh_net():
    torch.manual_seed(0)
    return TanhNet().double().eval()


def test_noiseless_single_sample_is_the_linear_models_weight_row():
    torch.manual_seed(0)
    weight = torch.randn(3, 2 * 4 * 5, dtype=torch.float64)
    images = torch.randn(3, 2, 4, 5, dtype=torch.float64)
    targets = torch.tensor([2, 0, 2])

    gradients = smooth_grad(
        lambda x: x.flatten(1) @ weight.T + 7.0,
        images,
        targets,
        n_samples=1,
        noise_level=0.0,
    )

    # d(W x + b)_c / dx = W[c], whatever x is.
    expected = weight[targets].view(3, 2, 4, 5)
    assert torch.allclose(gradients, expected)


def test_noiseless_single_sample_matches_finite_differences(tanh_net):
    torch.manual_seed(1)
    images = torch.rand(2, 3, 8, 8, dtype=torch.float64) * 255
    targets = torch.tensor([1, 3])

    gradients = smooth_grad(tanh_net, images, targets, n_samples=1, noise_level=0)

    step = 1e-4
    with torch.no_grad():
        for image_index, target in enumerate(targets.tolist()):
            for position in [(0, 0, 0), (1, 3, 4), (2, 7, 7), (0, 5, 2)]:
                plus, minus = images.clone(), images.clone()
                plus[(image_index, *position)] += step
                minus[(image_index, *position)] -= step
                difference = (
                    tanh_net(plus)[image_index, target]
                    - tanh_net(minus)[image_index, target]
                ) / (2 * step)
                assert gradients[(image_index, *position)].item() == pytest.approx(
                    difference.item(), rel=1e-5, abs=1e-9
                )


def test_noisy_result_is_mean_of_gradients_of_noised_images(tanh_net):
    images = torch.zeros(2, 3, 8, 8, dtype=torch.float64)
    images[0, 0, 0, 0] = 10.0  # value range 10
    images[1] = 100.0
    images[1, 2, 3, 3] = 60.0  # value range 40
    targets = torch.tensor([0, 2])
    n_samples, noise_level = 3, 0.2

    gradients = smooth_grad(
        tanh_net,
        images,
        targets,
        n_samples=n_samples,
        noise_level=noise_level,
        generator=torch.Generator().manual_seed(5),
    )

    # Second path: the model's full Jacobian at each explicitly noised image.
    generator = torch.Generator().manual_seed(5)
    noise_std = torch.tensor([0.2 * 10, 0.2 * 40], dtype=torch.float64)
    expected = torch.zeros_like(images)
    for _ in range(n_samples):
        noise = torch.randn(images.shape, generator=generator, dtype=torch.float64)
        noisy = images + noise_std.view(2, 1, 1, 1) * noise
        for index, target in enumerate(targets.tolist()):
            jacobian = torch.autograd.functional.jacobian(
                lambda image: tanh_net(image[None])[0], noisy[index]
            )
            expected[index] += jacobian[target] / n_samples
    assert torch.allclose(gradients, expected, atol=1e-12)

    noiseless = smooth_grad(tanh_net, images, targets, n_samples=1, noise_level=0)
    assert not torch.allclose(gradients, noiseless)


def test_same_seed_same_result_and_integer_images_are_accepted(tanh_net):
    model = tanh_net.float()
    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    targets = torch.tensor([0, 1])

    def run(seed):
        generator = torch.Generator().manual_seed(seed)
        return smooth_grad(model, images, targets, 4, 0.1, generator=generator)

    first = run(0)
    assert first.dtype == torch.float32
    assert torch.equal(first, run(0))
    assert not torch.equal(first, run(1))


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(n_samples=0), 'n_samples'),
        (dict(noise_level=-0.1), 'noise_level'),
        (dict(targets=torch.tensor([0, 1, 2])), '3 targets for a batch of 2'),
        (dict(targets=torch.tensor([0, 4])), 'target class 4 is out of range'),
    ],
)
def test_smooth_grad_rejects_bad_arguments(tanh_net, kwargs, message):
    arguments = dict(
        logits_fn=tanh_net,
        images=torch.rand(2, 3, 8, 8, dtype=torch.float64),
        targets=torch.tensor([0, 1]),
    )
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        smooth_grad(**arguments)


def test_saliency_map_by_hand():
    gradients = torch.zeros(1, 3, 2, 2)
    gradients[0, :, 0, 0] = torch.tensor([1.0, -4.0, 2.0])
    gradients[0, :, 0, 1] = torch.tensor([-2.0, 0.0, 0.0])
    gradients[0, :, 1, 0] = torch.tensor([0.5, 0.5, -0.5])

    maximum = saliency_map(gradients, 'max', clip_percentile=100)
    assert torch.allclose(maximum[0], torch.tensor([[1.0, 0.5], [0.125, 0.0]]))

    # Channel means of |g|: 7/3, 2/3, 1/2, 0; divided by 7/3.
    mean = saliency_map(gradients, 'mean', clip_percentile=100)
    assert torch.allclose(mean[0], torch.tensor([[1.0, 2 / 7], [3 / 14, 0.0]]))


def test_saliency_map_clips_at_the_percentile_in_unit_range():
    torch.manual_seed(0)
    gradients = torch.randn(3, 3, 10, 12) ** 3
    maps = saliency_map(gradients, 'max', clip_percentile=99)

    assert maps.shape == (3, 10, 12)
    assert maps.min() >= 0 and maps.max() <= 1
    for gradient, result in zip(gradients.numpy(), maps.numpy()):
        per_pixel = np.abs(gradient).max(0)
        expected = np.clip(per_pixel / np.percentile(per_pixel, 99), 0, 1)
        np.testing.assert_allclose(result, expected, rtol=1e-5)
    assert (maps == 1).sum() >= 3  # the top 1 % of 120 pixels per image


def test_zero_gradient_gives_zero_map():
    assert torch.equal(saliency_map(torch.zeros(1, 3, 4, 4)), torch.zeros(1, 4, 4))


def test_saliency_map_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'sum'"):
        saliency_map(torch.ones(1, 3, 2, 2), reduction='sum')
    with pytest.raises(ValueError, match='clip_percentile'):
        saliency_map(torch.ones(1, 3, 2, 2), clip_percentile=0)
