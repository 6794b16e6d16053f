"""Retrieval metrics of deep metric learning on clean and background-replaced sets."""

import re
from collections.abc import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from clad_mm.utils.errors import UserError

from .retrieval_knn import RANKING_METRICS, resolve_backend, retrieval_metrics

#: ``bg_draw`` of the clean test set; d >= 0 is the d-th replaced copy.
CLEAN_DRAW = -1


def metric_columns(metrics: dict, setting_prefix: str) -> list[str]:
    """The metric names reported under a prefix, in reporting order.

    Args:
        metrics (dict): Metric dict keyed ``'<setting_prefix><name>'``.
        setting_prefix (str): E.g. ``'retrieval/clean/'``.

    Returns:
        list[str]: :data:`RANKING_METRICS` present, then ``'Recall@K'`` by K.
    """
    names = [
        key[len(setting_prefix) :] for key in metrics if key.startswith(setting_prefix)
    ]
    recalls = sorted(
        (name for name in names if re.fullmatch(r'Recall@\d+', name)),
        key=lambda name: int(name.split('@')[1]),
    )
    return [name for name in RANKING_METRICS if name in names] + recalls


def format_retrieval_table(metrics: dict, prefix: str = 'retrieval') -> str:
    """Renders clean and background-replaced retrieval figures as Markdown.

    Args:
        metrics (dict): Metric dict with keys ``'<prefix>/clean/<metric>'``
            and, if there were replaced draws, ``'<prefix>/replaced/<metric>'``,
            ``'<prefix>/replaced/<metric>_std'`` and
            ``'<prefix>/replaced/num_draws'``, as returned by
            ``Runner.test()``.
        prefix (str): The metric prefix. Defaults to ``'retrieval'``.

    Returns:
        str: The table: one column per metric (percent), a row for the clean
        set and one for the replaced draws' mean ± sample std.

    Raises:
        UserError: If ``metrics`` holds no retrieval figure under ``prefix``.
    """
    clean, replaced = f'{prefix}/clean/', f'{prefix}/replaced/'
    columns = metric_columns(metrics, clean) or metric_columns(metrics, replaced)
    if not columns:
        raise UserError(
            f'No retrieval figures ({clean}<metric> or {replaced}<metric>) among '
            f'the metrics {sorted(metrics)}'
        )
    lines = [
        '| test set | ' + ' | '.join(f'{name} (%)' for name in columns) + ' |',
        '|---' * (len(columns) + 1) + '|',
    ]
    if f'{clean}{columns[0]}' in metrics:
        values = ' | '.join(f'{metrics[clean + name]:.2f}' for name in columns)
        lines.append(f'| clean | {values} |')
    if f'{replaced}num_draws' in metrics:
        values = ' | '.join(
            f'{metrics[replaced + name]:.2f} ± {metrics[f"{replaced}{name}_std"]:.2f}'
            for name in columns
        )
        num_draws = metrics[f'{replaced}num_draws']
        lines.append(f'| replaced (mean ± std over {num_draws} draws) | {values} |')
    return '\n'.join(lines)


