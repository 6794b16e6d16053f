"""The attention score of deep-metric-learning models on the foreground.

Kobs & Hotho, `On Background Bias in Deep Metric Learning
<https://arxiv.org/abs/2210.01615>`_ (ICMV 2022, §6), measure how much of an
embedding model's attention falls on the object rather than the background,
as the authors' public code does:

1. **Gradients.** For a clean test image ``x`` (the raw 0-255 tensor of the
   config's test pipeline) draw ``S = 25`` noisy copies ``x + ε``,
   ``ε ~ N(0, (0.15 · (max x − min x))²)`` per pixel and channel, and take,
   per copy, the gradient of the distance between ``f(x + ε)`` and
   ``f(black)``, the embedding of the all-black image of the same size. The
   distance is the one of the model's loss,
   ``model.head.loss_module.distance`` (a pytorch-metric-learning distance:
   ``LpDistance`` for pair losses, ``CosineSimilarity`` for ArcFace or
   normalized softmax; its sign does not matter, an ``abs`` follows), or
   ``LpDistance()`` if the head has none. As in
   :mod:`clad_mm.analysis.smooth_grad`, the model's ``data_preprocessor``
   runs inside the differentiated function, so the noise is in pixel space.
2. **Map** (:func:`attention_map`). Per copy the gradient's *signed* mean
   over the colour channels, then its absolute value summed over the
   copies: ``g = Σ_s |mean_c ∂d_s/∂x_c|``. Then
   ``A = clip((g − min g) / (q99(g) − min g), 0, 1)`` with ``q99`` the 0.99
   quantile of the map's values (linear interpolation).
3. **Score** (:func:`attention_score`). With the soft foreground mask ``M``
   (values in [0, 1]) over ``N`` pixels, ``p_img = ΣM / N``,
   ``p_att = Σ(A·M) / ΣA`` and ``score = (p_att − p_img) / (1 − p_img)``:
   1 when all attention is on the object, 0 when it is spread like the mask
   area (uniform attention), negative when it favours the background (−p_img
   / (1 − p_img) when it is all on the background).

**Mask geometry.** The score compares the map with the mask pixel by pixel,
so the mask must go through the test pipeline's resize and crop exactly as
the image does. ``PackInputs`` drops the ``fg_matte`` that
``LoadForegroundMatte`` loads, and re-implementing the geometry would have to
follow every transform a config may list. :class:`CleanTestSamples` therefore
runs the test pipeline twice: once on the image (the clean test image as
``tools/test.py`` sees it) and once with the matte, replicated to a 3-channel
uint8 image, in place of the loaded image. Both runs are on samples marked
clean (``bg_draw = -1``), which ``ApplyToReplacedCopies`` passes unchanged
(no background is replaced), so the second
run applies exactly the same geometric transforms to the matte: correct for
ResizeEdge + CenterCrop (the real data) as for no geometry at all (the 64 px
demo), and for any other test geometry that does not depend on the pixels.
The matte is quantised to 1/255 on the way, lossless for the 8-bit mattes of
the retrieval datasets.

**Degenerate cases** give a NaN score: an all-zero map (``ΣA = 0``, e.g. a
constant gradient), where ``p_att`` is undefined; a mask that covers every
pixel fully (``p_img = 1``), where the normalisation divides by zero; and an
empty mask (``p_img = 0``), where every map would score exactly 0, which
would read as "uniform attention" although there is no object to attend.
"""

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from mmcv.transforms import Compose, LoadImageFromFile
from mmengine.config import Config
from mmpretrain.models.retrievers import BaseRetriever
from mmpretrain.registry import DATASETS, TRANSFORMS
from pytorch_metric_learning.distances import BaseDistance, LpDistance

from clad_mm.analysis.smooth_grad import attention_in_mask, smooth_grad
from clad_mm.apis.classifier_loading import read_checkpoint, require_checkpoint_fits
from clad_mm.datasets.sample_diagnosis import prepare_or_name_bad_file
from clad_mm.datasets.transforms.load_foreground_matte import read_matte
from clad_mm.utils.errors import UserError

#: The paper's number of noisy copies and noise level (relative to the range).
DEFAULT_COPIES = 25
DEFAULT_NOISE_LEVEL = 0.15
#: The quantile that maps to attention 1 (larger gradients are clipped).
CLIP_QUANTILE = 0.99


