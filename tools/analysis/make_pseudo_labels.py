"""ClusterFix's pseudo-labels: per-class cosine k-means of a model's features.

ClusterFix (Capitani et al., WACV 2024,
https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html)
trains with the clusters of a pretrained network's features within each
class as pseudo-groups. Example (ImageNet EfficientNet-Lite0 features of
Waterbirds, the backbone's ``Pretrained`` init as no CHECKPOINT is given)::

    python tools/analysis/make_pseudo_labels.py \\
        configs/efficientnet_lite/efficientnet_lite0_in1k.py \\
        --data-config WATERBIRDS_CONFIG.py --out work_dirs/waterbirds_pl.json

runs FEATURE_CONFIG's test pipeline and model (backbone and neck) over the
images of DATA_CONFIG's ``train_dataloader.dataset`` and, if present,
``val_dataloader.dataset`` and ``test_dataloader.dataset`` (``--splits``
names fewer: training reads the train split only), clusters the
train features of each class into ``--clusters-per-class`` clusters and
assigns val and test images to the nearest train centre of their class
(see :mod:`clad_mm.analysis.pseudo_labels` for the k-means). It writes:

- ``--out`` (``FILE.json``): the pseudo-label file that training reads with
  :func:`clad_mm.datasets.pseudo_label_file.load_pseudo_labels` (format in
  that module): per split ``{img_path: global cluster id}``, the id of
  cluster ``j`` of class ``c`` being ``j + k * c``, and the train size of
  every cluster;
- ``<stem>_clusters.json`` beside it: per split and class, each cluster's
  size and, with group labels, its group make-up, majority group and share,
  and the adjusted mutual information of clusters and groups in the class;
- ``<stem>_clusters.png``: per class, a bar per train cluster, stacked by
  group, with its size and majority share.

It prints a Markdown table of the clusters (sizes per split, the train
group make-up). Existing outputs are kept unless ``--overwrite`` is given.
``--shuffle-within-class`` writes a control instead: the train ids permuted
within each class (sizes kept, members random; val and test as clustered).
"""

import argparse
import math
import os.path as osp
import sys

import numpy as np
import torch

try:
    import clad_mm  # noqa: F401  (registers the components, applies compat fixes)
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import clad_mm  # noqa: F401

from clad_mm.analysis.pseudo_labels import (
    DEFAULT_CLUSTERS_PER_CLASS,
    SPLITS,
    assign_splits,
    cluster_summary,
    extract_split_features,
    read_splits,
    shuffle_within_class,
)
from clad_mm.datasets.pseudo_label_file import (
    PSEUDO_LABEL_FORMAT,
    PSEUDO_LABEL_VERSION,
)
from clad_mm.utils.fileio import write_json_atomically
from clad_mm.visualization.agg_figure import agg_figure, save_figure_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import (
    add_overwrite_argument,
    load_config,
    positive_int,
    registry_errors_named,
    require_new_output,
    run_tool,
)

# Figure layout: inches per class panel, panels per row.
_PANEL_WIDTH, _PANEL_HEIGHT = 5.0, 3.6
_PANELS_PER_ROW = 3


def parse_args(argv=None) -> argparse.Namespace:
    """Parses and checks the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The options; ``clusters_path`` and
        ``figure_path`` are the files written beside ``--out``.
    """
    parser = argparse.ArgumentParser(
        description="ClusterFix's pseudo-labels (Capitani et al., WACV 2024): "
        "per-class cosine k-means of a model's features of a data config's "
        'images.'
    )
    parser.add_argument(
        'feature_config', help='ImageClassifier config whose features are clustered'
    )
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help="its weights (default: the Pretrained init_cfg of the config's backbone)",
    )
    parser.add_argument(
        '--data-config',
        required=True,
        help='config whose train/val/test_dataloader datasets list the images',
    )
    parser.add_argument('--out', required=True, help='the pseudo-label FILE.json')
    parser.add_argument(
        '--clusters-per-class',
        type=positive_int,
        default=DEFAULT_CLUSTERS_PER_CLASS,
        help='k-means clusters within each class',
    )
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the k-means (and the shuffle)'
    )
    parser.add_argument(
        '--splits',
        nargs='+',
        choices=SPLITS,
        default=list(SPLITS),
        help='the splits to label, train among them (default: all the data config has)',
    )
    parser.add_argument(
        '--shuffle-within-class',
        action='store_true',
        help='a control: permute the train cluster ids within each class '
        '(cluster sizes kept, members random)',
    )
    parser.add_argument(
        '--batch-size', type=positive_int, default=64, help='images per forward pass'
    )
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device to run the model on',
    )
    add_overwrite_argument(parser, '--out and the files beside it')
    args = parser.parse_args(argv)

    if 'train' not in args.splits:
        parser.error('--splits must include train: its clusters label the others')
    for flag, path in (
        ('FEATURE_CONFIG', args.feature_config),
        ('--data-config', args.data_config),
    ):
        if not path.endswith('.py'):
            parser.error(f'{flag} must be a .py config, got {path!r}')
    if (
        args.checkpoint is not None
        and not osp.isfile(args.checkpoint)
        and '://' not in args.checkpoint
    ):
        parser.error(f'checkpoint {args.checkpoint!r} is not a file')
    if not args.out.endswith('.json'):
        parser.error(f'--out must name a .json file, got {args.out!r}')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: no CUDA device is available')
    stem = args.out[: -len('.json')]
    args.clusters_path = f'{stem}_clusters.json'
    args.figure_path = f'{stem}_clusters.png'
    require_new_output((args.out, args.clusters_path, args.figure_path), args.overwrite)
    return args


