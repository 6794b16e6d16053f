"""Challenge accuracy of the Background Challenge (adversarial backgrounds).

From "Noise or Signal: The Role of Image Backgrounds in Object Recognition"
(Xiao et al., ICLR 2021), the leaderboard metric of the Background
Challenge, used to compare background-debiased models such as CLAD (BMVC
2022). Every foreground of the test set (an ``original`` image cut out by its
``fg_mask``) is pasted on every ONLY-BG-T test background. A foreground is
*vulnerable* when at least one of its composites is misclassified, and::

    challenge accuracy = 100 − 100 · (vulnerable foregrounds) / (foregrounds)

(an ImageNet ResNet-50 scores 22.3 %). The evaluation of a foreground stops
at its first misclassified composite, so a vulnerable foreground often costs
a handful of composites and a robust one a composite per background: up to
4 050 × 4 050 = 16.4 million composites on the full release.

The evaluation loop, :func:`evaluate_adversarial_backgrounds`, takes any
``predict(composites) -> labels`` callable; :func:`build_composite_predictor`
makes one from a classifier loaded with :func:`clad_mm.apis.load_classifier`
(with the config's ``label_mapping`` for ImageNet-1k models, as in
``configs/clad/resnet50_in1k_bgchallenge.py``), and
:func:`run_adversarial_backgrounds` does everything
``tools/analysis/bg_challenge.py`` needs. The loop is resumable: every
finished foreground is appended to a JSON-lines state file, and a restarted
run skips the foregrounds it holds.
"""

import json
import os
import os.path as osp
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.dataset import default_collate
from mmengine.utils import ProgressBar
from PIL import Image

from clad_mm.apis.classifier_loading import load_classifier
from clad_mm.apis.inference_pipeline import InferencePipeline
from clad_mm.datasets.bg_challenge_test_dataset import BGChallengeTestDataset
from clad_mm.datasets.transforms.foreground_paste import hard_paste
from clad_mm.datasets.transforms.load_foreground_mask import LoadForegroundMask
from clad_mm.evaluation.metrics.bg_challenge_metric import LABEL_MAPPINGS

FOREGROUND_SPLIT = 'original'
BACKGROUND_SPLIT = 'only_bg_t'
STATE_FILE = 'bg_challenge_adversarial_state.jsonl'
RESULT_FILE = 'bg_challenge_adversarial.json'
_STATE_FORMAT = 'bg_challenge_adversarial_state'
# How every header line starts: a file killed while writing its header is
# recognised by it, anything else is not ours to overwrite.
_HEADER_START = b'{"format": "' + _STATE_FORMAT.encode() + b'"'
_EXAMPLES_SHOWN = 5

ImageLoader = Callable[[str], np.ndarray]
Predictor = Callable[[list[np.ndarray]], Sequence[int]]


@dataclass(frozen=True)
class Foreground:
    """A test foreground: an ``original`` image and its mask.

    Args:
        name (str): ``<class folder>/<file name>`` below ``original/<subset>``.
        image_path (str): The ``original`` image.
        mask_path (str): Its ``fg_mask`` ``.npy`` file.
        label (int): Its class index.
    """

    name: str
    image_path: str
    mask_path: str
    label: int


@dataclass(frozen=True)
class Background:
    """A test background, an ONLY-BG-T image.

    Args:
        name (str): ``<class folder>/<file name>`` below ``only_bg_t/<subset>``.
        image_path (str): The image.
    """

    name: str
    image_path: str


def make_image_loader() -> ImageLoader:
    """Reads an image file as a default ``LoadImageFromFile()`` does.

    A config's own decoding is ``InferencePipeline(cfg).load_image``.

    Returns:
        callable: ``load_image(path) -> np.ndarray`` (BGR, uint8, OpenCV
        decoding).
    """
    load_transform = LoadImageFromFile()

    def load_image(path: str) -> np.ndarray:
        return load_transform(dict(img_path=path))['img']

    return load_image


def _split_dataset(test_root: str, split: str, subset: str, **kwargs):
    return BGChallengeTestDataset(
        test_root, splits=[split], subset=subset, serialize_data=False, **kwargs
    )


