"""Foreground masks for a whole image folder, and their quality.

:func:`make_masks` segments every image of a folder-per-class tree
(``IMG_ROOT/[<split>/]<class>/<stem>.<ext>``) with the ImageNet-9 recipe of
the Background Challenge (Xiao et al., ICLR 2021), which CLAD (BMVC 2022)
trains on, and writes the training views (``views='clad'``) in CLAD's layout
(the folders that :class:`BGChallengeTrainDataset` reads beside
``original/``)::

    OUT_ROOT/fg_mask/<rel>/<stem>.png       0 / 255 mask
    OUT_ROOT/only_bg_t/<rel>/<stem>.<ext>   object box filled with tiles
    OUT_ROOT/fg_grabcut/<rel>/<stem>.<ext>  object on black
    OUT_ROOT/make_masks_report.json         what happened to every image
    OUT_ROOT/make_masks_files.jsonl         every file written, recorded first

so that :class:`BGChallengeTrainDataset` reads them with
``image_dir=IMG_ROOT``. With ``views='mattes'`` it writes only a foreground
matte per image, for the retrieval datasets (CUB, Cars196, SOP) and
BGAugment, mirroring the image tree at any depth::

    OUT_ROOT/<rel>/<stem>.png               single-channel uint8 matte
    OUT_ROOT/make_masks_report.json
    OUT_ROOT/make_masks_files.jsonl

``rembg`` mattes keep U-2-Net's soft alpha (0..255), as BGAugment
composites with; GrabCut mattes are hard (0 / 255). OUT_ROOT may lie inside
IMG_ROOT (``Stanford_Online_Products/masks``, the ``masks_root`` of the
SOP config): it is then left out of the listing, as is every folder below
IMG_ROOT that holds a make_masks journal (the report names them).

make_masks only ever replaces files it wrote itself
(its journal, :class:`~clad_mm.data_prep.written_files.WrittenFiles`):
OUT_ROOT often already holds masks of another source (a data set's own
``fg_mask/``), and an output path taken by a file it did not write stops the
run, naming the file, unless that image's outputs are complete (then
the image is skipped and nothing is replaced). :func:`compare_mask_folders`
scores predicted masks against ground-truth masks (IoU and coverage, per
class and overall).
"""

import json
import multiprocessing
import os
import os.path as osp
import time
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.datasets.folder_layout import IMAGE_EXTENSIONS, MASK_EXTENSIONS
from clad_mm.datasets.transforms.load_foreground_mask import LoadForegroundMask
from clad_mm.utils.errors import MissingFileError, OutputExistsError, UserError
from clad_mm.utils.fileio import (
    read_image,
    remove_stale_temporaries,
    write_image_atomically,
    write_json_atomically,
)

from ..written_files import NAMED_FILES, WrittenFiles
from .foreground_masks import (
    center_box,
    fill_box_with_background_tiles,
    grabcut_mask,
    mask_bounding_box,
    mask_coverage,
    mask_iou,
    only_fg_image,
    read_voc_boxes,
)

METHODS = ('grabcut-bbox', 'grabcut-center', 'rembg')
OUTPUT_FOLDERS = ('fg_mask', 'only_bg_t', 'fg_grabcut')
#: ``clad``: the three CLAD training views; ``mattes``: one matte per image.
VIEWS = ('clad', 'mattes')
REPORT_FILE = 'make_masks_report.json'
JOURNAL_FILE = 'make_masks_files.jsonl'
#: The Background Challenge's recipe rejects masks under 10 % of the box.
DEFAULT_MIN_MASK_SHARE = 0.1
REMBG_MODEL = 'u2net'
_REMBG_HELP = (
    'The rembg method needs the optional package rembg: '
    "pip install 'clad_mm[masks]' (in a checkout: pip install -e '.[masks]'; "
    'or: pip install rembg onnxruntime). '
    f'Its U2-Net model ({REMBG_MODEL}, about 170 MB) is downloaded to '
    '~/.u2net on first use, so the first run needs internet access'
)


class RembgUnavailable(RuntimeError):
    """rembg is not installed or its model cannot be loaded."""


class MaskRejected(Exception):
    """An image that a rule of the recipe excludes.

    Args:
        rule (str): Short name of the rule, used to count rejections.
        reason (str): What was found, for the report.
    """

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


