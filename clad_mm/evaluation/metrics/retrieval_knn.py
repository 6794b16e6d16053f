"""Exact k-NN retrieval metrics of deep metric learning, computed in chunks.

The protocol of Kobs & Hotho, `On Background Bias in Deep Metric Learning
<https://arxiv.org/abs/2210.01615>`_ (ICMV 2022), which follows Musgrave et
al.'s "A Metric Learning Reality Check": the test set is both query and
gallery, each query's own image is excluded from its neighbours, and the
figures are those of pytorch-metric-learning's ``AccuracyCalculator`` with
``k='max_bin_count'``, ``ref_includes_query=True`` and ``avg_of_avgs=False``:
MAP@R, Precision@1 and R-Precision, plus Recall@K.

Queries are processed in chunks: each chunk's distances to the whole gallery
are ranked and at once reduced to per-query sums, so memory stays
O(chunk × N) + O(N) and never holds an N × N matrix, nor the N × k
neighbour lists of all queries.
"""

from collections.abc import Sequence

import torch

from clad_mm.utils.errors import UserError

#: Values of ``backend``: ``'auto'`` takes faiss when it is importable.
BACKENDS = ('auto', 'torch', 'faiss')
#: Metrics averaged over the queries, in reporting order (Recall@K follows).
RANKING_METRICS = ('MAP@R', 'P@1', 'R-Precision')


def resolve_backend(backend: str) -> str:
    """The k-NN backend that will run.

    Args:
        backend (str): One of :data:`BACKENDS`.

    Returns:
        str: ``'faiss'`` or ``'torch'``.

    Raises:
        UserError: If ``backend`` is unknown, or is ``'faiss'`` and faiss
            cannot be imported.
    """
    if backend not in BACKENDS:
        raise UserError(f'Unknown k-NN backend {backend!r}; expected one of {BACKENDS}')
    if backend == 'torch':
        return 'torch'
    try:
        import faiss  # noqa: F401
    except ImportError as error:
        if backend == 'faiss':
            raise UserError(
                "backend='faiss' needs the faiss package, which cannot be "
                f'imported ({error}); install it with `pip install faiss-cpu`, '
                "or use backend='torch'"
            ) from error
        return 'torch'
    return 'faiss'


def neighbour_count(
    max_class_size: int, recall_at: Sequence[int], num_items: int
) -> int:
    """How many neighbours each query needs (its own image excluded).

    Args:
        max_class_size (int): Items in the largest class.
        recall_at (Sequence[int]): The K of every Recall@K.
        num_items (int): Items in the gallery, the query's own among them.

    Returns:
        int: max(largest class − 1, largest K), at most ``num_items − 1``.
    """
    return min(max(max_class_size - 1, *recall_at, 0), num_items - 1)


def torch_neighbours(
    gallery: torch.Tensor,
    squared_norms: torch.Tensor,
    query_ids: torch.Tensor,
    num_neighbours: int,
) -> torch.Tensor:
    """Nearest gallery items of some gallery items, each one's own excluded.

    Ranked by ||g||² − 2 q·g, the squared L2 distance less the query's own
    norm, which is the same for the whole row and so does not change it.

    Args:
        gallery (Tensor): All embeddings, (N, D).
        squared_norms (Tensor): Their squared L2 norms, (N,).
        query_ids (Tensor): Gallery indices of the queries, (C,).
        num_neighbours (int): Neighbours per query, at most N − 1.

    Returns:
        Tensor: Gallery indices, (C, num_neighbours), nearest first.
    """
    scores = torch.addmm(
        squared_norms[None, :], gallery[query_ids], gallery.T, alpha=-2
    )
    # The query's own image is never its neighbour, whatever ties there are.
    scores[torch.arange(len(query_ids)), query_ids] = float('inf')
    return scores.topk(num_neighbours, dim=1, largest=False).indices