def distance_gradients(
    embed_fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    reference_embedding: torch.Tensor,
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    n_samples: int = DEFAULT_COPIES,
    noise_level: float = DEFAULT_NOISE_LEVEL,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-copy input gradients of the distance to a reference embedding.

    The ``n_samples`` noisy copies form one batch, given to
    :func:`~clad_mm.analysis.smooth_grad.smooth_grad` with one noise draw:
    its noise is ``noise_level * (image.max() - image.min())`` times
    ``torch.randn((n_samples, C, H, W), generator=generator)``, and, the
    copies being independent of each other (eval mode), the gradient of the
    batch's summed distance is each copy's own gradient. The authors' map
    needs those per-copy gradients, which SmoothGrad's average over copies
    would lose.

    Args:
        embed_fn (Callable): Maps a float batch ``(B, C, H, W)`` to
            embeddings ``(B, D)``; it must be differentiable.
        image (torch.Tensor): One image ``(C, H, W)``; integer images are
            converted to float32.
        reference_embedding (torch.Tensor): The ``(1, D)`` embedding the
            distance is measured to (the black image's).
        distance (Callable): Maps ``(B, D)`` and ``(1, D)`` embeddings to
            ``(B, 1)`` distances, e.g. a pytorch-metric-learning distance.
        n_samples (int): Noisy copies. Defaults to 25.
        noise_level (float): Noise standard deviation relative to the
            image's value range; 0 gives the plain gradient. Defaults to 0.15.
        generator (torch.Generator, optional): CPU generator of the noise;
            torch's global one when None.

    Returns:
        torch.Tensor: ``(n_samples, C, H, W)`` gradients, one per copy.

    Raises:
        UserError: If ``n_samples < 1`` or ``noise_level < 0``.
    """
    if n_samples < 1:
        raise UserError(f'n_samples must be at least 1, got {n_samples}')
    copies = image.unsqueeze(0).repeat(n_samples, 1, 1, 1)
    return smooth_grad(
        lambda batch: distance(embed_fn(batch), reference_embedding),
        copies,
        torch.zeros(n_samples, dtype=torch.long),
        n_samples=1,
        noise_level=noise_level,
        generator=generator,
    )


def attention_map(channel_mean_gradients: torch.Tensor) -> torch.Tensor:
    """The authors' attention map from per-copy channel-mean gradients.

    ``g = Σ_s |G_s|`` over the copies ``s``, then
    ``clip((g − min g) / (q99(g) − min g), 0, 1)``. When ``q99(g) = min g``
    (about 99 % of the pixels or more share the minimum), the expression's
    limit is taken: 1 where ``g > min g``, 0 elsewhere (all 0 for a
    constant ``g``).

    Args:
        channel_mean_gradients (torch.Tensor): ``(S, H, W)``: per noisy copy,
            the input gradient's signed mean over the colour channels.

    Returns:
        torch.Tensor: The ``(H, W)`` float64 map, values in [0, 1].

    Raises:
        ValueError: If the input is not three-dimensional.
    """
    if channel_mean_gradients.dim() != 3:
        raise ValueError(
            'expected per-copy channel-mean gradients of shape (S, H, W), got '
            f'{tuple(channel_mean_gradients.shape)}'
        )
    magnitude = channel_mean_gradients.detach().double().abs().sum(0)
    floor = magnitude.min()
    ceiling = torch.quantile(magnitude.flatten(), CLIP_QUANTILE)
    if ceiling <= floor:
        return (magnitude > floor).double()
    return ((magnitude - floor) / (ceiling - floor)).clamp(0, 1)


def attention_score(attention: torch.Tensor, mask: torch.Tensor) -> float:
    """How much more of the attention is on the object than its area.

    ``p_img = ΣM / N``, ``p_att = Σ(A·M) / ΣA`` (both from
    :func:`~clad_mm.analysis.smooth_grad.attention_in_mask`),
    ``score = (p_att − p_img) / (1 − p_img)``.

    Args:
        attention (torch.Tensor): ``(H, W)`` map ``A``, non-negative.
        mask (torch.Tensor): ``(H, W)`` soft foreground mask ``M`` in [0, 1].

    Returns:
        float: The score, at most 1; NaN when ``ΣA = 0``, ``p_img = 1`` or
        ``p_img = 0`` (see the module's notes).

    Raises:
        ValueError: If the shapes differ, the map has negative values or the
            mask values outside [0, 1].
    """
    attention_fraction, image_fraction = attention_in_mask(attention, mask)
    if math.isnan(attention_fraction) or image_fraction in (0.0, 1.0):
        return math.nan
    return (attention_fraction - image_fraction) / (1 - image_fraction)


def embedding_distance(model: torch.nn.Module) -> BaseDistance:
    """The distance of a retriever's loss, or ``LpDistance()`` without one.

    Args:
        model (torch.nn.Module): A retriever, e.g.
            :class:`~clad_mm.models.retrievers.DMLRetriever`.

    Returns:
        BaseDistance: ``model.head.loss_module.distance``, if any.
    """
    loss_module = getattr(getattr(model, 'head', None), 'loss_module', None)
    distance = getattr(loss_module, 'distance', None)
    return distance if distance is not None else LpDistance()


def retriever_embeddings(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Embeddings of raw pipeline images, differentiable w.r.t. the images.

    Args:
        model (torch.nn.Module): A retriever with ``data_preprocessor`` and
            ``extract_feat``.
        images (torch.Tensor): Float batch ``(B, C, H, W)`` as the test
            pipeline packs it (0-255, the channel order it loads).

    Returns:
        torch.Tensor: ``(B, D)`` embeddings.
    """
    inputs = model.data_preprocessor({'inputs': images}, False)['inputs']
    return model.extract_feat(inputs)


def load_retriever(config: Config, checkpoint: str, device: str = 'cpu'):
    """Builds a config's retriever and loads a checkpoint that fits it all.

    Unlike a classifier (:func:`clad_mm.apis.load_classifier`), a
    retriever's embedding lives in ``image_encoder``, so every tensor of the
    model must be in the checkpoint with its shape
    (:func:`~clad_mm.apis.require_checkpoint_fits` with ``whole_model``).

    Args:
        config (Config): The MMPretrain config of the retriever.
        checkpoint (str): Path or URL of the checkpoint (read safely).
        device (str): Device to put the model on. Defaults to ``'cpu'``.

    Returns:
        torch.nn.Module: The model in eval mode, its config in ``_config``.

    Raises:
        UserError: If the config's model is no retriever, or the checkpoint
            cannot be read or does not fit.
    """
    # Lazy: importing mmpretrain.apis registers every inferencer.
    from mmpretrain.apis import get_model

    model = get_model(config)
    if not isinstance(model, BaseRetriever):
        raise UserError(
            f'config {config.filename} builds a {type(model).__name__}, not a '
            'retriever (e.g. DMLRetriever) whose embeddings the attention score '
            'is defined on'
        )
    state_dict, _ = read_checkpoint(checkpoint)
    require_checkpoint_fits(model, state_dict, checkpoint, config, whole_model=True)
    # Strictness is checked above (a missing BatchNorm step counter is fine).
    model.load_state_dict(state_dict, strict=False)
    return model.to(device).eval()


@dataclass
class AttentionSample:
    """A clean test image and its foreground mask, as the model sees them.

    Attributes:
        img_path (str): The image file.
        image (torch.Tensor): ``(C, H, W)`` uint8 tensor of the test pipeline.
        mask (torch.Tensor): ``(H, W)`` float32 mask in [0, 1], through the
            same geometry.
    """

    img_path: str
    image: torch.Tensor
    mask: torch.Tensor


class CleanTestSamples(Sequence):
    """The clean images of a config's test set with their masks, lazily.

    Builds ``test_dataloader.dataset`` with ``background_draws=0`` (each
    image once) and ``test_mode=True``, and runs its test pipeline on every
    sample marked as the clean copy, ``bg_draw = -1``, which
    ``ApplyToReplacedCopies`` passes unchanged: exactly the clean test images
    ``tools/test.py`` sees. (The retrieval datasets leave ``bg_draw`` out
    without draws, hence it is set here; a ``BGAugment`` outside that
    wrapper would replace the background of every test image, in
    ``tools/test.py`` too.) The
    data infos must carry ``mask_path`` (the dataset's ``masks_root``). See
    the module's notes for how the mask follows the pipeline's geometry.

    Args:
        config (Config): A retrieval config whose test pipeline starts with
            ``LoadImageFromFile``.
        max_images (int, optional): Keep this many images, evenly spaced
            over the test set (which lists class after class, so that the
            subset spans the classes); all when None.

    Raises:
        UserError: If the config has no test dataset, its pipeline does not
            start with ``LoadImageFromFile``, the test set is empty or its
            samples have no mask.
    """

    def __init__(self, config: Config, max_images: int | None = None):
        try:
            dataset_cfg = config.test_dataloader.dataset.copy()
            pipeline_cfg = dataset_cfg.pipeline
        except AttributeError:
            raise UserError(
                f'config {config.filename} has no test_dataloader.dataset with '
                'a pipeline to take the test images from'
            ) from None
        # The pipeline runs here, on samples marked clean.
        dataset_cfg.update(background_draws=0, test_mode=True, pipeline=[])
        self._dataset = DATASETS.build(dataset_cfg)
        transforms = [TRANSFORMS.build(transform) for transform in pipeline_cfg]
        if not transforms or not isinstance(transforms[0], LoadImageFromFile):
            raise UserError(
                f'the test pipeline of config {config.filename} must start with '
                'LoadImageFromFile, which the mask replaces to get the same '
                'geometry'
            )
        self._pipeline = Compose(transforms)
        self._after_loading = Compose(transforms[1:])
        size = len(self._dataset)
        if size == 0:
            raise UserError(f'the test set of config {config.filename} is empty')
        if 'mask_path' not in self._dataset.get_data_info(0):
            raise UserError(
                f'the test set of config {config.filename} has no foreground '
                'masks; set test_dataloader.dataset.masks_root'
            )
        count = size if max_images is None else min(max_images, size)
        self.indices = np.unique(np.linspace(0, size - 1, count).round().astype(int))

    @property
    def img_paths(self) -> list[str]:
        """The image files, in order."""
        return [self._clean_info(int(index))['img_path'] for index in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> AttentionSample:
        """The image and its mask through the test pipeline.

        Args:
            position (int): Position in the (subsampled) list.

        Returns:
            AttentionSample: The sample.

        Raises:
            UserError: Naming the image or mask file that cannot be read.
            ValueError: If the pipeline gives the mask another size than the
                image (a geometry that depends on the pixels).
        """
        index = int(self.indices[position])
        image = prepare_or_name_bad_file(
            lambda i: self._pipeline(self._clean_info(i))['inputs'],
            self._clean_info,
            index,
        )
        info = self._clean_info(index)
        matte = np.rint(read_matte(info['mask_path']) * 255).astype(np.uint8)
        info.update(
            img=np.repeat(matte[:, :, None], 3, axis=2),
            img_shape=matte.shape,
            ori_shape=matte.shape,
        )
        mask = self._after_loading(info)['inputs'][0].float() / 255
        if mask.shape != image.shape[1:]:
            raise ValueError(
                f'the test pipeline makes the mask of {info["img_path"]} '
                f'{tuple(mask.shape)} but the image {tuple(image.shape[1:])}'
            )
        return AttentionSample(info['img_path'], image, mask)

    def _clean_info(self, index: int) -> dict:
        return dict(self._dataset.get_data_info(index), bg_draw=-1)


def score_attention(
    model: torch.nn.Module,
    samples: Sequence[AttentionSample],
    n_samples: int = DEFAULT_COPIES,
    noise_level: float = DEFAULT_NOISE_LEVEL,
    seed: int = 0,
    map_positions: Collection[int] = (),
    progress=None,
) -> tuple[list[float], dict[int, np.ndarray]]:
    """The attention score of a retriever on each sample.

    The ``n_samples`` noisy copies of an image form one batch. The noise
    generator is seeded with ``seed`` at the start, so that two models with
    the same pipeline see the same noisy images. The black image's
    embedding is computed once per image size.

    Args:
        model (torch.nn.Module): A retriever in eval mode, e.g. from
            :func:`load_retriever`.
        samples (Sequence[AttentionSample]): The images and masks, e.g.
            :class:`CleanTestSamples`.
        n_samples (int): Noisy copies per image. Defaults to 25.
        noise_level (float): See :func:`distance_gradients`. Defaults to 0.15.
        seed (int): Seed of the noise. Defaults to 0.
        map_positions (Collection[int]): Positions in ``samples`` whose maps
            to return (keeping every map of a large test set would not fit in
            memory). Defaults to none.
        progress (mmengine.utils.ProgressBar, optional): Advanced by one per
            image (it prints the elapsed time and an ETA).

    Returns:
        tuple: The score of every sample (NaN for the degenerate cases of
        :func:`attention_score`), and the ``(H, W)`` float32 attention maps
        of ``map_positions``.
    """
    device = next(model.parameters()).device
    distance = embedding_distance(model)
    generator = torch.Generator().manual_seed(seed)
    black_embeddings = {}
    scores, maps = [], {}
    for position in range(len(samples)):
        sample = samples[position]
        image = sample.image.float().to(device)
        if image.shape not in black_embeddings:
            with torch.no_grad():
                black_embeddings[image.shape] = retriever_embeddings(
                    model, torch.zeros_like(image)[None]
                )
        gradients = distance_gradients(
            lambda batch: retriever_embeddings(model, batch),
            image,
            black_embeddings[image.shape],
            distance,
            n_samples=n_samples,
            noise_level=noise_level,
            generator=generator,
        )
        attention = attention_map(gradients.mean(1)).cpu()
        scores.append(attention_score(attention, sample.mask))
        if position in map_positions:
            maps[position] = attention.float().numpy()
        if progress is not None:
            progress.update()
    return scores, maps
