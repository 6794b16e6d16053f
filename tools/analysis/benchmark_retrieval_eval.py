"""Times the chunked retrieval evaluation against a dense N × N baseline.

For every ``--sizes`` N, draws N random L2-normalised embeddings with
SOP-like classes (2 to 12 images each, uniformly; the last class takes what
is left) and measures three ways to compute MAP@R, P@1, R-Precision and
Recall@K with the queries as gallery:

* ``dense``: what a naive implementation does, ``torch.cdist`` of all
  queries against all items (an N × N float32 matrix), ``topk`` over all of
  it and the metric maths on all N × k neighbour labels at once;
* ``chunked torch`` and ``chunked faiss`` (when faiss is installed):
  :func:`clad_mm.evaluation.metrics.retrieval_knn.retrieval_metrics`.

Every measurement runs in a fresh spawned process, so that peak memories do
not mix: the seconds are those of the evaluation call (``perf_counter``),
the peak is the process's ``ru_maxrss`` (interpreter, torch and the
embeddings included) and ``extra`` its growth during the call. The dense
baseline is run only up to ``--dense-max`` items: above, it prints what its
distance matrix alone would need. Example::

    python tools/analysis/benchmark_retrieval_eval.py --sizes 10000 60000

torch and faiss use their default thread counts (all cores); on a machine
shared with other work, the seconds vary with its load.
"""

import argparse
import multiprocessing
import os.path as osp
import resource
import sys
import time

import torch

try:
    import clad_mm  # noqa: F401
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from clad_mm.evaluation.metrics.retrieval_knn import (
    neighbour_count,
    ranking_sums,
    resolve_backend,
    retrieval_metrics,
)

RECALL_AT = (1, 2, 4, 8)


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Compare the chunked retrieval evaluation with a dense '
        'N x N baseline in seconds and peak memory.'
    )
    parser.add_argument(
        '--sizes', type=int, nargs='+', default=[10000, 60000], help='item counts N'
    )
    parser.add_argument('--dim', type=int, default=128, help='embedding size')
    parser.add_argument('--min-class-size', type=int, default=2)
    parser.add_argument('--max-class-size', type=int, default=12)
    parser.add_argument(
        '--dense-max',
        type=int,
        default=20000,
        help='largest N for which the dense baseline runs',
    )
    parser.add_argument(
        '--max-chunk-elements',
        type=int,
        default=2**24,
        help='distances per chunk of the chunked evaluation',
    )
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    if min(args.sizes) < 2 or args.dim < 1:
        parser.error('--sizes must be at least 2 and --dim at least 1')
    if not 1 <= args.min_class_size <= args.max_class_size:
        parser.error('need 1 <= --min-class-size <= --max-class-size')
    return args


def random_set(
    num_items: int, dim: int, min_class_size: int, max_class_size: int, seed: int
) -> tuple:
    """Random L2-normalised embeddings with SOP-like class sizes.

    Args:
        num_items (int): N.
        dim (int): Embedding size.
        min_class_size (int): Smallest class drawn.
        max_class_size (int): Largest class drawn.
        seed (int): Random seed.

    Returns:
        tuple[Tensor, Tensor]: Embeddings (N, dim) and labels (N,).
    """
    generator = torch.Generator().manual_seed(seed)
    sizes = torch.randint(
        min_class_size, max_class_size + 1, (num_items,), generator=generator
    )
    labels = torch.repeat_interleave(torch.arange(num_items), sizes)[:num_items]
    embeddings = torch.randn(num_items, dim, generator=generator)
    return torch.nn.functional.normalize(embeddings, dim=1), labels


