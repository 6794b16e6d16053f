"""Stylized splits made with AdaIN: S-CLAD's Stylized ImageNet-9.

CLAD (BMVC 2022, Table 7) measures S-CLAD's texture debiasing on a
"Stylized ImageNet-9" (STYLIZED-IN9): the IN-9 test images with their
texture replaced by that of a random painting through AdaIN (Huang &
Belongie, ICCV 2017), as Geirhos et al. (ICLR 2019) built Stylized-ImageNet
from ImageNet and the paintings of Kaggle's "Painter by Numbers". A model
that classifies by shape keeps its accuracy; one that relies on texture
falls towards chance.

For every image of ``ROOT/<split>/<subset>/<class>/``, one style image is
drawn from ``STYLE_DIR`` (any image files, found recursively) by a random
generator seeded with ``(seed, <class>/<file name>)``, so an image's style
does not depend on the other images, their order, or on resuming. The style
image is resized (short side ``style_size``) and centre-cropped to a
``style_size`` square, so that styles batch; AdaIN only uses the per-channel
statistics of its features. The content keeps its own size, and the output
has that size::

    ROOT/<out_split>/<subset>/<class>/<stem>.JPEG           JPEG quality 95
    ROOT/<out_split>/stylize_<subset>_manifest.json  settings, input -> style
    ROOT/<out_split>/stylize_<subset>_report.json    counts and time, last run

Images are processed in fixed batches of ``batch_size`` consecutive inputs
(sorted by class, then file name). Outputs are written to a temporary file
and renamed, so an interrupted run resumes by skipping the batches whose
outputs all exist; a batch with a missing output is computed again in full,
so on the same device and batch size the result is byte for byte that of an
uninterrupted run. A run whose settings (split, alpha, seed, style size,
style images or AdaIN weights) differ from the manifest's is refused.

``subset='train'`` stylizes a training folder instead, e.g. the Stylized
IN-9 training set of a texture-debiased baseline (SIN9, as Geirhos et al.'s
SIN training): ``ROOT=data/in9``, ``subset='train'`` writes
``data/in9/stylized/train/``, which ``BGChallengeTrainDataset`` reads with
``image_dir='stylized', background_dir=None`` (the stems are kept, so the
masks of ``fg_mask/train`` still match).
"""

import hashlib
import json
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.utils import ProgressBar
from mmpretrain.datasets.transforms import CenterCrop, ResizeEdge

from clad_mm.datasets.folder_layout import (
    IMAGE_EXTENSIONS,
    list_class_folders,
    list_stems,
    require_dir,
)
from clad_mm.models.stylization.adain import AdaINStylizer
from clad_mm.utils.errors import MissingFileError, OutputExistsError, UserError
from clad_mm.utils.fileio import (
    file_sha256,
    read_image,
    remove_stale_temporaries,
    write_image_atomically,
    write_json_atomically,
)

from ..written_files import refuse_unlisted_files

FORMAT = 'stylized_split'


def manifest_path(root: str, out_split: str, subset: str) -> str:
    """Where the manifest of a stylized folder lives."""
    return osp.join(root, out_split, f'stylize_{subset}_manifest.json')


def report_path(root: str, out_split: str, subset: str) -> str:
    """Where the report of the last run on a stylized folder lives."""
    return osp.join(root, out_split, f'stylize_{subset}_report.json')


def list_style_images(style_dir: str) -> list[str]:
    """Every image file below a folder, recursively.

    Dot files and dot folders are skipped.

    Args:
        style_dir (str): Folder of style images (e.g. paintings).

    Returns:
        list[str]: Paths relative to ``style_dir`` with ``/`` separators,
        sorted.

    Raises:
        FileNotFoundError: If the folder is missing or holds no image with
            an extension in :data:`IMAGE_EXTENSIONS`.
    """
    require_dir(style_dir, 'style images (any image files, in any sub-folders)')
    styles = []
    for directory, folders, names in os.walk(style_dir):
        folders[:] = [folder for folder in folders if not folder.startswith('.')]
        relative = osp.relpath(directory, style_dir)
        for name in names:
            if not name.startswith('.') and name.lower().endswith(IMAGE_EXTENSIONS):
                path = name if relative == '.' else osp.join(relative, name)
                styles.append(path.replace(os.sep, '/'))
    if not styles:
        raise MissingFileError(
            f'{style_dir} holds no image file with an extension in '
            f'{IMAGE_EXTENSIONS}; expected style images (e.g. paintings)'
        )
    return sorted(styles)


