"""Group-robustness accuracies: per group, their means and the worst group.

A group is a target class crossed with a bias attribute, e.g. Waterbirds'
'landbird on water' (`GroupDRO <https://arxiv.org/abs/1911.08731>`_) or
CelebA's 'blond male'. The literature reports several figures under similar
names; this module names each one apart:

- overall accuracy: over all test images;
- accuracy per group: over the test images of one group;
- unweighted group mean: the mean of the per-group accuracies over the groups
  present, the "unbiased" accuracy of BPA and `ClusterFix
  <https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_;
- train-proportion-weighted mean: the per-group accuracies weighted by each
  group's share of the training set, the "average accuracy" of the
  GroupDRO, JTT and DFR Waterbirds results;
- worst-group accuracy: the minimum over the groups present.

A group without test images has no accuracy: it is absent from the results
(never reported as 0) and left out of both means and of the worst group.
"""

from collections.abc import Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from clad_mm.utils.errors import UserError

#: Shown in the table for a group without test images.
ABSENT = '–'


def group_sizes(groups: Sequence[int], num_groups: int) -> list[int]:
    """The number of images in every group.

    Args:
        groups (Sequence[int]): The group index of each image.
        num_groups (int): The number of groups; indices are 0 to
            ``num_groups - 1``.

    Returns:
        list[int]: Images per group, 0 for a group without any.

    Raises:
        UserError: If a group index is outside ``[0, num_groups)``.
    """
    sizes = [0] * num_groups
    for group in groups:
        if not 0 <= group < num_groups:
            raise UserError(
                f'Group index {group} is outside [0, {num_groups}); the '
                f'group_names or train_group_counts describe {num_groups} '
                'groups'
            )
        sizes[group] += 1
    return sizes


def group_accuracies(
    groups: Sequence[int], correct: Sequence[bool], num_groups: int
) -> dict:
    """Top-1 accuracy (percent) of every group that has test images.

    Args:
        groups (Sequence[int]): The group index of each image.
        correct (Sequence[bool]): Whether each image was classified correctly.
        num_groups (int): The number of groups; indices are 0 to
            ``num_groups - 1``.

    Returns:
        dict: ``{group_index: accuracy}`` in index order; a group without
        test images has no entry.

    Raises:
        UserError: If a group index is outside ``[0, num_groups)``.
    """
    sizes = group_sizes(groups, num_groups)
    hits = [0] * num_groups
    for group, is_correct in zip(groups, correct, strict=True):
        hits[group] += int(bool(is_correct))
    return {
        group: 100.0 * hits[group] / sizes[group]
        for group in range(num_groups)
        if sizes[group]
    }


def unweighted_group_mean(accuracies: dict) -> float:
    """The mean of the per-group accuracies, each group counting once.

    ClusterFix's and BPA's "unbiased" accuracy.

    Args:
        accuracies (dict): ``{group_index: accuracy}`` of the groups present,
            as from :func:`group_accuracies`.
    """
    return sum(accuracies.values()) / len(accuracies)


def train_weighted_mean(
    accuracies: dict, train_group_counts: Sequence[int]
) -> float | None:
    """Per-group accuracies weighted by each group's share of the training set.

    The "average accuracy" of GroupDRO, JTT and DFR on Waterbirds. The
    weights are renormalised over the groups present in the test set: with
    every group present this is the usual figure; with a group absent, it is
    the weighted mean of the others.

    Args:
        accuracies (dict): ``{group_index: accuracy}`` of the groups present,
            as from :func:`group_accuracies`.
        train_group_counts (Sequence[int]): Training images of every group.

    Returns:
        float | None: The weighted mean, or None if the groups present have
        no training image (no weights to renormalise).
    """
    total = sum(train_group_counts[group] for group in accuracies)
    if total == 0:
        return None
    weighted = sum(
        train_group_counts[group] * accuracy for group, accuracy in accuracies.items()
    )
    return weighted / total


def worst_group(accuracies: dict) -> tuple[int, float]:
    """The group of lowest accuracy among those present.

    Args:
        accuracies (dict): ``{group_index: accuracy}`` of the groups present,
            as from :func:`group_accuracies`.

    Returns:
        tuple[int, float]: Its index (the lowest on a tie) and its accuracy.
    """
    index = min(accuracies, key=lambda group: (accuracies[group], group))
    return index, accuracies[index]


