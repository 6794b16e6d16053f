"""Adversarial-background evaluation of a config and checkpoint.

:func:`run_adversarial_backgrounds` does everything
``tools/analysis/bg_challenge.py`` needs: it lists the test root's
foregrounds and backgrounds (:mod:`.challenge_set`), builds a predictor
that runs composites through the config's test pipeline and model
(:func:`build_composite_predictor`, with the config's ``label_mapping`` for
ImageNet-1k models, as in ``configs/clad/resnet50_in1k_bgchallenge.py``),
searches the fooling backgrounds (:mod:`.search`) with its state in the
output folder (:mod:`.resume_state`), and writes the report;
:func:`format_adversarial_table` renders its totals.
"""

import os
import os.path as osp
from collections.abc import Callable, Sequence

import numpy as np
import torch
from mmengine.dataset import default_collate

from clad_mm.apis.classifier_loading import load_classifier
from clad_mm.apis.inference_pipeline import InferencePipeline
from clad_mm.evaluation.metrics.bg_challenge_metric import LABEL_MAPPINGS
from clad_mm.utils.errors import OutputExistsError, UserError
from clad_mm.utils.fileio import file_sha256, write_json_atomically

from .challenge_set import list_backgrounds, list_foregrounds, sample_subset
from .search import Predictor, evaluate_adversarial_backgrounds

STATE_FILE = 'bg_challenge_adversarial_state.jsonl'
RESULT_FILE = 'bg_challenge_adversarial.json'


def format_adversarial_table(summary: dict) -> str:
    """Renders a summary as a Markdown table.

    Args:
        summary (dict): As returned by :func:`~.search.summarize`.

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
            raise UserError(
                f'Config {cfg.filename} reads its predictions as the classes '
                f'{list(mapped_classes)} (label_mapping={mappings[0]!r}) but '
                f'test root {test_root} holds {list(classes)}'
            )
        return to_dataset_labels
    num_classes = cfg.model.head.get('num_classes')
    if num_classes is not None and num_classes != len(classes):
        raise UserError(
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
        dict: :func:`~.search.evaluate_adversarial_backgrounds`'s report, as written.

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
    foregrounds = sample_subset(
        foregrounds,
        max_foregrounds,
        rng,
        '--max-foregrounds',
        f'foregrounds of {test_root}',
    )
    backgrounds = sample_subset(
        backgrounds,
        max_backgrounds,
        rng,
        '--max-backgrounds',
        f'backgrounds of {test_root}',
    )

    os.makedirs(out_dir, exist_ok=True)
    result_path = osp.join(out_dir, RESULT_FILE)
    state_path = osp.join(out_dir, STATE_FILE)
    if osp.exists(result_path) and not osp.exists(state_path):
        raise OutputExistsError(
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
        # A file replaced under the same path is another model: runs are
        # matched by content, not by path.
        checkpoint_sha256=None if '://' in checkpoint else file_sha256(checkpoint),
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
    write_json_atomically(result_path, report, indent=2)
    return report