def draw_style(relative_path: str, num_styles: int, seed: int) -> int:
    """The style index of one image, from its path and the seed only.

    Args:
        relative_path (str): The image's ``<class>/<file name>``.
        num_styles (int): Number of style images.
        seed (int): Non-negative seed of the draw.

    Returns:
        int: An index in ``[0, num_styles)``.
    """
    digest = hashlib.sha256(relative_path.encode()).digest()
    rng = np.random.default_rng([seed, int.from_bytes(digest[:8], 'little')])
    return int(rng.integers(num_styles))


def list_inputs(root: str, split: str, subset: str) -> list[str]:
    """The ``<class>/<file name>`` of every image of a split, sorted.

    Args:
        root (str): Root holding ``<split>/<subset>/<class>/``.
        split (str): Folder of the images to stylize.
        subset (str): ``'val'`` or ``'train'``.

    Returns:
        list[str]: Relative paths, class by class in sorted stem order.
    """
    parent = osp.join(root, split, subset)
    require_dir(parent, f'<class>/<stem>.<ext> images of the {split!r} split')
    inputs = []
    for folder in list_class_folders(parent):
        files = list_stems(osp.join(parent, folder), IMAGE_EXTENSIONS)
        inputs += [f'{folder}/{files[stem]}' for stem in sorted(files)]
    return inputs


def output_relative_path(relative_path: str) -> str:
    """``<class>/<stem>.JPEG`` of an input ``<class>/<file name>``."""
    return osp.splitext(relative_path)[0] + '.JPEG'


def _to_rgb01(image: np.ndarray) -> torch.Tensor:
    """BGR uint8 H x W x 3 -> RGB float [3, H, W] in [0, 1]."""
    return (
        torch.from_numpy(np.ascontiguousarray(image[..., ::-1])).permute(2, 0, 1) / 255
    )


def _to_bgr_uint8(image: torch.Tensor) -> np.ndarray:
    """RGB float [3, H, W] in [0, 1] -> BGR uint8 H x W x 3."""
    pixels = (image.clamp(0, 1) * 255).round().to(torch.uint8)
    return np.ascontiguousarray(pixels.permute(1, 2, 0).numpy()[..., ::-1])


def load_style(path: str, style_size: int) -> torch.Tensor:
    """A style image, short side resized to and centre-cropped at ``style_size``.

    Args:
        path (str): The style image.
        style_size (int): Side of the square result.

    Returns:
        torch.Tensor: RGB ``[3, style_size, style_size]`` in [0, 1].
    """
    resized = ResizeEdge(scale=style_size, edge='short')(dict(img=read_image(path)))
    return _to_rgb01(CenterCrop(crop_size=style_size)(resized)['img'])


def stylize_batch(
    stylizer: AdaINStylizer,
    contents: list[torch.Tensor],
    styles: list[torch.Tensor],
    device: str,
) -> list[torch.Tensor]:
    """Stylizes content images that may differ in size, in few passes.

    Args:
        stylizer (AdaINStylizer): The stylizer, on ``device``.
        contents (list[torch.Tensor]): RGB ``[3, H, W]`` images in [0, 1].
        styles (list[torch.Tensor]): One RGB style image per content, all of
            one size.
        device (str): Where to run.

    Returns:
        list[torch.Tensor]: The stylized images on the CPU, each of its
        content's size, in input order; one forward pass per content size.
    """
    by_shape = {}
    for index, content in enumerate(contents):
        by_shape.setdefault(tuple(content.shape), []).append(index)
    stylized = [None] * len(contents)
    for indices in by_shape.values():
        images = stylizer(
            torch.stack([contents[i] for i in indices]).to(device),
            torch.stack([styles[i] for i in indices]).to(device),
        ).cpu()
        for index, image in zip(indices, images):
            stylized[index] = image
    return stylized