def format_group_table(
    metrics: dict, group_names: Sequence[str], prefix: str = 'group'
) -> str:
    """Renders the per-group and summary accuracies as a Markdown table.

    Args:
        metrics (dict): Metric dict as returned by ``Runner.test()`` with
            :class:`GroupAccuracyMetric`: keys
            ``'<prefix>/accuracy/group_<i>'`` (groups with test images),
            ``'<prefix>/num_images/group_<i>'``,
            ``'<prefix>/accuracy/overall'``,
            ``'<prefix>/unweighted_group_mean'``, ``'<prefix>/worst_group'``,
            ``'<prefix>/worst_group_index'`` and, when training counts were
            known, ``'<prefix>/train_weighted_mean'``.
        group_names (Sequence[str]): The name of every group, by index.
        prefix (str): The metric prefix. Defaults to ``'group'``.

    Returns:
        str: The table: a row per group (index, name, test images, accuracy,
        ``'–'`` for a group without test images), then the summary rows.
    """
    start = f'{prefix}/'
    lines = ['| group | name | test images | accuracy (%) |', '|---|---|---|---|']
    for index, name in enumerate(group_names):
        count = metrics.get(f'{start}num_images/group_{index}', 0)
        accuracy = metrics.get(f'{start}accuracy/group_{index}')
        shown = ABSENT if accuracy is None else f'{accuracy:.2f}'
        lines.append(f'| {index} | {name} | {count} | {shown} |')
    if f'{start}accuracy/overall' in metrics:
        lines.append(f'| overall | | | {metrics[f"{start}accuracy/overall"]:.2f} |')
    if f'{start}unweighted_group_mean' in metrics:
        mean = metrics[f'{start}unweighted_group_mean']
        lines.append(f'| unweighted group mean | | | {mean:.2f} |')
    if f'{start}train_weighted_mean' in metrics:
        mean = metrics[f'{start}train_weighted_mean']
        lines.append(f'| train-proportion-weighted mean | | | {mean:.2f} |')
    else:
        lines.append(
            '| train-proportion-weighted mean | | | not reported: no training '
            'group counts |'
        )
    if f'{start}worst_group' in metrics:
        index = metrics[f'{start}worst_group_index']
        lines.append(
            f'| worst group | {group_names[index]} (group {index}) | | '
            f'{metrics[f"{start}worst_group"]:.2f} |'
        )
    return '\n'.join(lines)