def dense_metrics(embeddings: torch.Tensor, labels: torch.Tensor) -> dict:
    """The naive evaluation: full distance matrix, then the same metric maths.

    Args:
        embeddings (Tensor): (N, D).
        labels (Tensor): (N,).

    Returns:
        dict: ``'MAP@R'`` in percent (the other figures are not needed here).
    """
    _, class_ids, class_sizes = torch.unique(
        labels, return_inverse=True, return_counts=True
    )
    num_relevant = class_sizes[class_ids] - 1
    distances = torch.cdist(embeddings, embeddings)
    distances.fill_diagonal_(float('inf'))
    k = neighbour_count(int(class_sizes.max()), RECALL_AT, len(labels))
    neighbours = distances.topk(k, dim=1, largest=False).indices
    queries = num_relevant > 0
    sums = ranking_sums(
        labels[neighbours[queries]], labels[queries], num_relevant[queries], RECALL_AT
    )
    return {'MAP@R': 100.0 * sums['MAP@R'] / int(queries.sum())}


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(method: str, args: argparse.Namespace, num_items: int) -> dict:
    """One evaluation, run in the calling (fresh) process.

    Args:
        method (str): ``'dense'``, ``'torch'`` or ``'faiss'``.
        args (argparse.Namespace): The options.
        num_items (int): N.

    Returns:
        dict: ``seconds``, ``peak_mb``, ``extra_mb`` and ``map_at_r``.
    """
    embeddings, labels = random_set(
        num_items, args.dim, args.min_class_size, args.max_class_size, args.seed
    )
    before = peak_rss_mb()
    start = time.perf_counter()
    if method == 'dense':
        metrics = dense_metrics(embeddings, labels)
    else:
        metrics = retrieval_metrics(
            embeddings,
            labels,
            RECALL_AT,
            backend=method,
            max_chunk_elements=args.max_chunk_elements,
        )
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return {
        'seconds': seconds,
        'peak_mb': peak,
        'extra_mb': peak - before,
        'map_at_r': metrics['MAP@R'],
    }


def measure_in_child(method: str, args: argparse.Namespace, num_items: int) -> dict:
    """:func:`measure` in a fresh spawned process, so peaks do not mix.

    Args:
        method (str): As :func:`measure` takes it.
        args (argparse.Namespace): The options.
        num_items (int): N.

    Returns:
        dict: As from :func:`measure`.
    """
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        return pool.apply(measure, (method, args, num_items))


def format_row(num_items: int, name: str, result: dict, dense: dict | None) -> str:
    """One Markdown table row, with the ratios to the dense baseline.

    Args:
        num_items (int): N.
        name (str): The method's name.
        result (dict): As from :func:`measure`.
        dense (dict, optional): The dense baseline's, if it ran.

    Returns:
        str: The row.
    """
    ratios = '— | —'
    if dense is not None:
        ratios = (
            f'{result["seconds"] / dense["seconds"]:.2f} | '
            f'{result["extra_mb"] / dense["extra_mb"]:.3f}'
        )
    return (
        f'| {num_items} | {name} | {result["seconds"]:.2f} | '
        f'{result["peak_mb"]:.0f} | {result["extra_mb"]:.0f} | {ratios} | '
        f'{result["map_at_r"]:.4f} |'
    )


def main(argv=None) -> None:
    """Runs every measurement and prints the table.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.
    """
    args = parse_args(argv)
    methods = ['torch'] + (['faiss'] if resolve_backend('auto') == 'faiss' else [])
    lines = [
        '| N | method | seconds | peak RSS (MB) | extra during call (MB) '
        '| seconds / dense | extra MB / dense | MAP@R (%) |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for num_items in args.sizes:
        dense = None
        if num_items <= args.dense_max:
            dense = measure_in_child('dense', args, num_items)
            lines.append(format_row(num_items, 'dense (cdist + topk)', dense, None))
        else:
            needed_gb = num_items**2 * 4 / 1e9
            lines.append(
                f'| {num_items} | dense (cdist + topk) | skipped (needs '
                f'{needed_gb:.1f} GB) | — | — | — | — | — |'
            )
        for method in methods:
            result = measure_in_child(method, args, num_items)
            lines.append(format_row(num_items, f'chunked {method}', result, dense))
        print(f'N = {num_items} done', file=sys.stderr, flush=True)
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
