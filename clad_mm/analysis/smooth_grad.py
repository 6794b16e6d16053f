"""SmoothGrad saliency maps of MMPretrain classifiers.

Implements SmoothGrad (Smilkov et al., "SmoothGrad: removing noise by adding
noise", 2017), used by CLAD (BMVC 2022, Fig. 6) to show where a model looks:
the gradient of the target class's logit with respect to the input pixels,
averaged over ``n_samples`` copies of the image with Gaussian noise of
standard deviation ``noise_level * (max - min)`` of that image (25 copies and
0.15 are the paper's and its reference library's defaults). The map is the
per-pixel maximum of the absolute gradient over the colour channels
(Simonyan et al., 2014; ``reduction='mean'`` averages them instead), divided
per image by its 99th percentile and clipped to 1 (``clip_percentile``), as
the authors' PAIR saliency library does for display, so that a handful of
extreme pixels does not leave the rest of the map black; zero stays zero.

Gradients are taken with respect to the *raw* image, the 0-255 tensor that
the config's test pipeline produces, and the model's ``data_preprocessor``
(channel order, mean/std, padding) runs inside the differentiated function.
Thus the noise is defined in pixel space, so every model of a comparison gets
the very same noisy images whatever its normalisation statistics, and the map
covers exactly the pixels shown. Against the normalised input the gradient
differs only by the constant factor ``1 / std`` of each channel.

Where an image has a foreground mask, the mask goes through the same test
pipeline (:func:`pipeline_mask`) and :func:`attention_in_mask` gives the
share of the map inside it next to the share of the image it covers.
:func:`clad_mm.visualization.saliency.plot_saliency_grid` draws the maps.
"""

import math
import os.path as osp
import re
from collections.abc import Callable, Sequence

import numpy as np
import torch

from clad_mm.apis.inference_pipeline import InferencePipeline
from clad_mm.datasets.transforms.load_foreground_mask import LoadForegroundMask
from clad_mm.utils.errors import UserError

SALIENCY_REDUCTIONS = ('max', 'mean')
SALIENCY_TARGETS = ('label', 'pred')
_CLASS_FOLDER = re.compile(r'^(\d+)_(.+)$')