def list_foregrounds(
    test_root: str, subset: str = 'val'
) -> tuple[list[Foreground], tuple[str, ...]]:
    """Lists the foregrounds of a Background Challenge test root.

    Args:
        test_root (str): Folder holding ``original/<subset>`` and
            ``fg_mask/<subset>`` (the release's ``bg_challenge/``).
        subset (str): Sub-folder of every split. Defaults to ``'val'``.

    Returns:
        tuple[list[Foreground], tuple[str, ...]]: The foregrounds, class by
        class in sorted stem order, and the class names (index order).

    Raises:
        FileNotFoundError: If a folder is missing (the message names it).
        ValueError: If an image has no mask of the same stem, or a mask that
            cannot be read or differs in size from its image; the message
            names the file.
    """
    dataset = _split_dataset(test_root, FOREGROUND_SPLIT, subset, with_fg_mask=True)
    image_dir = osp.join(test_root, FOREGROUND_SPLIT, subset)
    foregrounds = [
        Foreground(
            name=osp.relpath(info['img_path'], image_dir),
            image_path=info['img_path'],
            mask_path=info['fg_mask_path'],
            label=info['gt_label'],
        )
        for info in dataset.data_list
    ]
    check_mask_sizes(foregrounds)
    return foregrounds, dataset.metainfo['classes']


def check_mask_sizes(foregrounds: Sequence[Foreground]) -> None:
    """Raises unless every mask has its image's height and width.

    Only file headers are read, so that a long run fails at once rather
    than at the faulty foreground; loading a foreground checks again.

    Args:
        foregrounds (Sequence[Foreground]): Foregrounds to check.

    Raises:
        ValueError: Naming the first mask that cannot be read or does not
            fit its image.
    """
    for foreground in foregrounds:
        try:
            mask_shape = np.load(
                foreground.mask_path, mmap_mode='r', allow_pickle=False
            ).shape
        except (ValueError, OSError) as error:
            raise ValueError(
                f'Cannot read foreground mask {foreground.mask_path}: {error}'
            ) from error
        with Image.open(foreground.image_path) as image:
            width, height = image.size
        if mask_shape != (height, width):
            raise ValueError(
                f'Foreground mask {foreground.mask_path} has shape {mask_shape} '
                f'but its image {foreground.image_path} is {height}x{width} '
                '(HxW); expected an HxW mask of the image size'
            )


def list_backgrounds(test_root: str, subset: str = 'val') -> list[Background]:
    """Lists the ONLY-BG-T backgrounds of a Background Challenge test root.

    Args:
        test_root (str): Folder holding ``only_bg_t/<subset>``.
        subset (str): Sub-folder of every split. Defaults to ``'val'``.

    Returns:
        list[Background]: Class by class, in sorted stem order.
    """
    dataset = _split_dataset(test_root, BACKGROUND_SPLIT, subset)
    image_dir = osp.join(test_root, BACKGROUND_SPLIT, subset)
    return [
        Background(
            name=osp.relpath(info['img_path'], image_dir),
            image_path=info['img_path'],
        )
        for info in dataset.data_list
    ]


def sample_subset(
    items: Sequence, max_count: int | None, rng: np.random.Generator
) -> list:
    """A random subset of at most ``max_count`` items, in their order.

    Args:
        items (Sequence): Items to choose from.
        max_count (int, optional): Size of the subset; None (or at least
            ``len(items)``) keeps every item.
        rng (np.random.Generator): Source of the random choice.

    Returns:
        list: The chosen items, in the order they have in ``items``.
    """
    if max_count is None or max_count >= len(items):
        return list(items)
    if max_count < 1:
        raise ValueError(f'max_count must be at least 1, got {max_count}')
    chosen = rng.choice(len(items), size=max_count, replace=False)
    return [items[index] for index in sorted(chosen)]


def compose(image: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pastes a masked foreground on a background of any size.

    Args:
        image (np.ndarray): H×W×C image holding the foreground.
        mask (np.ndarray): H×W mask; non-zero pixels are the foreground.
        background (np.ndarray): h×w×C background; resized (bilinear) to
            H×W when its size differs.

    Returns:
        np.ndarray: H×W×C composite.
    """
    height, width = image.shape[:2]
    if background.shape[:2] != (height, width):
        background = cv2.resize(
            background, (width, height), interpolation=cv2.INTER_LINEAR
        )
    return hard_paste(image, mask, background)


def find_first_fooling_background(
    image: np.ndarray,
    mask: np.ndarray,
    label: int,
    load_background: Callable[[int], np.ndarray],
    num_backgrounds: int,
    predict: Predictor,
    batch_size: int,
) -> tuple[int | None, int | None, int]:
    """Tries one foreground on backgrounds, batch by batch, until one fools.

    Batches grow from one composite to ``batch_size`` by doubling: most
    foregrounds of a background-reliant model are fooled by one of their
    first backgrounds (62 % of the SynBG baseline's by the very first),
    and full batches would waste most of their composites on them, while a
    robust foreground pays only about log2(batch_size) small batches more.

    Args:
        image (np.ndarray): H×W×C image holding the foreground.
        mask (np.ndarray): Its H×W mask.
        label (int): The foreground's class.
        load_background (callable): ``load_background(index)`` gives
            background ``index`` in ``range(num_backgrounds)``.
        num_backgrounds (int): Number of backgrounds.
        predict (callable): ``predict(composites) -> labels``, one label per
            composite.
        batch_size (int): Largest number of composites per ``predict``
            call.

    Returns:
        tuple: Index of the first background whose composite is
        misclassified (None if none is), the label predicted for it (None
        likewise), and the number of composites passed to ``predict``.
    """
    start, size = 0, 1
    while start < num_backgrounds:
        indices = range(start, min(start + size, num_backgrounds))
        composites = [compose(image, mask, load_background(i)) for i in indices]
        predictions = list(predict(composites))
        if len(predictions) != len(composites):
            raise ValueError(
                f'predict returned {len(predictions)} labels for '
                f'{len(composites)} composites; expected one label per composite'
            )
        for index, prediction in zip(indices, predictions):
            if int(prediction) != label:
                return index, int(prediction), indices.stop
        start, size = indices.stop, min(2 * size, batch_size)
    return None, None, num_backgrounds


def challenge_accuracy(vulnerable: Sequence[bool]) -> float:
    """Challenge accuracy in percent: 100 − % of vulnerable foregrounds.

    Args:
        vulnerable (Sequence[bool]): Whether each foreground is vulnerable.

    Returns:
        float: The accuracy.
    """
    if not vulnerable:
        raise ValueError('challenge accuracy needs at least one foreground')
    robust = len(vulnerable) - sum(bool(v) for v in vulnerable)
    return 100.0 * robust / len(vulnerable)


def summarize(records: Sequence[dict]) -> dict:
    """Totals over per-foreground records.

    Args:
        records (Sequence[dict]): As written by
            :func:`evaluate_adversarial_backgrounds`.

    Returns:
        dict: ``num_foregrounds``, ``num_vulnerable``, ``challenge_accuracy``
        (percent), ``backgrounds_tried`` (composites up to each first
        fooling one), ``composites_evaluated`` (composites the model ran on)
        and ``seconds`` (evaluation time, summed over resumed runs).
    """
    vulnerable = [record['vulnerable'] for record in records]
    return dict(
        num_foregrounds=len(records),
        num_vulnerable=sum(vulnerable),
        challenge_accuracy=challenge_accuracy(vulnerable),
        backgrounds_tried=sum(record['backgrounds_tried'] for record in records),
        composites_evaluated=sum(record['composites_evaluated'] for record in records),
        seconds=sum(record['seconds'] for record in records),
    )


def format_adversarial_table(summary: dict) -> str:
    """Renders a summary as a Markdown table.

    Args:
        summary (dict): As returned by :func:`summarize`.

    Returns:
        str: A header row and one row of values.
    """
    return '\n'.join(
        [
            '| foregrounds | vulnerable | challenge accuracy (%) '
            '| composites evaluated | time (s) |',
            '|---|---|---|---|---|',
            f'| {summary["num_foregrounds"]} | {summary["num_vulnerable"]} '
            f'| {summary["challenge_accuracy"]:.2f} '
            f'| {summary["composites_evaluated"]} | {summary["seconds"]:.1f} |',
        ]
    )


def read_state(state_path: str, settings: dict) -> tuple[dict[str, dict], int]:
    """Reads the finished foregrounds of a state file.

    A run killed while writing leaves a last line without its newline; that
    line is not counted (its foreground is evaluated again).

    Args:
        state_path (str): The JSON-lines state file.
        settings (dict): Settings of the current run (JSON values).

    Returns:
        tuple: ``{foreground name: record}`` and the length in bytes of the
        complete lines (0 when the file does not exist).

    Raises:
        ValueError: If the file is not a state file, was written with other
            settings, or holds a corrupt line; the message names the file.
    """
    if not osp.exists(state_path):
        return {}, 0
    with open(state_path, 'rb') as file:
        content = file.read()
    complete_length = content.rfind(b'\n') + 1
    lines = content[:complete_length].decode('utf-8').splitlines()
    if not lines and content.startswith(_HEADER_START[: len(content)]):
        return {}, 0
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get('format') != _STATE_FORMAT:
        raise ValueError(
            f'{state_path} is not a state file of the adversarial-background '
            f'evaluation (its first line is not a {_STATE_FORMAT!r} header); '
            'move it away or choose another output folder'
        )
    differences = _differences(header['settings'], settings)
    if differences:
        raise ValueError(
            f'{state_path} holds results of a run with other settings ('
            + '; '.join(differences)
            + '). Use another output folder, or delete the file to start over'
        )
    finished = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(
                f'{state_path}, line {number}: not a JSON record ({error})'
            ) from error
        finished.setdefault(record['foreground'], record)
    return finished, complete_length


def _differences(stored: dict, current: dict) -> list[str]:
    return [
        f'{key}: {stored.get(key)!r} in the file, {current.get(key)!r} now'
        for key in sorted(set(stored) | set(current))
        if stored.get(key) != current.get(key)
    ]


def _open_state(state_path: str, settings: dict, complete_length: int):
    if complete_length == 0:
        file = open(state_path, 'wb')
        header = dict(format=_STATE_FORMAT, settings=settings)
        file.write((json.dumps(header) + '\n').encode('utf-8'))
    else:
        file = open(state_path, 'r+b')
        file.truncate(complete_length)
        file.seek(complete_length)
    return file


def evaluate_adversarial_backgrounds(
    foregrounds: Sequence[Foreground],
    backgrounds: Sequence[Background],
    predict: Predictor,
    batch_size: int = 64,
    load_image: ImageLoader | None = None,
    state_path: str | None = None,
    settings: dict | None = None,
    show_progress: bool = True,
) -> dict:
    """Pastes every foreground on every background and counts the fooled.

    Backgrounds are read once and kept in memory (about 600 MB for the
    4 050 backgrounds of the release).

    Args:
        foregrounds (Sequence[Foreground]): Foregrounds to evaluate.
        backgrounds (Sequence[Background]): Backgrounds to paste them on,
            tried in this order.
        predict (callable): ``predict(composites) -> labels``: takes a list
            of H×W×C images as ``load_image`` returns them and gives one
            class index per image.
        batch_size (int): Largest number of composites per ``predict``
            call; each foreground's batches grow 1, 2, 4, ... up to it.
            Defaults to 64.
        load_image (callable, optional): ``load_image(path)``; defaults to
            :func:`make_image_loader`'s.
        state_path (str, optional): JSON-lines file to append every finished
            foreground to, and to resume from. None keeps no state.
        settings (dict, optional): JSON-serialisable description of the run
            (test root, checkpoint, ...) stored in the state file; resuming
            with other settings is an error. The numbers of foregrounds and
            backgrounds are added to it.
        show_progress (bool): Print a progress bar over foregrounds with
            elapsed time and ETA. Defaults to True.

    Returns:
        dict: :func:`summarize`'s totals, ``settings``, ``backgrounds`` (the
        background names, in order) and ``foregrounds``: one record per
        foreground, in order, with ``foreground`` (name), ``label``,
        ``vulnerable``, ``backgrounds_tried`` (up to and including the
        first fooling one), ``composites_evaluated`` (passed to ``predict``:
        whole batches), ``first_fooling_background`` (index into
        ``backgrounds``, or None), ``fooling_background`` (its name),
        ``fooling_prediction`` (the label predicted for it) and ``seconds``.

    Raises:
        ValueError: If ``batch_size`` is not positive, or the state file
            does not belong to this run.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be at least 1, got {batch_size}')
    load_image = load_image or make_image_loader()
    # A JSON round trip, so that tuples compare equal to the lists read back.
    settings = json.loads(
        json.dumps(
            dict(
                settings or {},
                num_foregrounds=len(foregrounds),
                num_backgrounds=len(backgrounds),
            )
        )
    )
    finished, complete_length = ({}, 0)
    if state_path is not None:
        finished, complete_length = read_state(state_path, settings)
    names = {foreground.name for foreground in foregrounds}
    unknown = sorted(set(finished) - names)
    if unknown:
        raise ValueError(
            f'{state_path} holds results for foregrounds that this run does '
            f'not evaluate, e.g. {unknown[:_EXAMPLES_SHOWN]}; the test set '
            'changed since it was written. Delete it to start over'
        )
    remaining = [fg for fg in foregrounds if fg.name not in finished]
    if finished:
        print(
            f'Resuming from {state_path}: {len(finished)} of '
            f'{len(foregrounds)} foregrounds already evaluated'
        )

    load_background = lru_cache(maxsize=None)(
        lambda index: load_image(backgrounds[index].image_path)
    )
    load_mask = LoadForegroundMask()
    state = (
        _open_state(state_path, settings, complete_length)
        if state_path is not None and remaining
        else None
    )
    progress = ProgressBar(len(remaining)) if show_progress and remaining else None
    try:
        for foreground in remaining:
            start = time.perf_counter()
            image = load_image(foreground.image_path)
            mask = load_mask(
                dict(
                    img=image,
                    img_path=foreground.image_path,
                    fg_mask_path=foreground.mask_path,
                    fg_mask_source='mask',
                )
            )['fg_mask']
            fooling, prediction, evaluated = find_first_fooling_background(
                image,
                mask,
                foreground.label,
                load_background,
                len(backgrounds),
                predict,
                batch_size,
            )
            record = dict(
                foreground=foreground.name,
                label=foreground.label,
                vulnerable=fooling is not None,
                backgrounds_tried=len(backgrounds) if fooling is None else fooling + 1,
                composites_evaluated=evaluated,
                first_fooling_background=fooling,
                fooling_background=None
                if fooling is None
                else backgrounds[fooling].name,
                fooling_prediction=prediction,
                seconds=time.perf_counter() - start,
            )
            finished[foreground.name] = record
            if state is not None:
                state.write((json.dumps(record) + '\n').encode('utf-8'))
                state.flush()
            if progress is not None:
                progress.update()
    finally:
        if state is not None:
            state.close()
        if progress is not None:
            print()

    records = [finished[foreground.name] for foreground in foregrounds]
    return dict(
        settings=settings,
        **summarize(records),
        backgrounds=[background.name for background in backgrounds],
        foregrounds=records,
    )


def build_composite_predictor(
    model,
    pipeline: InferencePipeline,
    to_dataset_labels: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> Predictor:
    """Runs composites through a config's test-time pixel path.

    The composites go through the transforms of the test pipeline after its
    loading one, then the model's data preprocessor normalises the batch
    (mean, std, BGR→RGB as configured). Images to compose should be read
    with ``pipeline.load_image``, so that they are decoded as in
    ``tools/test.py``.

    Args:
        model (BaseModel): The classifier, e.g. from
            :func:`clad_mm.apis.load_classifier`.
        pipeline (InferencePipeline): The config's test pipeline.
        to_dataset_labels (callable, optional): Maps an N×C batch of the
            model's scores to N test-set labels, e.g. a
            ``BGChallengeMetric`` ``label_mapping`` for ImageNet-1k models.
            None: the predicted label is the model's class.

    Returns:
        callable: ``predict(composites) -> labels``.
    """

    @torch.no_grad()
    def predict(composites: list[np.ndarray]) -> list[int]:
        outputs = model.test_step(default_collate([pipeline(c) for c in composites]))
        if to_dataset_labels is None:
            return [int(sample.pred_label) for sample in outputs]
        scores = torch.stack([sample.pred_score for sample in outputs])
        return to_dataset_labels(scores).tolist()

    return predict


def _require_matching_classes(cfg, test_root: str, classes: Sequence[str]):
    evaluators = cfg.get('test_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    mappings = [e['label_mapping'] for e in evaluators if e.get('label_mapping')]
    if mappings:
        to_dataset_labels, mapped_classes = LABEL_MAPPINGS[mappings[0]]
        if tuple(classes) != tuple(mapped_classes):
            raise ValueError(
                f'Config {cfg.filename} reads its predictions as the classes '
                f'{list(mapped_classes)} (label_mapping={mappings[0]!r}) but '
                f'test root {test_root} holds {list(classes)}'
            )
        return to_dataset_labels
    num_classes = cfg.model.head.get('num_classes')
    if num_classes is not None and num_classes != len(classes):
        raise ValueError(
            f'Test root {test_root} has {len(classes)} classes {list(classes)} '
            f'but config {cfg.filename} predicts {num_classes} '
            '(model.head.num_classes); expected one class folder per class'
        )
    return None


def run_adversarial_backgrounds(
    cfg,
    checkpoint: str,
    out_dir: str,
    test_root: str | None = None,
    batch_size: int = 64,
    max_foregrounds: int | None = None,
    max_backgrounds: int | None = None,
    seed: int = 0,
    device: str = 'cpu',
    show_progress: bool = True,
) -> dict:
    """Evaluates a config and checkpoint on adversarial backgrounds.

    Writes ``<out_dir>/bg_challenge_adversarial.json`` and keeps the state
    in ``<out_dir>/bg_challenge_adversarial_state.jsonl``; calling again
    with the same arguments resumes.

    Args:
        cfg (Config): MMPretrain config; its ``test_dataloader`` gives the
            default test root, the subset and the test pipeline, and the
            ``label_mapping`` of its ``test_evaluator`` (``BGChallengeMetric``),
            if any, maps the predictions to the test set's classes (an
            ImageNet-1k model is scored on IN-9 as the official evaluation
            does).
        checkpoint (str): Checkpoint of the config's model.
        out_dir (str): Folder for the results and the state; created.
        test_root (str, optional): Test root; defaults to the config's
            ``test_dataloader.dataset.data_root``.
        batch_size (int): Largest number of composites per forward pass.
            Defaults to 64.
        max_foregrounds (int, optional): Evaluate a random subset of this
            many foregrounds (a quick estimate). None: all.
        max_backgrounds (int, optional): Likewise for backgrounds.
        seed (int): Seed of the subsets. Defaults to 0.
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to ``'cpu'``.
        show_progress (bool): Print a progress bar. Defaults to True.

    Returns:
        dict: :func:`evaluate_adversarial_backgrounds`'s report, as written.

    Raises:
        FileExistsError: If ``out_dir`` holds a result without the state
            file it was made from (it is not overwritten).
        ValueError: If the test root's classes do not match the model's
            (or, with a ``label_mapping`` in the config's
            ``BGChallengeMetric``, the mapping's).
    """
    dataset_cfg = cfg.test_dataloader.dataset
    test_root = test_root or dataset_cfg.data_root
    subset = dataset_cfg.get('subset', 'val')
    foregrounds, classes = list_foregrounds(test_root, subset)
    backgrounds = list_backgrounds(test_root, subset)
    to_dataset_labels = _require_matching_classes(cfg, test_root, classes)
    rng = np.random.default_rng(seed)
    foregrounds = sample_subset(foregrounds, max_foregrounds, rng)
    backgrounds = sample_subset(backgrounds, max_backgrounds, rng)

    os.makedirs(out_dir, exist_ok=True)
    result_path = osp.join(out_dir, RESULT_FILE)
    state_path = osp.join(out_dir, STATE_FILE)
    if osp.exists(result_path) and not osp.exists(state_path):
        raise FileExistsError(
            f'{result_path} exists but its state file {state_path} does not; '
            'move the result away or choose another output folder'
        )
    pipeline = InferencePipeline(cfg)
    predict = build_composite_predictor(
        load_classifier(cfg, checkpoint, device), pipeline, to_dataset_labels
    )
    settings = dict(
        config=osp.abspath(cfg.filename),
        checkpoint=checkpoint if '://' in checkpoint else osp.abspath(checkpoint),
        test_root=osp.abspath(test_root),
        subset=subset,
        max_foregrounds=max_foregrounds,
        max_backgrounds=max_backgrounds,
        seed=seed,
    )
    print(
        f'{len(foregrounds)} foregrounds x {len(backgrounds)} backgrounds of '
        f'{test_root}; state in {state_path}'
    )
    report = evaluate_adversarial_backgrounds(
        foregrounds,
        backgrounds,
        predict,
        batch_size=batch_size,
        load_image=pipeline.load_image,
        state_path=state_path,
        settings=settings,
        show_progress=show_progress,
    )
    with open(result_path, 'w') as file:
        json.dump(report, file, indent=2)
    return report
