"""Plots of a run's evaluation metrics, sent to MMEngine's visualizer backends.

The hook lives with the plots, not in :mod:`clad_mm.engine`: the runtime
that ``custom_imports=['clad_mm']`` loads never imports the plotting code.
Importing :mod:`clad_mm.visualization` registers it; ``tools/train.py`` and
``tools/test.py`` do, and add it to every run (:func:`add_result_plots_hook`).
"""

import os.path as osp

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS

from clad_mm.analysis.comparison import (
    GROUP_PREFIX,
    METRIC_PREFIX,
    RETRIEVAL_PREFIX,
    has_background_results,
)
from clad_mm.analysis.retrieval_examples import retrieval_examples
from clad_mm.analysis.shape_bias import texture_splits_present
from clad_mm.datasets.folder_layout import BG_GAP_SPLITS
from clad_mm.evaluation.metrics.dml_retrieval_metric import metric_columns

from .agg_figure import figure_to_rgb
from .group_accuracy_plot import draw_group_accuracies
from .mixed_scatter_plot import draw_mixed_same_vs_rand
from .retrieval_examples_plot import draw_retrieval_examples
from .retrieval_plot import draw_retrieval_metrics
from .shape_bias_plot import draw_results_shape_bias
from .split_accuracy_plot import draw_split_accuracies

#: The key of the hook in ``default_hooks``.
HOOK_KEY = 'result_plots'


@HOOKS.register_module()
class ResultPlotsHook(Hook):
    """Draws what the metrics of a validation or test run support.

    After every validation and test epoch, the hook reads the metrics dict
    and draws, for the metric prefixes it knows (other keys are ignored; a
    dict without any of them draws nothing):

    - ``bg_challenge/<split>`` (:class:`BGChallengeMetric`) with a
      background split: ``<mode>_bg_challenge``, a bar per split and one for
      BG-GAP (:func:`draw_split_accuracies`);
    - both ``mixed_same`` and ``mixed_rand``: ``<mode>_mixed_same_vs_rand``,
      the model's point against the identity line
      (:func:`draw_mixed_same_vs_rand`);
    - texture splits (``random_texture``, ``outline``, ...):
      ``<mode>_shape_bias``, ORIGINAL and every texture split
      (:func:`draw_results_shape_bias`);
    - ``group/...`` (:class:`GroupAccuracyMetric`): ``<mode>_group_accuracy``,
      every group by name and the summaries (:func:`draw_group_accuracies`);
    - ``retrieval/...`` (:class:`DMLRetrievalMetric`): ``<mode>_retrieval``,
      each figure clean and background-replaced
      (:func:`draw_retrieval_metrics`).

    A test of a retriever whose samples carry an ``embedding`` (clad_mm's
    ``DMLRetriever``) also gets ``test_retrieval_examples``: evenly spaced
    queries of the clean test set beside their nearest other test images
    (:func:`~clad_mm.analysis.retrieval_examples.retrieval_examples`,
    :func:`draw_retrieval_examples`). Under distributed testing these come
    from the main process's share of the test set.

    ``<mode>`` is ``val`` or ``test``. Each plot goes as an RGB array to
    ``runner.visualizer.add_image(name, image, step)``, and so to every
    backend of the config's ``visualizer``: ``LocalVisBackend`` writes
    ``<work_dir>/<timestamp>/vis_data/vis_image/<name>_<step>.png``,
    ``TensorboardVisBackend`` and ``WandbVisBackend`` log the image under
    ``<name>``. The step is the epoch (the iteration for iteration-based
    training) after which validation ran, 0 for a test without training.
    Only the main process draws: the backends write on rank 0 alone.

    Args:
        model_name (str, optional): The model's label in the plots'
            titles and legends. Defaults to the config file's stem (or
            ``'model'`` for a config that has none).
        num_retrieval_queries (int): Queries in the retrieval examples.
            Defaults to 4.
        num_retrieval_matches (int): Nearest images shown per query.
            Defaults to 5.
    """

    priority = 'LOW'

    def __init__(
        self,
        model_name: str | None = None,
        num_retrieval_queries: int = 4,
        num_retrieval_matches: int = 5,
    ):
        self.model_name = model_name
        self.num_retrieval_queries = num_retrieval_queries
        self.num_retrieval_matches = num_retrieval_matches
        self._embedded = []

    def before_test_epoch(self, runner) -> None:
        """Starts collecting the test set's embeddings afresh."""
        self._embedded = []

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        """Keeps each clean test sample's embedding, path and class."""
        if not is_main_process():
            return
        for sample in outputs or ():
            clean = int(sample.get('bg_draw', -1)) == -1  # not a replaced copy
            if clean and 'embedding' in sample and 'img_path' in sample:
                self._embedded.append(
                    (
                        sample.img_path,
                        int(sample.gt_label),
                        sample.embedding.detach().cpu().flatten(),
                    )
                )

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        """Draws the validation metrics' plots as ``val_<plot>``."""
        self._draw(runner, metrics, 'val', runner.val_dataloader, runner.val_evaluator)

    def after_test_epoch(self, runner, metrics: dict | None = None) -> None:
        """Draws the test metrics' plots and retrieval examples as ``test_<plot>``."""
        self._draw(
            runner, metrics, 'test', runner.test_dataloader, runner.test_evaluator
        )
        if len(self._embedded) >= 2 and is_main_process():
            figure = self._retrieval_examples_figure(runner)
            runner.visualizer.add_image(
                'test_retrieval_examples', figure_to_rgb(figure), _step(runner)
            )
        self._embedded = []

    def _retrieval_examples_figure(self, runner):
        paths, labels, embeddings = zip(*self._embedded, strict=True)
        dataset = getattr(runner.test_dataloader, 'dataset', None)
        classes = getattr(dataset, 'metainfo', {}).get('classes')

        def label_text(label):
            return str(classes[label]) if classes is not None else f'class {label}'

        rows = [
            dict(
                query=paths[example['index']],
                query_label=label_text(labels[example['index']]),
                matches=[
                    (paths[i], label_text(labels[i]), similarity, same)
                    for i, similarity, same in example['matches']
                ],
            )
            for example in retrieval_examples(
                torch.stack(embeddings),
                labels,
                self.num_retrieval_queries,
                self.num_retrieval_matches,
            )
        ]
        return draw_retrieval_examples(
            rows, title=f'{self._name(runner)}: nearest test images'
        )

    def _draw(self, runner, metrics, mode, dataloader, evaluator) -> None:
        if not metrics or not is_main_process():
            return
        figures = result_figures(
            metrics, self._name(runner), _group_names(dataloader, evaluator)
        )
        step = _step(runner)
        for name, figure in figures.items():
            runner.visualizer.add_image(f'{mode}_{name}', figure_to_rgb(figure), step)

    def _name(self, runner) -> str:
        if self.model_name is not None:
            return self.model_name
        filename = getattr(runner.cfg, 'filename', None)
        return osp.splitext(osp.basename(filename))[0] if filename else 'model'