@METRICS.register_module()
class GroupAccuracyMetric(BaseMetric):
    """Accuracy per group, its unweighted and weighted means, worst group.

    The group-robustness evaluation of Waterbirds and CelebA, as in
    `GroupDRO <https://arxiv.org/abs/1911.08731>`_ (Sagawa et al., ICLR
    2020) and `ClusterFix
    <https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_
    (Capitani et al., WACV 2024). Each data sample must carry its ``group``
    (an int, target class × bias attribute) in its metainfo: add ``'group'``
    to the ``meta_keys`` of ``PackInputs`` in the test pipeline. Accuracy is
    counted over images, never averaged over batches.

    The predicted class is the argmax of ``pred_score`` (``pred_label`` only
    for samples without scores), as in MMPretrain's ``Accuracy``.

    The group names and each group's number of training images come from the
    arguments or else from the dataset's metainfo (``group_names``,
    ``train_group_counts``, which the group-labelled datasets set); an
    argument wins over the metainfo. Without training counts the
    train-proportion-weighted mean is not reported, and a warning says so.
    Without names, groups are called ``'group <i>'``.

    Results (percent, prefixed ``'<prefix>/'``):

    - ``accuracy/overall``: over all test images;
    - ``accuracy/group_<i>``: group ``i``, only if it has test images;
    - ``num_images/group_<i>``: group ``i``'s test images (0 included);
    - ``unweighted_group_mean``: mean over the groups present;
    - ``train_weighted_mean``: weighted by training share, renormalised over
      the groups present (see :func:`train_weighted_mean`);
    - ``worst_group``: the lowest accuracy of a group present;
    - ``worst_group_index``: that group's index (int).

    A group without test images is left out of both means and the worst
    group. For model selection use e.g.
    ``CheckpointHook(save_best='group/worst_group', rule='greater')`` or
    ``save_best=['group/worst_group', 'group/unweighted_group_mean'],
    rule='greater'``: MMEngine cannot infer the rule from these names (only
    from names containing e.g. ``'acc'``), so ``rule`` must be given. The
    table of :func:`format_group_table` is also written to the log.

    Args:
        group_names (Sequence[str], optional): The name of every group, by
            index. Defaults to None (the metainfo's).
        train_group_counts (Sequence[int], optional): Training images of
            every group, by index. Defaults to None (the metainfo's).
        collect_device (str): Device used to collect results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'group'``.
    """

    default_prefix = 'group'

    def __init__(
        self,
        group_names: Sequence[str] | None = None,
        train_group_counts: Sequence[int] | None = None,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.group_names = None if group_names is None else list(group_names)
        self.train_group_counts = (
            None if train_group_counts is None else list(train_group_counts)
        )

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'group' not in sample:
                raise UserError(
                    "GroupAccuracyMetric needs each sample's 'group' (got keys: "
                    f"{sorted(sample)}); add 'group' to the meta_keys of "
                    'PackInputs in the test pipeline'
                )
            if 'pred_score' in sample:
                predicted = int(sample['pred_score'].argmax())
            else:
                predicted = int(sample['pred_label'])
            target = int(sample['gt_label'])
            self.results.append((int(sample['group']), predicted == target))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            # BaseMetric.evaluate has already warned that nothing was processed.
            return {}
        groups = [group for group, _ in results]
        correct = [is_correct for _, is_correct in results]
        names, train_counts = self._group_description(max(groups) + 1)
        logger = MMLogger.get_current_instance()

        accuracies = group_accuracies(groups, correct, len(names))
        metrics = {'accuracy/overall': 100.0 * sum(correct) / len(correct)}
        metrics.update(
            {f'accuracy/group_{group}': value for group, value in accuracies.items()}
        )
        sizes = group_sizes(groups, len(names))
        metrics.update(
            {f'num_images/group_{group}': size for group, size in enumerate(sizes)}
        )
        metrics['unweighted_group_mean'] = unweighted_group_mean(accuracies)
        if train_counts is None:
            logger.warning(
                'GroupAccuracyMetric does not report train_weighted_mean: no '
                "train_group_counts in its arguments or in the dataset's "
                'metainfo'
            )
        else:
            weighted = train_weighted_mean(accuracies, train_counts)
            if weighted is None:
                logger.warning(
                    'GroupAccuracyMetric does not report train_weighted_mean: '
                    'the groups with test images have no training images '
                    f'(train_group_counts={train_counts})'
                )
            else:
                metrics['train_weighted_mean'] = weighted
        worst_index, worst_accuracy = worst_group(accuracies)
        metrics['worst_group'] = worst_accuracy
        metrics['worst_group_index'] = worst_index

        table = format_group_table(
            {f'{self.prefix}/{key}': value for key, value in metrics.items()},
            names,
            self.prefix,
        )
        logger.info(f'Group accuracies:\n{table}')
        return metrics

    def _group_description(self, num_groups_seen: int) -> tuple[list, list | None]:
        """The group names and training counts, arguments before metainfo.

        Args:
            num_groups_seen (int): One more than the largest group index
                seen; the number of groups when neither names nor counts
                are known.

        Returns:
            tuple[list[str], list[int] | None]: A name per group, and the
            training images per group (None if unknown).

        Raises:
            UserError: If the names and counts describe different numbers
                of groups, or a count is negative.
        """
        meta = self.dataset_meta or {}
        names = self.group_names
        if names is None:
            names = meta.get('group_names')
        train_counts = self.train_group_counts
        if train_counts is None:
            train_counts = meta.get('train_group_counts')
        if train_counts is not None:
            train_counts = [int(count) for count in train_counts]
            if any(count < 0 for count in train_counts):
                raise UserError(
                    f'train_group_counts must not be negative, got {train_counts}'
                )
        if names is not None and train_counts is not None:
            if len(names) != len(train_counts):
                raise UserError(
                    f'group_names has {len(names)} groups ({list(names)}) but '
                    f'train_group_counts has {len(train_counts)} '
                    f'({train_counts})'
                )
        if names is None:
            num_groups = num_groups_seen if train_counts is None else len(train_counts)
            names = [f'group {group}' for group in range(num_groups)]
        return list(names), train_counts