def smooth_grad(
    logits_fn: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    targets: torch.Tensor,
    n_samples: int = 25,
    noise_level: float = 0.15,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """SmoothGrad: the input gradient of the target logit, averaged over noise.

    For every ``s`` in ``range(n_samples)`` one noise tensor of the batch's
    shape is drawn with ``torch.randn(images.shape, generator=generator,
    dtype=dtype)`` on the CPU (so that a seed gives the same maps on every
    device), ``dtype`` being that of the images (float32 for integer ones),
    scaled per image by ``noise_level * (image.max() - image.min())`` and
    added to the batch; the noisy images are not clipped, as in the paper.
    The model must be in eval mode, so that images of a batch do not affect
    each other.

    Args:
        logits_fn (Callable): Maps a float batch ``(B, C, H, W)`` to logits
            ``(B, num_classes)``; it must be differentiable.
        images (torch.Tensor): Batch ``(B, C, H, W)``; integer images are
            converted to float32.
        targets (torch.Tensor): Class index of every image, shape ``(B,)``.
        n_samples (int): Noisy copies per image. Defaults to 25.
        noise_level (float): Noise standard deviation relative to each
            image's value range; 0 gives the plain gradient. Defaults to 0.15.
        generator (torch.Generator, optional): CPU generator of the noise;
            torch's global one when None.

    Returns:
        torch.Tensor: Mean gradient, with the shape and (float) dtype of
        ``images``.

    Raises:
        ValueError: If ``n_samples < 1``, ``noise_level < 0``, the targets do
            not match the batch, or ``logits_fn`` returns no ``(B, K)`` logits
            with every target below ``K``.
    """
    if n_samples < 1:
        raise UserError(f'n_samples must be at least 1, got {n_samples}')
    if noise_level < 0:
        raise UserError(f'noise_level must be non-negative, got {noise_level}')
    images = images.detach()
    if not images.is_floating_point():
        images = images.float()
    targets = torch.as_tensor(targets, device=images.device).long().view(-1)
    if targets.numel() != images.size(0):
        raise ValueError(
            f'{targets.numel()} targets for a batch of {images.size(0)} images'
        )
    value_range = images.flatten(1).amax(1) - images.flatten(1).amin(1)
    noise_std = (noise_level * value_range).view(-1, 1, 1, 1)
    gradient_sum = torch.zeros_like(images)
    with torch.enable_grad():
        for _ in range(n_samples):
            noise = torch.randn(images.shape, generator=generator, dtype=images.dtype)
            noisy = (images + noise_std * noise.to(images.device)).requires_grad_()
            logits = logits_fn(noisy)
            if logits.dim() != 2 or logits.size(0) != images.size(0):
                raise ValueError(
                    f'expected logits of shape ({images.size(0)}, num_classes), '
                    f'got {tuple(logits.shape)}'
                )
            if int(targets.max()) >= logits.size(1):
                raise ValueError(
                    f'target class {int(targets.max())} is out of range for '
                    f'{logits.size(1)} classes'
                )
            target_logits = logits.gather(1, targets.view(-1, 1)).sum()
            (gradient,) = torch.autograd.grad(target_logits, noisy)
            gradient_sum += gradient
    return gradient_sum / n_samples


def saliency_map(
    gradients: torch.Tensor, reduction: str = 'max', clip_percentile: float = 99.0
) -> torch.Tensor:
    """Per-pixel saliency in [0, 1] from input gradients.

    Args:
        gradients (torch.Tensor): Input gradients ``(B, C, H, W)``.
        reduction (str): ``'max'`` or ``'mean'`` of the absolute gradient
            over channels. Defaults to ``'max'``.
        clip_percentile (float): Each image's map is divided by this
            percentile of its values and clipped to 1; 100 divides by the
            maximum. Defaults to 99.

    Returns:
        torch.Tensor: Maps ``(B, H, W)`` in [0, 1]; an all-zero gradient
        gives an all-zero map.

    Raises:
        ValueError: If ``reduction`` or ``clip_percentile`` is invalid.
    """
    if reduction not in SALIENCY_REDUCTIONS:
        raise UserError(
            f'reduction must be one of {SALIENCY_REDUCTIONS}, got {reduction!r}'
        )
    if not 0 < clip_percentile <= 100:
        raise UserError(f'clip_percentile must be in (0, 100], got {clip_percentile}')
    magnitude = gradients.detach().float().abs()
    maps = magnitude.amax(1) if reduction == 'max' else magnitude.mean(1)
    # One image at a time: torch.quantile refuses inputs over 16M values.
    ceilings = torch.stack(
        [torch.quantile(m.flatten(), clip_percentile / 100) for m in maps]
    ).view(-1, 1, 1)
    normalised = maps / ceilings.clamp_min(torch.finfo(maps.dtype).tiny)
    return normalised.clamp(0, 1)


def attention_in_mask(
    attention: torch.Tensor, mask: torch.Tensor
) -> tuple[float, float]:
    """The share of a map's attention on the object, and the object's area.

    With the map ``A`` and the soft foreground mask ``M`` over ``N`` pixels:
    ``p_att = Σ(A·M) / ΣA``, the fraction of the attention inside the mask,
    and ``p_img = ΣM / N``, the fraction of the image the mask covers, which
    is what ``p_att`` would be for a map spread evenly over the image. The
    attention score of :mod:`clad_mm.analysis.attention_score` and the
    captions of the saliency grid both come from here.

    Args:
        attention (torch.Tensor): ``(H, W)`` map ``A``, non-negative (a
            saliency or attention map).
        mask (torch.Tensor): ``(H, W)`` soft foreground mask ``M`` in [0, 1].

    Returns:
        tuple[float, float]: ``(p_att, p_img)``; ``p_att`` is NaN when
        ``ΣA = 0`` (no attention to share out).

    Raises:
        ValueError: If the shapes differ, the map has negative values or the
            mask values outside [0, 1].
    """
    if attention.shape != mask.shape or attention.dim() != 2:
        raise ValueError(
            f'attention {tuple(attention.shape)} and mask {tuple(mask.shape)} '
            'must be (H, W) maps of one size'
        )
    attention = attention.detach().double()
    mask = mask.detach().double()
    if attention.min() < 0:
        raise ValueError(f'attention must be non-negative, got {attention.min()}')
    if mask.min() < 0 or mask.max() > 1:
        raise ValueError(
            f'mask values must lie in [0, 1], got {mask.min()} to {mask.max()}'
        )
    total_attention = float(attention.sum())
    image_fraction = float(mask.mean())
    if total_attention == 0:
        return math.nan, image_fraction
    return float((attention * mask).sum()) / total_attention, image_fraction


def classifier_logits(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Logits of an MMPretrain classifier for raw pipeline images.

    Args:
        model (torch.nn.Module): An MMPretrain classifier (``ImageClassifier``
            or a subclass) with its ``data_preprocessor``.
        images (torch.Tensor): Float batch ``(B, C, H, W)`` as the test
            pipeline packs it (0-255, the channel order it loads).

    Returns:
        torch.Tensor: ``(B, num_classes)`` logits, differentiable with
        respect to ``images``.
    """
    inputs = model.data_preprocessor({'inputs': images}, False)['inputs']
    return model(inputs, mode='tensor')


def class_names(model: torch.nn.Module) -> tuple | None:
    """Class names the model's checkpoint or config declares, if any.

    Args:
        model (torch.nn.Module): As returned by
            :func:`clad_mm.apis.load_classifier`.

    Returns:
        tuple | None: The names, index by index, or None.
    """
    # mmpretrain.apis.get_model keeps the dataset meta in this attribute,
    # which MMPretrain's inferencers read too.
    classes = (getattr(model, '_dataset_meta', None) or {}).get('classes')
    return tuple(classes) if classes else None


def label_from_class_folder(img_path: str) -> tuple[int, str] | tuple[None, None]:
    """Label and class name of an image in a ``NN_<name>`` class folder.

    The Background Challenge, CLAD's release and SynBG store an image of
    class ``NN`` as ``.../NN_<name>/<stem>.<ext>`` (e.g. ``00_dog``).

    Args:
        img_path (str): Image file.

    Returns:
        tuple: ``(NN, name)``, or ``(None, None)`` for another folder.
    """
    match = _CLASS_FOLDER.match(osp.basename(osp.dirname(osp.abspath(img_path))))
    if match is None:
        return None, None
    return int(match.group(1)), match.group(2)


def foreground_mask_path(img_path: str) -> str | None:
    """The Background Challenge foreground mask of a test image, if present.

    A test image ``<root>/<split>/<subset>/<class>/<stem>.<ext>`` (any split:
    the mixed and background splits keep the object's place) has its mask
    in ``<root>/fg_mask/<subset>/<class>/<stem>.npy``, as
    :class:`~clad_mm.datasets.BGChallengeTestDataset` reads it.

    Args:
        img_path (str): Image file.

    Returns:
        str | None: The mask file (relative when ``img_path`` is), or None
        when it does not exist.
    """
    class_dir = osp.dirname(osp.abspath(img_path))
    subset_dir = osp.dirname(class_dir)
    root = osp.dirname(osp.dirname(subset_dir))
    path = osp.join(
        root,
        'fg_mask',
        osp.basename(subset_dir),
        osp.basename(class_dir),
        osp.splitext(osp.basename(img_path))[0] + '.npy',
    )
    if not osp.isfile(path):
        return None
    # Relative like the image's path, as the tools' reports name files.
    return path if osp.isabs(img_path) else osp.relpath(path)


def pipeline_mask(
    pipeline: InferencePipeline, img_path: str, mask_path: str
) -> np.ndarray:
    """A binary foreground mask through a test pipeline's geometry.

    The mask is read by :class:`~clad_mm.datasets.transforms.LoadForegroundMask`
    (which checks that it has the image's size) and, as a 3-channel 0/255
    image in place of the loaded one, goes through the transforms after
    ``LoadImageFromFile``, so that a resize or crop moves it exactly as the
    image (resizing makes its border soft). This holds for test pipelines
    whose geometry does not depend on the pixels, as every clad_mm config's.

    Args:
        pipeline (InferencePipeline): The model's test pipeline.
        img_path (str): The image the mask belongs to.
        mask_path (str): Its mask file (``.npy`` or an image, binary).

    Returns:
        np.ndarray: ``(H, W)`` float32 mask in [0, 1], of the size of the
        image the model sees.

    Raises:
        UserError: Naming the mask, if it cannot be read, is not binary or
            differs in size from the image.
    """
    loaded = LoadForegroundMask()(
        dict(
            img=pipeline.load_image(img_path),
            img_path=img_path,
            fg_mask_path=mask_path,
            fg_mask_source='mask',
        )
    )
    as_image = np.repeat(loaded['fg_mask'][:, :, None] * 255, 3, axis=2)
    return pipeline(as_image)['inputs'][0].float().numpy() / 255


def explain_images(
    model: torch.nn.Module,
    img_paths: Sequence[str],
    target: str = 'label',
    n_samples: int = 25,
    noise_level: float = 0.15,
    seed: int = 0,
    reduction: str = 'max',
    clip_percentile: float = 99.0,
    batch_size: int = 8,
    progress=None,
    mask_paths: Sequence[str | None] | None = None,
) -> list[dict]:
    """Prediction and SmoothGrad map of a classifier for each image.

    Images go through the config's test pipeline; consecutive images of one
    size share a batch of at most ``batch_size``. The noise generator is
    seeded with ``seed`` at the start, so that two models with the same
    pipeline see the same noisy images.

    Args:
        model (torch.nn.Module): As returned by
            :func:`clad_mm.apis.load_classifier`.
        img_paths (Sequence[str]): Image files.
        target (str): ``'label'``: the true class, read from the image's
            ``NN_<name>`` folder (:func:`label_from_class_folder`);
            ``'pred'``: the class the model predicts. Defaults to ``'label'``.
        n_samples (int): See :func:`smooth_grad`.
        noise_level (float): See :func:`smooth_grad`.
        seed (int): Seed of the noise. Defaults to 0.
        reduction (str): See :func:`saliency_map`.
        clip_percentile (float): See :func:`saliency_map`.
        batch_size (int): Images per forward pass. Defaults to 8.
        progress (mmengine.utils.ProgressBar, optional): Advanced by one per
            image.
        mask_paths (Sequence[str | None], optional): A foreground mask file
            per image (None where an image has none), e.g. from
            :func:`foreground_mask_path`. Defaults to no masks.

    Returns:
        list[dict]: Per image ``image`` (``(C, H, W)`` uint8 numpy array as
        the pipeline packs it), ``saliency`` (``(H, W)`` float numpy array in
        [0, 1]), ``pred_label``, ``pred_score`` (softmax), ``pred_class``
        (name, or the index as text when the model has no class names),
        ``target_label``, and from the mask (:func:`pipeline_mask`; None
        without one): ``mask`` (``(H, W)`` float array in [0, 1]),
        ``mask_area`` (the share of the image it covers) and
        ``saliency_in_mask`` (the share of the map's sum inside it, see
        :func:`attention_in_mask`; also None for an all-zero map).

    Raises:
        ValueError: If ``target`` is invalid, or ``'label'`` while an image
            is not in a class folder, its label is out of the model's range,
            or the model names that class differently; or if ``mask_paths``
            does not hold one entry per image.
        UserError: Naming a mask that cannot be read, is not binary or
            differs in size from its image.
    """
    if target not in SALIENCY_TARGETS:
        raise UserError(f'target must be one of {SALIENCY_TARGETS}, got {target!r}')
    if mask_paths is not None and len(mask_paths) != len(img_paths):
        raise ValueError(
            f'{len(mask_paths)} mask paths for {len(img_paths)} images; give one '
            'per image (None where an image has no mask)'
        )
    pipeline = InferencePipeline(model._config)
    images = [pipeline(path)['inputs'] for path in img_paths]
    masks = [
        None if mask_path is None else pipeline_mask(pipeline, img_path, mask_path)
        for img_path, mask_path in zip(
            img_paths, mask_paths or [None] * len(img_paths), strict=True
        )
    ]
    names = class_names(model)
    num_classes = getattr(model.head, 'num_classes', None)
    labels = [
        _checked_label(path, names, num_classes) if target == 'label' else None
        for path in img_paths
    ]
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    results = []
    for batch in _same_size_batches(images, batch_size):
        inputs = torch.stack([images[i] for i in batch]).float().to(device)
        with torch.no_grad():
            scores = classifier_logits(model, inputs).softmax(1)
        pred_scores, pred_labels = scores.max(1)
        targets = (
            pred_labels
            if target == 'pred'
            else torch.tensor([labels[i] for i in batch])
        )
        gradients = smooth_grad(
            lambda x: classifier_logits(model, x),
            inputs,
            targets,
            n_samples=n_samples,
            noise_level=noise_level,
            generator=generator,
        )
        maps = saliency_map(gradients, reduction, clip_percentile).cpu().numpy()
        for row, index in enumerate(batch):
            pred_label = int(pred_labels[row])
            mask = masks[index]
            in_mask, area = (
                (None, None)
                if mask is None
                else attention_in_mask(
                    torch.from_numpy(maps[row]), torch.from_numpy(mask)
                )
            )
            results.append(
                dict(
                    image=images[index].numpy().astype(np.uint8),
                    saliency=maps[row],
                    pred_label=pred_label,
                    pred_score=float(pred_scores[row]),
                    pred_class=names[pred_label] if names else str(pred_label),
                    target_label=int(targets[row]),
                    mask=mask,
                    mask_area=area,
                    saliency_in_mask=(
                        None if in_mask is None or math.isnan(in_mask) else in_mask
                    ),
                )
            )
        if progress is not None:
            progress.update(len(batch))
    return results


def _checked_label(img_path, names, num_classes) -> int:
    label, folder_class = label_from_class_folder(img_path)
    if label is None:
        raise UserError(
            f'the true class of {img_path!r} is unknown: its folder is not '
            'named NN_<class> (e.g. 00_dog); explain the predicted class '
            "instead (target='pred', --target pred)"
        )
    if num_classes is not None and label >= num_classes:
        raise UserError(
            f'{img_path!r} is of class {label} ({folder_class}) but the model '
            f'has {num_classes} classes; explain the predicted class instead '
            "(target='pred', --target pred)"
        )
    if names is not None and names[label].lower() != folder_class.lower():
        raise UserError(
            f'{img_path!r} is in folder of class {label} ({folder_class!r}) but '
            f'the model calls class {label} {names[label]!r}; the labels do not '
            "match, explain the predicted class instead (target='pred', "
            '--target pred)'
        )
    return label


def _same_size_batches(images, batch_size):
    batch = []
    for index, image in enumerate(images):
        if batch and (
            len(batch) == batch_size or images[batch[0]].shape != image.shape
        ):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch
