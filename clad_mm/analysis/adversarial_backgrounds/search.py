"""The search for fooling backgrounds, and the challenge accuracy.

From "Noise or Signal: The Role of Image Backgrounds in Object Recognition"
(Xiao et al., ICLR 2021), the leaderboard metric of the Background
Challenge, used to compare background-debiased models such as CLAD (BMVC
2022). Every foreground of the test set is pasted on every ONLY-BG-T test
background. A foreground is *vulnerable* when at least one of its
composites is misclassified, and::

    challenge accuracy = 100 − 100 · (vulnerable foregrounds) / (foregrounds)

(an ImageNet ResNet-50 scores 22.3 %). The evaluation of a foreground stops
at its first misclassified composite, so a vulnerable foreground often costs
a handful of composites and a robust one a composite per background: up to
4 050 × 4 050 = 16.4 million composites on the full release.

:func:`evaluate_adversarial_backgrounds` takes any
``predict(composites) -> labels`` callable and is resumable (see
:mod:`.resume_state`).
"""

import json
import time
from collections.abc import Callable, Sequence
from functools import lru_cache

import cv2
import numpy as np
from mmengine.utils import ProgressBar

from clad_mm.datasets.transforms.foreground_paste import hard_paste
from clad_mm.datasets.transforms.load_foreground_mask import LoadForegroundMask
from clad_mm.utils.errors import UserError

from .challenge_set import Background, Foreground, ImageLoader, make_image_loader
from .resume_state import open_state, read_state, require_known_foregrounds

Predictor = Callable[[list[np.ndarray]], Sequence[int]]


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
            :func:`~.challenge_set.make_image_loader`'s.
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
        raise UserError(f'batch_size must be at least 1, got {batch_size}')
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
        require_known_foregrounds(
            state_path, finished, [foreground.name for foreground in foregrounds]
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
        open_state(state_path, settings, complete_length)
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