def result_figures(metrics: dict, model_name: str, group_names=None) -> dict:
    """The figures a metrics dict supports, by plot name (see ResultPlotsHook).

    Args:
        metrics (dict): An evaluator's metrics, e.g. ``Runner.test()``'s.
        model_name (str): The model's label in the plots.
        group_names (Sequence[str], optional): Name of every group, by
            index, for the group-accuracy bars.

    Returns:
        dict: ``{plot name: matplotlib.figure.Figure}``, empty when no key
        has a known prefix.
    """
    figures = {}
    splits = {
        key[len(METRIC_PREFIX) :]: value
        for key, value in metrics.items()
        if key.startswith(METRIC_PREFIX)
    }
    result = dict(name=model_name, metrics=splits)
    if has_background_results([result]):
        figures['bg_challenge'] = draw_split_accuracies(metrics, title=model_name)
    if all(split in splits for split in BG_GAP_SPLITS):
        figures['mixed_same_vs_rand'] = draw_mixed_same_vs_rand(
            [model_name], [splits['mixed_same']], [splits['mixed_rand']]
        )
    if texture_splits_present([result]):
        figures['shape_bias'] = draw_results_shape_bias([result])
    if any(key.startswith(f'{GROUP_PREFIX}accuracy/group_') for key in metrics):
        figures['group_accuracy'] = draw_group_accuracies(
            metrics, group_names, title=model_name
        )
    if metric_columns(metrics, f'{RETRIEVAL_PREFIX}clean/') or metric_columns(
        metrics, f'{RETRIEVAL_PREFIX}replaced/'
    ):
        figures['retrieval'] = draw_retrieval_metrics(metrics, title=model_name)
    return figures


def add_result_plots_hook(cfg) -> None:
    """Adds :class:`ResultPlotsHook` to a config's ``default_hooks``.

    A config (or ``--cfg-options``) that sets ``default_hooks.result_plots``
    keeps its own; ``default_hooks.result_plots=None`` turns the plots off
    (the key is then removed, since MMEngine accepts None only for its own
    default hooks).

    Args:
        cfg (Config): The config to edit in place.
    """
    hooks = cfg.get('default_hooks') or {}
    if HOOK_KEY not in hooks:
        hooks[HOOK_KEY] = dict(type='ResultPlotsHook')
    elif hooks[HOOK_KEY] is None:
        del hooks[HOOK_KEY]
    cfg.default_hooks = hooks


def _step(runner) -> int:
    # As LoggerHook: reading runner.epoch would build a train loop that a
    # test-only runner does not have.
    loop = runner._train_loop
    if loop is None or isinstance(loop, dict):
        return 0
    return runner.epoch if isinstance(loop, EpochBasedTrainLoop) else runner.iter


def _group_names(dataloader, evaluator):
    """The group names of GroupAccuracyMetric, else of the data set's metainfo."""
    for metric in getattr(evaluator, 'metrics', ()):
        if getattr(metric, 'group_names', None):
            return metric.group_names
    return getattr(getattr(dataloader, 'dataset', None), 'metainfo', {}).get(
        'group_names'
    )