def format_table(summaries: dict, group_names) -> str:
    """The clusters as a Markdown table.

    Args:
        summaries (dict): Split to :func:`cluster_summary`'s list, ``'train'``
            first.
        group_names (Sequence[str] | None): The groups, whose train counts
            get a column each.

    Returns:
        str: ``| class | cluster | <split> images ... | <group> ... | majority
        share |`` (the groups and share with group labels only), and, with
        group labels, a second table of each class's adjusted mutual
        information.
    """
    splits = list(summaries)
    header = ['class', 'cluster', *(f'{split} images' for split in splits)]
    if group_names:
        header += [f'train {name}' for name in group_names] + ['majority share']
    lines = [_row(header), _row(['---'] * len(header))]
    for position, train_class in enumerate(summaries['train']):
        for index, cluster in enumerate(train_class['clusters']):
            cells = [train_class['name'], str(cluster['cluster'])]
            cells += [
                str(summaries[split][position]['clusters'][index]['size'])
                for split in splits
            ]
            if group_names:
                cells += [str(count) for count in cluster['group_counts'].values()]
                share = cluster['majority_share']
                cells.append('n/a' if share is None else f'{share:.0%}')
            lines.append(_row(cells))
    if group_names:
        lines += [
            '',
            _row(['class', 'train images', 'AMI(clusters, groups)']),
            _row(['---'] * 3),
        ]
        for train_class in summaries['train']:
            score = train_class['adjusted_mutual_information']
            shown = 'n/a' if score is None else f'{score:.3f}'
            lines.append(_row([train_class['name'], str(train_class['images']), shown]))
    return '\n'.join(lines)


def _row(cells) -> str:
    return '| ' + ' | '.join(cells) + ' |'


def plot_clusters(train_summary: list[dict], group_names, out_path: str) -> None:
    """Saves, per class, a bar per train cluster stacked by group.

    Args:
        train_summary (list[dict]): :func:`cluster_summary` of the train
            split.
        group_names (Sequence[str] | None): The groups; plain bars without.
        out_path (str): The PNG file.
    """
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    columns = min(len(train_summary), _PANELS_PER_ROW)
    rows = math.ceil(len(train_summary) / columns)
    figure = agg_figure(_PANEL_WIDTH * columns, _PANEL_HEIGHT * rows + 1.0, 100)
    figure.set_layout_engine('constrained')
    axes = figure.subplots(rows, columns, squeeze=False).flatten()
    colours = colormaps['tab10' if len(group_names or ()) <= 10 else 'tab20']
    for panel, train_class in zip(axes, train_summary):
        clusters = train_class['clusters']
        positions = np.arange(len(clusters))
        sizes = np.array([cluster['size'] for cluster in clusters])
        if group_names:
            bottom = np.zeros(len(clusters))
            for group, name in enumerate(group_names):
                counts = np.array(
                    [cluster['group_counts'][name] for cluster in clusters]
                )
                panel.bar(
                    positions,
                    counts,
                    bottom=bottom,
                    color=colours(group),
                    label=name,
                    edgecolor='white',
                    linewidth=0.5,
                )
                bottom += counts
            labels = [
                f'{cluster["size"]}\n'
                + (
                    ''
                    if cluster['majority_share'] is None
                    else f'{cluster["majority_share"]:.0%}'
                )
                for cluster in clusters
            ]
            score = train_class['adjusted_mutual_information']
            title = f'AMI {"n/a" if score is None else f"{score:.2f}"}'
        else:
            panel.bar(positions, sizes, color=colours(0))
            labels = [str(size) for size in sizes]
            title = f'{len(clusters)} clusters'
        for position, size, label in zip(positions, sizes, labels):
            panel.annotate(
                label,
                (position, size),
                xytext=(0, 2),
                textcoords='offset points',
                ha='center',
                va='bottom',
                fontsize=7,
            )
        panel.set_xticks(positions, [str(cluster['cluster']) for cluster in clusters])
        panel.set_ylim(0, max(1, sizes.max()) * 1.25)
        panel.yaxis.set_major_locator(MaxNLocator(integer=True))
        panel.set_xlabel('global cluster id', fontsize=9)
        panel.set_ylabel('train images', fontsize=9)
        panel.set_title(
            f'class {train_class["class"]}: {train_class["name"]} '
            f'({train_class["images"]} images, {title})',
            fontsize=9,
        )
        panel.tick_params(labelsize=8)
    for panel in axes[len(train_summary) :]:
        panel.set_axis_off()
    if group_names:
        handles, names = axes[0].get_legend_handles_labels()
        figure.legend(
            handles,
            names,
            loc='outside lower center',
            ncols=min(len(names), 4),
            fontsize=8,
            title='group (above each bar: size, majority-group share)',
            title_fontsize=8,
        )
    figure.suptitle('ClusterFix pseudo-labels: train clusters per class', fontsize=10)
    save_figure_atomically(figure, out_path, dpi=100)