@dataclass(frozen=True)
class MaskJob:
    """Options shared by every image of one :func:`make_masks` run.

    Args:
        img_root (str): Folder of ``[<split>/]<class>/<stem>.<ext>`` images.
        out_root (str): Folder receiving the three output folders.
        method (str): One of :data:`METHODS`.
        boxes_dir (str, optional): Pascal-VOC XML boxes, as
            ``<stem>.xml`` or ``<class>/<stem>.xml``; needed by
            ``grabcut-bbox``.
        iterations (int): GrabCut iterations.
        min_mask_share (float): Smallest share of the box the mask must
            cover (the whole image for ``rembg``).
        center_margin (float): Margin of the ``grabcut-center`` box, as a
            share of each side.
        views (str): One of :data:`VIEWS`: CLAD's three views, or only
            ``OUT_ROOT/<rel>/<stem>.png`` mattes.
    """

    img_root: str
    out_root: str
    method: str
    boxes_dir: str | None = None
    iterations: int = 5
    min_mask_share: float = DEFAULT_MIN_MASK_SHARE
    center_margin: float = 0.1
    views: str = 'clad'

    def parameters(self) -> dict:
        """The options that decide the outputs, for the report."""
        return {
            key: value
            for key, value in asdict(self).items()
            if key not in ('img_root', 'out_root')
        }


def list_images(
    root: str, exclude: str | None = None
) -> tuple[list[str], list[str], list[str]]:
    """Lists the images below ``root`` by relative path, at any depth.

    Entries whose names start with a dot are skipped (macOS metadata, and
    the temporary files of an interrupted run). The outputs of make_masks
    are never listed, lest they be segmented in turn: ``exclude`` and every
    folder below ``root`` holding a make_masks journal (:data:`JOURNAL_FILE`,
    the mattes of an earlier run into another OUT_ROOT) are left out with
    everything in them.

    Args:
        root (str): Folder to walk.
        exclude (str, optional): A folder left out (the run's own OUT_ROOT).

    Returns:
        tuple[list[str], list[str], list[str]]: Sorted relative paths of the
        images (extension in ``IMAGE_EXTENSIONS``), of every other file, and
        of the folders left out.
    """
    excluded = osp.realpath(exclude) if exclude is not None else None
    images, others, not_listed = [], [], []
    for folder, subfolders, files in os.walk(root):
        listed = []
        for name in sorted(subfolders):
            if name[0] == '.':
                continue
            path = osp.join(folder, name)
            if osp.realpath(path) == excluded or osp.isfile(
                osp.join(path, JOURNAL_FILE)
            ):
                not_listed.append(osp.relpath(path, root))
            else:
                listed.append(name)
        subfolders[:] = listed
        for name in sorted(files):
            if name.startswith('.'):
                continue
            relative = osp.relpath(osp.join(folder, name), root)
            is_image = osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS
            (images if is_image else others).append(relative)
    return images, others, not_listed


def output_paths(out_root: str, relative: str, views: str = 'clad') -> dict[str, str]:
    """The output files of an image.

    Args:
        out_root (str): Output root.
        relative (str): The image's path relative to the image root.
        views (str): One of :data:`VIEWS`.

    Returns:
        dict[str, str]: Path by output: for ``'clad'`` by output folder (the
        mask is always ``.png``, the two views keep the image's extension),
        for ``'mattes'`` only ``'matte'``, ``OUT_ROOT/<rel>/<stem>.png``.
    """
    stem = osp.splitext(relative)[0]
    if views == 'mattes':
        return {'matte': osp.join(out_root, stem + '.png')}
    return {
        'fg_mask': osp.join(out_root, 'fg_mask', stem + '.png'),
        'only_bg_t': osp.join(out_root, 'only_bg_t', relative),
        'fg_grabcut': osp.join(out_root, 'fg_grabcut', relative),
    }


def find_box_file(boxes_dir: str, relative: str) -> str | None:
    """The VOC XML of an image: ``<stem>.xml`` or ``<class>/<stem>.xml``.

    Args:
        boxes_dir (str): Folder of the XML files.
        relative (str): The image's path relative to the image root; its
            parent folder is the class.

    Returns:
        str | None: The first existing candidate, or None.
    """
    folder, name = osp.split(relative)
    stem = osp.splitext(name)[0]
    for candidate in (
        osp.join(boxes_dir, stem + '.xml'),
        osp.join(boxes_dir, osp.basename(folder), stem + '.xml'),
    ):
        if osp.isfile(candidate):
            return candidate
    return None