def faiss_neighbours(
    index, gallery: torch.Tensor, query_ids: torch.Tensor, num_neighbours: int
) -> torch.Tensor:
    """Nearest gallery items of some gallery items by a faiss index.

    Searches one neighbour more and drops the query's own index, or, where
    it is not among them (duplicates tied at distance 0 crowded it out),
    the last one, as pytorch-metric-learning's ``FaissKNN`` does.

    Args:
        index (faiss.IndexFlatL2): The index holding ``gallery``.
        gallery (Tensor): All embeddings, (N, D), float32.
        query_ids (Tensor): Gallery indices of the queries, (C,).
        num_neighbours (int): Neighbours per query, at most N − 1.

    Returns:
        Tensor: Gallery indices, (C, num_neighbours), nearest first.
    """
    _, found = index.search(gallery[query_ids].numpy(), num_neighbours + 1)
    found = torch.from_numpy(found)
    dropped = found == query_ids[:, None]
    dropped[~dropped.any(dim=1), -1] = True
    return found[~dropped].reshape(len(query_ids), num_neighbours)


def ranking_sums(
    neighbour_labels: torch.Tensor,
    query_labels: torch.Tensor,
    num_relevant: torch.Tensor,
    recall_at: Sequence[int],
) -> dict:
    """Sums over some queries of each one's AP@R, R-Precision, P@1, hit@K.

    Args:
        neighbour_labels (Tensor): Labels of each query's neighbours,
            (C, k), nearest first, k at least every query's R.
        query_labels (Tensor): The queries' labels, (C,).
        num_relevant (Tensor): Each query's R, its class's other items, (C,),
            all positive.
        recall_at (Sequence[int]): The K of every Recall@K.

    Returns:
        dict: Float sums keyed as the metrics (:data:`RANKING_METRICS`,
        ``'Recall@K'``).
    """
    correct = neighbour_labels == query_labels[:, None]
    ranks = torch.arange(1, correct.shape[1] + 1)
    correct_within_r = correct & (ranks[None, :] <= num_relevant[:, None])
    hits_so_far = correct_within_r.cumsum(dim=1)
    precision_at_hits = hits_so_far.double() / ranks * correct_within_r
    r = num_relevant.double()
    sums = {
        'MAP@R': (precision_at_hits.sum(dim=1) / r).sum().item(),
        'P@1': correct[:, 0].sum().item(),
        'R-Precision': (correct_within_r.sum(dim=1) / r).sum().item(),
    }
    for k in recall_at:
        sums[f'Recall@{k}'] = correct[:, :k].any(dim=1).sum().item()
    return sums


def check_inputs(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    recall_at: Sequence[int],
    max_chunk_elements: int,
) -> None:
    """Raises a :class:`UserError` for inputs that cannot be evaluated.

    Args:
        embeddings (Tensor): As :func:`retrieval_metrics` takes them.
        labels (Tensor): As :func:`retrieval_metrics` takes them.
        recall_at (Sequence[int]): As :func:`retrieval_metrics` takes them.
        max_chunk_elements (int): As :func:`retrieval_metrics` takes it.
    """
    if embeddings.ndim != 2 or len(embeddings) == 0:
        raise UserError(
            'retrieval needs embeddings of shape (N, D) with N >= 1, got shape '
            f'{tuple(embeddings.shape)}'
        )
    if labels.shape != (len(embeddings),):
        raise UserError(
            f'retrieval needs one label per embedding: {len(embeddings)} '
            f'embeddings, labels of shape {tuple(labels.shape)}'
        )
    if not torch.isfinite(embeddings).all():
        raise UserError('retrieval embeddings contain NaN or infinite values')
    if any(int(k) != k or k < 1 for k in recall_at):
        raise UserError(f'recall_at must hold positive integers, got {recall_at}')
    if max_chunk_elements < 1:
        raise UserError(
            f'max_chunk_elements must be positive, got {max_chunk_elements}'
        )