@METRICS.register_module()
class DMLRetrievalMetric(BaseMetric):
    """MAP@R, P@1, R-Precision and Recall@K, clean and background-replaced.

    The evaluation of Kobs & Hotho, `On Background Bias in Deep Metric
    Learning <https://arxiv.org/abs/2210.01615>`_ (ICMV 2022, BGAugment):
    the test set is both query and gallery, each query's own image excluded
    from its neighbours, and the figures are pytorch-metric-learning's
    ``AccuracyCalculator`` ones (``k='max_bin_count'``, queries whose class
    has no other image left out), plus Recall@K; see
    :func:`~clad_mm.evaluation.metrics.retrieval_knn.retrieval_metrics`,
    which computes them by exact, chunked k-NN.

    Each data sample must carry its ``embedding`` (a 1-D tensor, which
    clad_mm's ``DMLRetriever`` sets in test mode), its ``gt_label`` and, in
    its metainfo, ``bg_draw``: -1 (or absent) for the clean test set,
    d >= 0 for the d-th copy of the test set with its backgrounds replaced.
    Every setting is evaluated on its own, its images querying only its own
    images. Results are ``'<prefix>/clean/<metric>'`` and, when replaced
    draws exist, ``'<prefix>/replaced/<metric>'`` (mean over draws),
    ``'<prefix>/replaced/<metric>_std'`` (sample std, ddof 1; 0.0 with a
    single draw, where it is undefined) and ``'<prefix>/replaced/num_draws'``;
    e.g. ``save_best='retrieval/clean/MAP@R'`` in ``CheckpointHook``. The
    table of :func:`format_retrieval_table` is also written to the log.

    Args:
        recall_at (Sequence[int]): The K of every Recall@K. Defaults to
            (1, 2, 4, 8).
        backend (str): k-NN backend, ``'auto'`` (faiss when importable),
            ``'torch'`` or ``'faiss'``. Defaults to ``'auto'``.
        max_chunk_elements (int): Bound on the distances held at once.
            Defaults to 2**24.
        collect_device (str): Device used to collect results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to
            ``'retrieval'``.
    """

    default_prefix = 'retrieval'

    def __init__(
        self,
        recall_at: Sequence[int] = (1, 2, 4, 8),
        backend: str = 'auto',
        max_chunk_elements: int = 2**24,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ):
        # Fails at build time rather than after the whole test loop.
        resolve_backend(backend)
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.recall_at = tuple(recall_at)
        self.backend = backend
        self.max_chunk_elements = max_chunk_elements

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'embedding' not in sample:
                raise UserError(
                    "DMLRetrievalMetric needs each sample's 'embedding' (got "
                    f"keys: {sorted(sample)}); the model must be clad_mm's "
                    'DMLRetriever with prototype=None, whose test mode returns '
                    'embeddings'
                )
            draw = int(sample.get('bg_draw', CLEAN_DRAW))
            if draw < CLEAN_DRAW:
                raise UserError(
                    f'bg_draw must be -1 (clean) or a draw index >= 0, got {draw}'
                )
            embedding = sample['embedding'].detach().cpu().flatten()
            self.results.append((draw, embedding, int(sample['gt_label'])))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            # BaseMetric.evaluate has already warned that nothing was processed.
            return {}
        by_draw = {}
        for draw, embedding, label in results:
            by_draw.setdefault(draw, ([], []))
            by_draw[draw][0].append(embedding)
            by_draw[draw][1].append(label)
        self._check_draw_sizes(
            {draw: len(labels) for draw, (_, labels) in by_draw.items()}
        )

        logger = MMLogger.get_current_instance()
        metrics = {}
        if CLEAN_DRAW in by_draw:
            clean = self._evaluate_setting(*by_draw[CLEAN_DRAW])
            names = [name for name in clean if not name.startswith('num_')]
            metrics.update({f'clean/{name}': clean[name] for name in names})
            logger.info(
                f'DML retrieval, clean: {clean["num_queries"]} queries, '
                f'{clean["num_lone_queries"]} lone ones left out'
            )
        draws = sorted(draw for draw in by_draw if draw != CLEAN_DRAW)
        if draws:
            per_draw = [self._evaluate_setting(*by_draw[draw]) for draw in draws]
            names = [name for name in per_draw[0] if not name.startswith('num_')]
            for name in names:
                values = np.array([figures[name] for figures in per_draw])
                metrics[f'replaced/{name}'] = float(values.mean())
                # ddof=1 is undefined for one draw; 0.0 says "no spread seen".
                std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
                metrics[f'replaced/{name}_std'] = std
            metrics['replaced/num_draws'] = len(draws)
        table = format_retrieval_table(
            {f'{self.prefix}/{key}': value for key, value in metrics.items()},
            self.prefix,
        )
        logger.info(f'DML retrieval:\n{table}')
        return metrics

    def _evaluate_setting(self, embeddings: list, labels: list) -> dict:
        """The figures of one setting, its images querying each other.

        Args:
            embeddings (list[Tensor]): The setting's 1-D embeddings.
            labels (list[int]): Their classes.

        Returns:
            dict: As from :func:`retrieval_metrics`.
        """
        return retrieval_metrics(
            torch.stack(embeddings),
            torch.tensor(labels),
            self.recall_at,
            self.backend,
            self.max_chunk_elements,
        )

    @staticmethod
    def _check_draw_sizes(sizes: dict) -> None:
        """Raises a :class:`UserError` unless every setting has as many images.

        Args:
            sizes (dict): Images per ``bg_draw``.
        """
        reference = CLEAN_DRAW if CLEAN_DRAW in sizes else min(sizes)
        name = 'the clean set' if reference == CLEAN_DRAW else f'bg_draw {reference}'
        for draw, size in sorted(sizes.items()):
            if size != sizes[reference]:
                raise UserError(
                    f'bg_draw {draw} has {size} images but {name} has '
                    f'{sizes[reference]}; every background-replaced draw must be '
                    'a full copy of the test set'
                )