def _check_out_folder(manifest_file: str, out_dir: str, settings: dict) -> None:
    """Refuses a folder of other files, or of a run with other settings."""
    if osp.isfile(manifest_file):
        with open(manifest_file, encoding='utf-8') as file:
            earlier = json.load(file).get('settings', {})
        differing = sorted(
            key
            for key in settings.keys() | earlier.keys()
            if settings.get(key) != earlier.get(key)
        )
        if differing:
            raise UserError(
                f'{out_dir} was stylized with other settings: '
                + ', '.join(
                    f'{key}={earlier.get(key)!r} (now {settings.get(key)!r})'
                    for key in differing
                )
                + f' ({manifest_file}); remove {out_dir} and the manifest to '
                'start again, or choose another out_split'
            )
    elif osp.isdir(out_dir) and os.listdir(out_dir):
        raise OutputExistsError(
            f'{out_dir} is not empty and has no manifest {manifest_file}, so it '
            'was not written by the stylized split builder; move it away or '
            'choose another out_split'
        )


def build_stylized_split(
    root: str,
    style_dir: str,
    encoder_checkpoint: str,
    decoder_checkpoint: str,
    split: str = 'original',
    out_split: str = 'stylized',
    subset: str = 'val',
    alpha: float = 1.0,
    seed: int = 0,
    batch_size: int = 16,
    device: str = 'cpu',
    style_size: int = 256,
    show_progress: bool = True,
) -> dict:
    """Writes an AdaIN-stylized copy of a split (e.g. Stylized IN-9).

    Args:
        root (str): Root holding ``<split>/<subset>/<class>/`` (a test root
            such as ``data/bg_challenge``, or ``data/in9`` for training).
        style_dir (str): Folder of style images, searched recursively.
        encoder_checkpoint (str): pytorch-AdaIN's ``vgg_normalised.pth``.
        decoder_checkpoint (str): pytorch-AdaIN's ``decoder.pth``.
        split (str): Folder of the images to stylize. Defaults to
            ``'original'``.
        out_split (str): Folder of the stylized images. Defaults to
            ``'stylized'``.
        subset (str): ``'val'`` (test splits) or ``'train'``. Defaults to
            ``'val'``.
        alpha (float): AdaIN style strength in [0, 1]. Defaults to 1.0.
        seed (int): Non-negative seed of the style draws. Defaults to 0.
        batch_size (int): Images per AdaIN forward pass. Defaults to 16.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:1'``... Defaults to
            ``'cpu'``.
        style_size (int): Side of the square style images. Defaults to 256.
        show_progress (bool): Print a progress bar with ETA.

    Returns:
        dict: The report, also saved as ``stylize_<subset>_report.json``.

    Raises:
        FileNotFoundError: If a folder, an image or a checkpoint is missing.
        OutputExistsError: If the output folder holds files of another tool
            (naming them).
        ValueError: For bad arguments, an undecodable image (named) or
            settings differing from the manifest's.
    """
    start = time.perf_counter()
    if out_split == split:
        raise UserError(f'out_split must differ from split, got {split!r} for both')
    for name, value in (('batch_size', batch_size), ('style_size', style_size)):
        if value < 1:
            raise UserError(f'{name} must be at least 1, got {value}')
    if seed < 0:
        raise UserError(f'seed must be non-negative, got {seed}')
    if torch.device(device).type == 'cuda' and not torch.cuda.is_available():
        raise UserError(f'device {device!r} was asked for, but CUDA is not available')
    for name, path in (
        ('encoder', encoder_checkpoint),
        ('decoder', decoder_checkpoint),
    ):
        if not osp.isfile(path):
            raise MissingFileError(f'AdaIN {name} checkpoint {path} is not a file')
    inputs = list_inputs(root, split, subset)
    styles = list_style_images(style_dir)
    settings = dict(
        format=FORMAT,
        split=split,
        subset=subset,
        alpha=float(alpha),
        seed=seed,
        style_size=style_size,
        styles=hashlib.sha1('\n'.join(styles).encode()).hexdigest(),
        encoder_sha256=file_sha256(encoder_checkpoint),
        decoder_sha256=file_sha256(decoder_checkpoint),
    )
    out_dir = osp.join(root, out_split, subset)
    manifest_file = manifest_path(root, out_split, subset)
    _check_out_folder(manifest_file, out_dir, settings)
    # A file of someone else's in the folder would be read as a sample.
    refuse_unlisted_files(
        out_dir,
        ['.'],
        {output_relative_path(path) for path in inputs},
        'the stylized split builder',
        f'they are not stylized images of {osp.join(root, split, subset)}',
    )
    stylizer = AdaINStylizer(encoder_checkpoint, decoder_checkpoint, alpha).to(device)

    chosen = {path: styles[draw_style(path, len(styles), seed)] for path in inputs}
    manifest = dict(
        settings=settings,
        style_dir=osp.abspath(style_dir),
        encoder_checkpoint=osp.abspath(encoder_checkpoint),
        decoder_checkpoint=osp.abspath(decoder_checkpoint),
        num_styles=len(styles),
        styles=chosen,
    )
    os.makedirs(out_dir, exist_ok=True)
    # Written atomically: a resumed run must never read a torn manifest.
    write_json_atomically(manifest_file, manifest, indent=1)
    # A killed run leaves the dot temporaries of its unfinished images.
    remove_stale_temporaries(out_dir)

    in_dir = osp.join(root, split, subset)
    outputs = {path: osp.join(out_dir, output_relative_path(path)) for path in inputs}
    batches = [inputs[i : i + batch_size] for i in range(0, len(inputs), batch_size)]
    pending = [b for b in batches if not all(osp.isfile(outputs[p]) for p in b)]
    progress = None
    if show_progress and pending:
        progress = ProgressBar(sum(len(batch) for batch in pending))
    written = []
    for batch in pending:
        contents = [_to_rgb01(read_image(osp.join(in_dir, p))) for p in batch]
        style_images = [
            load_style(osp.join(style_dir, chosen[p]), style_size) for p in batch
        ]
        stylized = stylize_batch(stylizer, contents, style_images, device)
        for path, image in zip(batch, stylized):
            if not osp.isfile(outputs[path]):
                write_image_atomically(outputs[path], _to_bgr_uint8(image))
                written.append(path)
        if progress:
            progress.update(len(batch))
    if progress:
        print()

    seconds = time.perf_counter() - start
    written_set = set(written)
    classes = {}
    for path in inputs:
        counts = classes.setdefault(path.split('/')[0], dict(images=0, written_now=0))
        counts['images'] += 1
        counts['written_now'] += path in written_set
    report = dict(
        format=FORMAT,
        root=root,
        split=split,
        out_split=out_split,
        subset=subset,
        settings=settings,
        images=len(inputs),
        written_now=len(written),
        already_complete=len(inputs) - len(written),
        styles_available=len(styles),
        styles_used=len(set(chosen.values())),
        classes=classes,
        device=device,
        batch_size=batch_size,
        seconds=round(seconds, 3),
        images_per_second=round(len(written) / seconds, 2) if written else None,
        manifest=manifest_file,
    )
    write_json_atomically(report_path(root, out_split, subset), report, indent=1)
    return report


def format_stylize_table(report: dict) -> str:
    """Renders the per-class counts of a report as a Markdown table.

    Args:
        report (dict): As returned by :func:`build_stylized_split`.

    Returns:
        str: One row per class and a total row.
    """
    lines = ['| class | images | written now | already complete |', '|---|---|---|---|']
    for folder, counts in report['classes'].items():
        complete = counts['images'] - counts['written_now']
        lines.append(
            f'| {folder} | {counts["images"]} | {counts["written_now"]} | {complete} |'
        )
    lines.append(
        f'| total | {report["images"]} | {report["written_now"]} | '
        f'{report["already_complete"]} |'
    )
    return '\n'.join(lines)