def load_rembg_session(model: str = REMBG_MODEL):
    """Imports rembg and loads its model, downloading it on first use.

    Args:
        model (str): rembg model name.

    Returns:
        The rembg session.

    Raises:
        RembgUnavailable: With install instructions, if rembg is missing or
            its model cannot be downloaded or loaded.
    """
    try:
        import rembg
    except ImportError as error:
        raise RembgUnavailable(f'{_REMBG_HELP}. Import failed: {error}') from error
    try:
        return rembg.new_session(model)
    except Exception as error:  # rembg raises whatever its download hits.
        raise RembgUnavailable(
            f'rembg could not download or load its {model} model: {error}. '
            f'{_REMBG_HELP}'
        ) from error


def rembg_matte(image_bgr: np.ndarray, session) -> np.ndarray:
    """Soft salient-object matte from rembg (U2-Net).

    Args:
        image_bgr (np.ndarray): H x W x 3 uint8 BGR image.
        session: A session from :func:`load_rembg_session`.

    Returns:
        np.ndarray: H x W uint8 alpha in 0..255, not thresholded.
    """
    import rembg

    rgb = np.ascontiguousarray(image_bgr[..., ::-1])
    return np.asarray(rembg.remove(rgb, session=session, only_mask=True), np.uint8)


def _outputs_valid(paths: dict, height: int, width: int) -> bool:
    for name, path in paths.items():
        if not osp.isfile(path):
            return False
        try:
            decoded = read_image(path, 'unchanged')
        except ValueError:
            return False
        if decoded.shape[:2] != (height, width):
            return False
        # LoadForegroundMatte refuses a matte with several channels.
        if name == 'matte' and decoded.ndim != 2:
            return False
    return True


def _segment(image: np.ndarray, job: MaskJob, relative: str, rembg_session):
    """Returns the uint8 matte (0..255) and the box it was segmented in.

    GrabCut's matte is 0 / 255; rembg's is soft. The recipe's rules judge
    the matte thresholded at half, as the binary mask of the CLAD views.
    """
    height, width = image.shape[:2]
    if job.method == 'grabcut-bbox':
        box = _annotated_box(job.boxes_dir, relative, width, height)
        matte = grabcut_mask(image, box, job.iterations) * np.uint8(255)
    elif job.method == 'grabcut-center':
        box = center_box(height, width, job.center_margin)
        matte = grabcut_mask(image, box, job.iterations) * np.uint8(255)
    else:
        box = (0, 0, width, height)
        matte = rembg_matte(image, rembg_session)
    box_area = (box[2] - box[0]) * (box[3] - box[1])
    share = np.count_nonzero(matte > 127) / box_area
    if share < job.min_mask_share:
        raise MaskRejected(
            'small_mask',
            f'mask covers {share:.1%} of the box {box}, under the minimum '
            f'{job.min_mask_share:.0%}',
        )
    return matte, box


def _write_outputs(job: MaskJob, paths: dict, image: np.ndarray, matte, box):
    """Writes an image's outputs from its matte and segmentation box."""
    if job.views == 'mattes':
        write_image_atomically(paths['matte'], matte)
        return
    mask = (matte > 127).astype(np.uint8)
    tile_box = box if job.method == 'grabcut-bbox' else mask_bounding_box(mask)
    background = fill_box_with_background_tiles(image, tile_box)
    write_image_atomically(paths['fg_mask'], mask * np.uint8(255))
    write_image_atomically(paths['only_bg_t'], background)
    write_image_atomically(paths['fg_grabcut'], only_fg_image(image, mask))


def _annotated_box(boxes_dir: str, relative: str, width: int, height: int):
    xml_path = find_box_file(boxes_dir, relative)
    if xml_path is None:
        raise MaskRejected(
            'no_annotation', f'no <stem>.xml or <class>/<stem>.xml in {boxes_dir}'
        )
    boxes, size = read_voc_boxes(xml_path)
    if len(boxes) != 1:
        raise MaskRejected('box_count', f'{xml_path} holds {len(boxes)} boxes, not 1')
    if size is not None and size != (width, height):
        raise UserError(
            f'{xml_path} annotates a {size[0]}x{size[1]} image but the image '
            f'is {width}x{height} (WxH)'
        )
    x0, y0, x1, y1 = boxes[0]
    box = (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))
    if box[0] >= box[2] or box[1] >= box[3]:
        raise MaskRejected(
            'box_outside_image',
            f'box {boxes[0]} of {xml_path} is empty inside the {width}x{height} image',
        )
    return box


