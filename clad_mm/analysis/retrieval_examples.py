"""A few queries of a retrieval test set and their nearest gallery items.

The examples a person looks at beside MAP@R: evenly spaced queries of the
test set, each with its ``k`` most cosine-similar other items (the query
itself left out, as the retrieval metric does), marked by whether they share
the query's class.
"""

import numpy as np
import torch


def retrieval_examples(
    embeddings: torch.Tensor, labels, num_queries: int = 4, k: int = 5
) -> list[dict]:
    """Evenly spaced queries and their ``k`` nearest other items by cosine.

    Args:
        embeddings (torch.Tensor): ``(N, D)`` embeddings of the test set,
            which is queries and gallery at once.
        labels (Sequence[int]): Class of each item.
        num_queries (int): How many queries, spread evenly over the set
            (first and last included). Defaults to 4.
        k (int): Neighbours per query. Defaults to 5.

    Returns:
        list[dict]: One per query: ``index``, and ``matches``, a list of
        ``(index, cosine similarity, same class)`` from the most similar
        on; ties go to the lower index.

    Raises:
        ValueError: If there are fewer than two items or no query is asked.
    """
    count = len(embeddings)
    if count < 2 or num_queries < 1 or k < 1:
        raise ValueError(
            f'need at least 2 items, 1 query and 1 neighbour, got {count} items, '
            f'{num_queries} queries and k={k}'
        )
    labels = np.asarray(labels)
    unit = torch.nn.functional.normalize(embeddings.double(), dim=1)
    queries = np.unique(np.linspace(0, count - 1, min(num_queries, count)).round())
    examples = []
    for query in queries.astype(int):
        similarity = (unit @ unit[query]).numpy()
        similarity[query] = -np.inf
        # Stable: equal similarities keep the lower index first.
        order = np.argsort(-similarity, kind='stable')[: min(k, count - 1)]
        matches = [
            (int(i), float(similarity[i]), bool(labels[i] == labels[query]))
            for i in order
        ]
        examples.append(dict(index=int(query), matches=matches))
    return examples