def retrieval_metrics(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    recall_at: Sequence[int] = (1, 2, 4, 8),
    backend: str = 'auto',
    max_chunk_elements: int = 2**24,
) -> dict:
    """MAP@R, P@1, R-Precision and Recall@K of a set retrieving from itself.

    Every item queries all others (its own image excluded) by exact k-NN on
    squared L2 distance, pytorch-metric-learning's default (``FaissKNN``);
    on L2-normalised embeddings that is the ranking of cosine similarity.
    For a query with R other items of its class, MAP@R = (1/R) Σ over the
    correct neighbours i ≤ R of precision@i, R-Precision = (correct among
    the first R) / R, P@1 (= Recall@1) whether the nearest is correct, and
    Recall@K whether any of the first K is. Queries whose class has no
    other item (R = 0, lone queries) are left out of every average, as
    ``AccuracyCalculator`` does; with only lone queries every figure is NaN.
    Neighbours at exactly equal distance are ordered arbitrarily, as by
    every exact k-NN, so ties between items of different relevance can
    change the figures between backends, runs or chunk sizes.

    Args:
        embeddings (Tensor): One embedding per item, (N, D); float64 stays
            float64 with the torch backend, anything else is ranked in
            float32 (faiss always ranks in float32).
        labels (Tensor): The class of each item, (N,).
        recall_at (Sequence[int]): The K of every Recall@K. Defaults to
            (1, 2, 4, 8).
        backend (str): k-NN by ``'faiss'`` (``IndexFlatL2``), ``'torch'``, or
            ``'auto'``: faiss when importable. Defaults to ``'auto'``.
        max_chunk_elements (int): Bound on the distances held at once:
            queries per chunk = max(1, this // N). Defaults to 2**24
            (64 MiB of float32).

    Returns:
        dict: ``'MAP@R'``, ``'P@1'``, ``'R-Precision'`` and ``'Recall@K'``
        for every K, in percent; ``'num_queries'``, the queries averaged
        over, and ``'num_lone_queries'``, those left out.

    Raises:
        UserError: If the shapes, values or arguments are invalid, or faiss
            is requested and missing.
    """
    recall_at = tuple(int(k) for k in recall_at)
    embeddings = embeddings.detach().cpu()
    labels = labels.detach().cpu()
    check_inputs(embeddings, labels, recall_at, max_chunk_elements)
    backend = resolve_backend(backend)
    if backend == 'faiss' or embeddings.dtype != torch.float64:
        embeddings = embeddings.float()
    embeddings = embeddings.contiguous()

    _, class_ids, class_sizes = torch.unique(
        labels, return_inverse=True, return_counts=True
    )
    num_relevant = class_sizes[class_ids] - 1
    query_ids = torch.nonzero(num_relevant > 0).flatten()
    metric_names = (*RANKING_METRICS, *(f'Recall@{k}' for k in recall_at))
    totals = dict.fromkeys(metric_names, 0.0)
    num_items = len(embeddings)
    num_neighbours = neighbour_count(int(class_sizes.max()), recall_at, num_items)

    if len(query_ids) > 0:
        if backend == 'faiss':
            import faiss

            index = faiss.IndexFlatL2(embeddings.shape[1])
            index.add(embeddings.numpy())
        else:
            squared_norms = (embeddings * embeddings).sum(dim=1)
        chunk = max(1, max_chunk_elements // num_items)
        for chunk_ids in query_ids.split(chunk):
            if backend == 'faiss':
                neighbours = faiss_neighbours(
                    index, embeddings, chunk_ids, num_neighbours
                )
            else:
                neighbours = torch_neighbours(
                    embeddings, squared_norms, chunk_ids, num_neighbours
                )
            sums = ranking_sums(
                labels[neighbours],
                labels[chunk_ids],
                num_relevant[chunk_ids],
                recall_at,
            )
            for name in metric_names:
                totals[name] += sums[name]

    num_queries = len(query_ids)
    metrics = {
        name: 100.0 * total / num_queries if num_queries else float('nan')
        for name, total in totals.items()
    }
    metrics['num_queries'] = num_queries
    metrics['num_lone_queries'] = num_items - num_queries
    return metrics