def process_image(job: MaskJob, relative: str, rembg_session=None) -> dict:
    """Segments one image and writes its outputs (see :func:`output_paths`).

    Never raises for a bad image: the outcome is returned for the report.

    Args:
        job (MaskJob): The run's options.
        relative (str): The image's path relative to ``job.img_root``.
        rembg_session: Session for ``method='rembg'``.

    Returns:
        dict: ``path``, ``status`` (``'written'``, ``'skipped_existing'``,
        ``'rejected'`` with ``rule`` and ``reason``, or ``'failed'`` with
        ``error``) and ``seconds`` spent.
    """
    start = time.perf_counter()
    result = {'path': relative}
    try:
        image = read_image(osp.join(job.img_root, relative))
        paths = output_paths(job.out_root, relative, job.views)
        if _outputs_valid(paths, *image.shape[:2]):
            result['status'] = 'skipped_existing'
        else:
            matte, box = _segment(image, job, relative, rembg_session)
            _write_outputs(job, paths, image, matte, box)
            result['status'] = 'written'
    except MaskRejected as rejection:
        result.update(status='rejected', rule=rejection.rule, reason=rejection.reason)
    except Exception as error:  # Reported per image, never dropped.
        result.update(status='failed', error=f'{type(error).__name__}: {error}')
    result['seconds'] = time.perf_counter() - start
    return result


_worker_state = {}


def _init_worker(job: MaskJob) -> None:
    # Each process runs one OpenCV thread: the pool already uses every core.
    cv2.setNumThreads(1)
    _worker_state['job'] = job
    if job.method == 'rembg':
        _worker_state['rembg_session'] = load_rembg_session()


def _process_in_worker(relative: str) -> dict:
    return process_image(
        _worker_state['job'], relative, _worker_state.get('rembg_session')
    )


def _check_roots(job: MaskJob) -> None:
    if job.views not in VIEWS:
        raise UserError(f'views must be one of {VIEWS}, got {job.views!r}')
    if not osp.isdir(job.img_root):
        layout = (
            'images at any folder depth'
            if job.views == 'mattes'
            else '[<split>/]<class>/<image>'
        )
        raise MissingFileError(f'{job.img_root} is not a folder; expected {layout}')
    if job.method not in METHODS:
        raise UserError(f'method must be one of {METHODS}, got {job.method!r}')
    if job.method == 'grabcut-bbox' and (
        job.boxes_dir is None or not osp.isdir(job.boxes_dir)
    ):
        raise MissingFileError(
            f'grabcut-bbox needs a folder of Pascal-VOC XML boxes (--boxes); '
            f'got {job.boxes_dir}'
        )
    img_root = osp.realpath(job.img_root)
    out_root = osp.realpath(job.out_root)
    if job.views == 'mattes':
        # OUT_ROOT inside IMG_ROOT is left out of the listing; the other
        # overlaps could put a matte <stem>.png on the path of an image.
        if out_root == img_root or img_root.startswith(out_root + os.sep):
            raise UserError(
                f'OUT_ROOT {job.out_root} is or holds IMG_ROOT {job.img_root}: '
                'its mattes <rel>/<stem>.png could replace images; choose a '
                'folder beside IMG_ROOT or inside it (such as IMG_ROOT/masks)'
            )
    elif out_root == img_root or out_root.startswith(img_root + os.sep):
        raise UserError(
            f'OUT_ROOT {job.out_root} is inside IMG_ROOT {job.img_root}: its '
            'outputs would be read as images; choose a folder outside it'
        )
    else:
        for folder in OUTPUT_FOLDERS:
            output = osp.join(out_root, folder)
            if img_root == output or img_root.startswith(output + os.sep):
                raise UserError(
                    f'IMG_ROOT {job.img_root} is inside the output folder {output}'
                )
    report_path = osp.join(job.out_root, REPORT_FILE)
    if osp.isfile(report_path):
        with open(report_path, encoding='utf-8') as file:
            previous = json.load(file).get('parameters')
        if previous is not None:
            # Reports written before ``views`` existed describe CLAD views.
            previous = {'views': 'clad', **previous}
        if previous is not None and previous != job.parameters():
            raise UserError(
                f'{job.out_root} holds masks made with {previous}, not '
                f'{job.parameters()}; resuming would mix them. Choose another '
                f'OUT_ROOT, or delete {report_path} if you mean to mix them'
            )


