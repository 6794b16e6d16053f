"""The queries and nearest neighbours of the retrieval examples, by hand."""

import pytest
import torch

from clad_mm.analysis.retrieval_examples import retrieval_examples


def test_queries_are_spread_and_neighbours_are_the_most_cosine_similar():
    # Five items in the plane; cosine only depends on the angle:
    # 0: 0 deg, 1: 10 deg (twice as long), 2: 90 deg, 3: 100 deg, 4: 180 deg.
    angles = torch.tensor([0.0, 10.0, 90.0, 100.0, 180.0]) * torch.pi / 180
    lengths = torch.tensor([1.0, 2.0, 1.0, 1.0, 1.0])
    embeddings = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    embeddings = embeddings * lengths[:, None]
    labels = [0, 0, 1, 1, 0]
    examples = retrieval_examples(embeddings, labels, num_queries=3, k=2)
    # Queries at 0, 2 and 4 of 0..4, evenly spaced.
    assert [e['index'] for e in examples] == [0, 2, 4]
    first, middle, last = examples
    # Item 0: item 1 at 10 deg (cos 0.985), then item 2 at 90 deg (cos 0).
    assert [i for i, _, _ in first['matches']] == [1, 2]
    assert first['matches'][0][1] == pytest.approx(0.98481, abs=1e-5)
    assert first['matches'][1][1] == pytest.approx(0.0, abs=1e-6)  # float32 cos
    assert [same for _, _, same in first['matches']] == [True, False]
    # Item 2 (90 deg): item 3 at 10 deg away, then item 1 at 80 deg.
    assert [i for i, _, _ in middle['matches']] == [3, 1]
    # Item 4 (180 deg): item 3 at 80 deg (cos 0.174), then item 2 at 90.
    assert [i for i, _, _ in last['matches']] == [3, 2]
    assert last['matches'][0][1] == pytest.approx(0.17365, abs=1e-5)


def test_the_query_is_never_its_own_match_and_k_is_capped():
    embeddings = torch.ones(3, 4)  # all identical: every cosine is 1
    (example,) = retrieval_examples(embeddings, [0, 1, 2], num_queries=1, k=10)
    assert example['index'] == 0
    assert [i for i, _, _ in example['matches']] == [1, 2]  # ties: lower index


def test_fewer_than_two_items_is_refused():
    with pytest.raises(ValueError, match='at least 2 items'):
        retrieval_examples(torch.ones(1, 4), [0])