def _numbered(largest: int) -> tuple[str, ...]:
    # Names of classes or groups that the dataset's metainfo does not name.
    return tuple(str(index) for index in range(largest + 1))


def main(argv=None) -> None:
    """Extracts, clusters and assigns; writes the files, prints the table.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Raises:
        UserError: If a config, checkpoint or image cannot be used, or a
            class has fewer train images than clusters.
    """
    args = parse_args(argv)
    feature_config = load_config(args.feature_config)
    data_config = load_config(args.data_config)
    with registry_errors_named(args.data_config):
        samples = read_splits(data_config, args.splits)
    with registry_errors_named(args.feature_config):
        extracted = extract_split_features(
            feature_config,
            samples,
            args.checkpoint,
            batch_size=args.batch_size,
            device=args.device,
        )
    train = samples['train']
    class_names = train.class_names or _numbered(
        max(int(split.labels.max()) for split in samples.values())
    )
    ids, _ = assign_splits(extracted, args.clusters_per_class, args.seed, class_names)
    if args.shuffle_within_class:
        ids['train'] = shuffle_within_class(ids['train'], train.labels, args.seed)
    num_clusters = args.clusters_per_class * len(class_names)
    group_names = None
    if train.groups is not None:
        group_names = train.group_names or _numbered(
            max(
                int(split.groups.max())
                for split in samples.values()
                if split.groups is not None
            )
        )
    summaries = {
        split: cluster_summary(
            ids[split],
            split_samples.labels,
            args.clusters_per_class,
            class_names,
            split_samples.groups if group_names else None,
            group_names,
        )
        for split, split_samples in samples.items()
    }
    pseudo_labels = {
        'format': PSEUDO_LABEL_FORMAT,
        'version': PSEUDO_LABEL_VERSION,
        'clusters_per_class': args.clusters_per_class,
        'num_classes': len(class_names),
        'feature_config': args.feature_config,
        'checkpoint': extracted.checkpoint,
        'data_config': args.data_config,
        'seed': args.seed,
        'shuffled_within_class': args.shuffle_within_class,
        'splits': {
            split: dict(zip(split_samples.img_paths, ids[split].tolist()))
            for split, split_samples in samples.items()
        },
        'cluster_sizes': np.bincount(ids['train'], minlength=num_clusters).tolist(),
    }
    clusters = {
        'pseudo_labels': args.out,
        'clusters_per_class': args.clusters_per_class,
        'classes': list(class_names),
        'group_names': list(group_names) if group_names else None,
        'splits': summaries,
    }
    write_json_atomically(args.out, pseudo_labels)
    write_json_atomically(args.clusters_path, clusters, indent=2)
    plot_clusters(summaries['train'], group_names, args.figure_path)
    print(format_table(summaries, group_names))
    print(f'Wrote {args.out}, {args.clusters_path} and {args.figure_path}')


if __name__ == '__main__':
    run_tool(main)