def make_masks(job: MaskJob, workers: int = 1, show_progress: bool = True) -> dict:
    """Segments every image below ``job.img_root``; resumable.

    An image whose outputs already exist and decode with its size (a matte
    with one channel) is skipped, so an interrupted run can simply be
    restarted; the temporaries a killed run left in the output folders
    (all of OUT_ROOT for mattes) are deleted first. OUT_ROOT and other
    make_masks outputs inside IMG_ROOT are not listed (:func:`list_images`).
    The report, also written to ``OUT_ROOT/make_masks_report.json``, lists
    every image that was rejected or failed, every file that is not an
    image (ignored), and the folders left out of the listing.

    Args:
        job (MaskJob): The run's options.
        workers (int): Processes; 1 runs in this process.
        show_progress (bool): Print a progress bar with ETA.

    Returns:
        dict: ``parameters``, ``counts`` (per status, plus ``not_images``),
        ``rejected_by_rule``, ``rejected``, ``failed``, ``not_images``,
        ``not_listed_folders`` (make_masks outputs below IMG_ROOT, see
        :func:`list_images`), ``wall_seconds`` and ``seconds_per_image_per_core``
        (mean over written images).

    Raises:
        RembgUnavailable: For ``rembg`` when it cannot run.
        FileNotFoundError, ValueError: For unusable roots or options.
        OutputExistsError: If the run would replace files it did not write
            (naming them), before any image is segmented.
    """
    _check_roots(job)
    output_folders = (
        [job.out_root]
        if job.views == 'mattes'
        else [osp.join(job.out_root, folder) for folder in OUTPUT_FOLDERS]
    )
    # A killed run leaves the dot temporaries of its unfinished writes.
    for folder in output_folders:
        remove_stale_temporaries(folder)
    # _check_roots allows OUT_ROOT inside IMG_ROOT only for mattes.
    images, others, not_listed = list_images(job.img_root, exclude=job.out_root)
    if not images:
        raise MissingFileError(f'{job.img_root} holds no image {IMAGE_EXTENSIONS}')
    _record_outputs(job, images)
    rembg_session = None
    if job.method == 'rembg':
        # Loaded once here so that a missing package or a failed model
        # download stops the run with one clear message, before any worker.
        rembg_session = load_rembg_session()
    start = time.perf_counter()
    progress = ProgressBar(len(images)) if show_progress else None
    results = []
    if workers <= 1:
        for relative in images:
            results.append(process_image(job, relative, rembg_session))
            if progress:
                progress.update()
    else:
        chunksize = max(1, min(16, len(images) // (workers * 8)))
        # Forked children can deadlock in OpenCV/OpenMP thread pools the
        # parent has already started (seen under pytest); spawn starts clean.
        context = multiprocessing.get_context('spawn')
        with context.Pool(workers, _init_worker, (job,)) as pool:
            for result in pool.imap_unordered(_process_in_worker, images, chunksize):
                results.append(result)
                if progress:
                    progress.update()
    if progress:
        print()
    report = _summarise(job, results, others, not_listed, time.perf_counter() - start)
    write_json_atomically(osp.join(job.out_root, REPORT_FILE), report, indent=1)
    return report


def _record_outputs(job: MaskJob, images: list[str]) -> None:
    """Records the outputs the run may write; refuses to replace others'.

    An image whose outputs include a file the journal does not list is
    left alone when its outputs are complete (:func:`process_image`
    skips it); otherwise writing it would replace that file, so the run is
    refused before any work.

    Args:
        job (MaskJob): The run's options.
        images (list[str]): Image paths relative to ``job.img_root``.

    Raises:
        OutputExistsError: Naming the first few files it would replace.
    """
    journal = WrittenFiles(job.out_root, JOURNAL_FILE, 'make_masks')
    recorded = journal.recorded()
    own, replaced = [], []
    for relative in images:
        paths = output_paths(job.out_root, relative, job.views)
        foreign = [
            path
            for path in paths.values()
            if osp.lexists(path)
            and osp.relpath(path, job.out_root).replace(os.sep, '/') not in recorded
        ]
        if not foreign:
            own.extend(paths.values())
            continue
        try:
            height, width = read_image(osp.join(job.img_root, relative)).shape[:2]
        except ValueError:
            height = width = None  # Reported per image; its outputs stay.
        if height is None or not _outputs_valid(paths, height, width):
            replaced.extend(foreign)
    if replaced:
        named = ', '.join(replaced[:NAMED_FILES])
        raise OutputExistsError(
            f'make_masks would replace {len(replaced)} file(s) in '
            f'{job.out_root} that it did not write ({named}; its journal '
            f'{JOURNAL_FILE} does not list them); move them away or choose '
            'another OUT_ROOT'
        )
    # The report is make_masks' own by name: every run rewrites it.
    journal.record([*own, osp.join(job.out_root, REPORT_FILE)])


def _summarise(
    job: MaskJob, results: list, others: list, not_listed: list, wall_seconds: float
):
    results = sorted(results, key=lambda result: result['path'])
    counts = {
        status: sum(result['status'] == status for result in results)
        for status in ('written', 'skipped_existing', 'rejected', 'failed')
    }
    counts['not_images'] = len(others)
    rejected = [result for result in results if result['status'] == 'rejected']
    rejected_by_rule = {}
    for result in rejected:
        rejected_by_rule[result['rule']] = rejected_by_rule.get(result['rule'], 0) + 1
    written_seconds = [
        result['seconds'] for result in results if result['status'] == 'written'
    ]
    return {
        'img_root': job.img_root,
        'out_root': job.out_root,
        'parameters': job.parameters(),
        'counts': counts,
        'rejected_by_rule': rejected_by_rule,
        'wall_seconds': wall_seconds,
        'seconds_per_image_per_core': (
            float(np.mean(written_seconds)) if written_seconds else None
        ),
        'rejected': [
            {key: result[key] for key in ('path', 'rule', 'reason')}
            for result in rejected
        ],
        'failed': [
            {key: result[key] for key in ('path', 'error')}
            for result in results
            if result['status'] == 'failed'
        ],
        'not_images': others,
        'not_listed_folders': not_listed,
    }


def format_make_masks_report(report: dict, max_listed: int = 20) -> str:
    """Renders a :func:`make_masks` report as Markdown.

    Args:
        report (dict): The report.
        max_listed (int): Entries of each list shown before cutting it.

    Returns:
        str: A count table, rejections by rule, the folders not listed,
        the failed images and the files that are not images.
    """
    lines = ['| outcome | images |', '|---|---|']
    lines += [f'| {status} | {count} |' for status, count in report['counts'].items()]
    for rule, count in sorted(report['rejected_by_rule'].items()):
        lines.append(f'| rejected: {rule} | {count} |')
    if report['seconds_per_image_per_core'] is not None:
        lines.append(
            f'| seconds per written image per core | '
            f'{report["seconds_per_image_per_core"]:.3f} |'
        )
    for title, entries, key in (
        ('Not listed (make_masks outputs)', report['not_listed_folders'], None),
        ('Failed', report['failed'], 'error'),
        ('Not images (ignored)', report['not_images'], None),
    ):
        if entries:
            lines.append(f'\n{title} ({len(entries)}):')
            for entry in entries[:max_listed]:
                lines.append(
                    f'- {entry["path"]}: {entry[key]}' if key else f'- {entry}'
                )
            if len(entries) > max_listed:
                lines.append(f'- ... {len(entries) - max_listed} more in the report')
    return '\n'.join(lines)


def list_mask_files(root: str) -> dict[str, str]:
    """Maps the extension-less relative path of every mask to its file.

    Args:
        root (str): Folder of ``.png`` / ``.npy`` masks, at any depth.

    Returns:
        dict[str, str]: ``{'val/00_dog/x': 'val/00_dog/x.npy'}``.

    Raises:
        FileNotFoundError: If ``root`` is not a folder.
        ValueError: If two masks share a relative path without extension.
    """
    if not osp.isdir(root):
        raise MissingFileError(f'{root} is not a folder of .png / .npy masks')
    masks = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name[0] != '.']
        for name in files:
            if name[0] == '.' or osp.splitext(name)[1].lower() not in MASK_EXTENSIONS:
                continue
            relative = osp.relpath(osp.join(folder, name), root)
            key = osp.splitext(relative)[0]
            if key in masks:
                raise UserError(
                    f'{root} holds two masks for {key}: {masks[key]} and {relative}'
                )
            masks[key] = relative
    return masks


def read_binary_mask(path: str) -> np.ndarray:
    """Reads a 0/255 ``.png`` or 0/1 ``.npy`` mask as H x W {0, 1} uint8.

    Args:
        path (str): The mask file.

    Returns:
        np.ndarray: The mask.

    Raises:
        ValueError: Naming the file, if it is unreadable or not binary.
    """
    return LoadForegroundMask._read_mask(path)


def compare_mask_folders(
    pred_root: str, gt_root: str, show_progress: bool = True
) -> dict:
    """IoU and coverage of predicted masks against ground-truth masks.

    Masks are paired by relative path without extension, so a ``.png``
    prediction meets a ``.npy`` ground truth. The class of a mask is the
    folder holding it (``00_dog`` in ``val/00_dog/x.npy``).

    Args:
        pred_root (str): Folder of predicted masks.
        gt_root (str): Folder of ground-truth masks.
        show_progress (bool): Print a progress bar with ETA.

    Returns:
        dict: ``overall`` and ``per_class`` (``images``, mean ``iou`` and
        ``coverage``), ``per_image``, and the masks ``only_in_pred`` and
        ``only_in_gt``.

    Raises:
        ValueError: If no mask pairs up, or two paired masks differ in size
            (naming both files).
    """
    predictions = list_mask_files(pred_root)
    truths = list_mask_files(gt_root)
    shared = predictions.keys() & truths.keys()
    if not shared:
        raise UserError(
            f'no mask of {pred_root} ({len(predictions)} masks) has a '
            f'counterpart with the same relative path in {gt_root} '
            f'({len(truths)} masks)'
        )
    progress = ProgressBar(len(shared)) if show_progress else None
    per_image = []
    for key in sorted(shared):
        pred_path = osp.join(pred_root, predictions[key])
        gt_path = osp.join(gt_root, truths[key])
        pred, gt = read_binary_mask(pred_path), read_binary_mask(gt_path)
        if pred.shape != gt.shape:
            raise UserError(
                f'{pred_path} is {pred.shape[0]}x{pred.shape[1]} but {gt_path} '
                f'is {gt.shape[0]}x{gt.shape[1]} (HxW); masks must have the '
                'same size'
            )
        per_image.append(
            {
                'path': key,
                'class': osp.basename(osp.dirname(key)) or '.',
                'iou': mask_iou(pred, gt),
                'coverage': mask_coverage(pred, gt),
            }
        )
        if progress:
            progress.update()
    if progress:
        print()
    classes = sorted({entry['class'] for entry in per_image})
    return {
        'pred_root': pred_root,
        'gt_root': gt_root,
        'overall': _mean_scores(per_image),
        'per_class': {
            name: _mean_scores([e for e in per_image if e['class'] == name])
            for name in classes
        },
        'per_image': per_image,
        'only_in_pred': sorted(
            predictions[key] for key in predictions.keys() - truths.keys()
        ),
        'only_in_gt': sorted(truths[key] for key in truths.keys() - predictions.keys()),
    }


def _mean_scores(entries: list) -> dict:
    return {
        'images': len(entries),
        'iou': float(np.mean([entry['iou'] for entry in entries])),
        'coverage': float(np.mean([entry['coverage'] for entry in entries])),
    }


def format_mask_quality_table(result: dict, max_listed: int = 20) -> str:
    """Renders a :func:`compare_mask_folders` result as Markdown.

    Args:
        result (dict): The comparison result.
        max_listed (int): Unpaired masks listed per side before cutting.

    Returns:
        str: One row per class and one overall, then the unpaired masks.
    """
    lines = ['| class | images | IoU | coverage |', '|---|---|---|---|']
    rows = [*result['per_class'].items(), ('overall', result['overall'])]
    lines += [
        f'| {name} | {scores["images"]} | {scores["iou"]:.3f} | '
        f'{scores["coverage"]:.3f} |'
        for name, scores in rows
    ]
    for side, root in (('only_in_pred', 'pred_root'), ('only_in_gt', 'gt_root')):
        missing = result[side]
        if missing:
            lines.append(
                f'\n{len(missing)} masks of {result[root]} have no counterpart:'
            )
            lines += [f'- {path}' for path in missing[:max_listed]]
            if len(missing) > max_listed:
                lines.append(f'- ... {len(missing) - max_listed} more in the JSON')
    return '\n'.join(lines)
