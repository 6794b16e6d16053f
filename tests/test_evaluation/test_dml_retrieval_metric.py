"""Retrieval metrics against a hand count, pytorch-metric-learning and brute force."""

import sys

import numpy as np
import pytest
import torch
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator

from clad_mm.evaluation.metrics import (
    DMLRetrievalMetric,
    format_retrieval_table,
    retrieval_metrics,
)
from clad_mm.utils.errors import UserError

try:
    import faiss  # noqa: F401

    HAS_FAISS = True
except ImportError:
    HAS_FAISS = False

BACKENDS = [
    'torch',
    pytest.param('faiss', marks=pytest.mark.skipif(not HAS_FAISS, reason='no faiss')),
]
PML_NAMES = {
    'MAP@R': 'mean_average_precision_at_r',
    'P@1': 'precision_at_1',
    'R-Precision': 'r_precision',
}


def pml_metrics(embeddings, labels):
    """PML's figures (queries = gallery), in percent, keyed as ours."""
    calculator = AccuracyCalculator(
        include=tuple(PML_NAMES.values()),
        k='max_bin_count',
        device=torch.device('cpu'),
    )
    figures = calculator.get_accuracy(embeddings, labels)
    return {ours: 100 * figures[theirs] for ours, theirs in PML_NAMES.items()}


def brute_force_recall(embeddings, labels, recall_at):
    """Recall@K (percent) from the full distance matrix, lone queries left out."""
    distances = torch.cdist(embeddings.double(), embeddings.double())
    distances.fill_diagonal_(float('inf'))
    order = distances.argsort(dim=1)[:, :-1]  # the last is the query itself
    correct = labels[order] == labels[:, None]
    not_lone = correct.any(dim=1)
    return {
        f'Recall@{k}': 100 * correct[not_lone, :k].any(dim=1).double().mean().item()
        for k in recall_at
    }


def random_set(class_sizes, dim=8, seed=0):
    """Gaussian embeddings, L2-normalised, with the given class sizes (shuffled)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.cat(
        [torch.full((size,), label) for label, size in enumerate(class_sizes)]
    )
    labels = labels[torch.randperm(len(labels), generator=generator)]
    embeddings = torch.randn(len(labels), dim, generator=generator)
    return torch.nn.functional.normalize(embeddings, dim=1), labels


#: Classes of size 1 (lone), 2 and larger, 100 items in all.
CLASS_SIZES = [1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 10, 12, 17]


def test_hand_counted_six_items():
    # 1-D points; class C (4.5) is lone. Squared distances rank as |dx|.
    #   a0=0 A, a1=1.2 A, a2=2 A, b0=2.6 B, b1=7 B, c0=4.5 C
    # Neighbours (self excluded), R = class size - 1:
    #   a0:   a1 a2 b0 c0 b1     R=2: AP@R=(1/1+2/2)/2=1,   Rp=2/2, P@1=1
    #   a1:   a2 a0 b0 c0 b1     R=2: AP@R=1,               Rp=1,   P@1=1
    #   a2:   b0 a1 a0 c0 b1     R=2: AP@R=(1/2)/2=0.25,    Rp=1/2, P@1=0
    #   b0:   a2 a1 c0 a0 b1     R=1: AP@R=0, Rp=0, P@1=0, first hit at rank 5
    #   b1:   c0 b0 a2 a1 a0     R=1: AP@R=0, Rp=0, P@1=0, first hit at rank 2
    #   c0:   lone, left out: 5 queries.
    # MAP@R = 2.25/5 = 45 %, R-Precision = 2.5/5 = 50 %, P@1 = 2/5 = 40 %.
    # First hits at ranks 1, 1, 2, 5, 2: Recall@1 = 40, @2 = 80, @4 = 80,
    # @8 = 100 % (k is capped at N-1 = 5 neighbours).
    embeddings = torch.tensor([[0.0], [1.2], [2.0], [2.6], [7.0], [4.5]])
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    for backend in ['torch'] + (['faiss'] if HAS_FAISS else []):
        metrics = retrieval_metrics(embeddings, labels, backend=backend)
        assert metrics['MAP@R'] == pytest.approx(45.0)
        assert metrics['R-Precision'] == pytest.approx(50.0)
        assert metrics['P@1'] == pytest.approx(40.0)
        assert metrics['Recall@1'] == pytest.approx(40.0)
        assert metrics['Recall@2'] == pytest.approx(80.0)
        assert metrics['Recall@4'] == pytest.approx(80.0)
        assert metrics['Recall@8'] == pytest.approx(100.0)
        assert metrics['num_queries'] == 5
        assert metrics['num_lone_queries'] == 1


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('max_chunk_elements', [2**24, 300, 1])
def test_matches_pml_on_random_embeddings(backend, max_chunk_elements):
    # 300 elements over 100 items: chunks of 3 queries; 1: one query a chunk.
    embeddings, labels = random_set(CLASS_SIZES)
    metrics = retrieval_metrics(
        embeddings, labels, backend=backend, max_chunk_elements=max_chunk_elements
    )
    expected = pml_metrics(embeddings, labels)
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value, abs=1e-9), name
    assert metrics['num_lone_queries'] == 3
    assert metrics['num_queries'] == len(labels) - 3


@pytest.mark.parametrize('backend', BACKENDS)
def test_float64_and_unnormalised_embeddings_match_pml(backend):
    embeddings, labels = random_set(CLASS_SIZES, dim=5, seed=1)
    embeddings = (embeddings * torch.rand(len(labels), 1) * 3).double()
    metrics = retrieval_metrics(embeddings, labels, backend=backend)
    for name, value in pml_metrics(embeddings, labels).items():
        assert metrics[name] == pytest.approx(value, abs=1e-9), name


@pytest.mark.parametrize('backend', BACKENDS)
def test_duplicate_embeddings_within_a_class_match_pml(backend):
    # Exact copies tie at distance 0 with the query itself, and with each
    # other for every query: all tied items share the class, so any order
    # of them gives the same figures.
    embeddings, labels = random_set(CLASS_SIZES, seed=2)
    copied = torch.arange(0, len(labels), 4)
    embeddings = torch.cat([embeddings, embeddings[copied], embeddings[copied[:5]]])
    labels = torch.cat([labels, labels[copied], labels[copied[:5]]])
    metrics = retrieval_metrics(
        embeddings, labels, backend=backend, max_chunk_elements=500
    )
    for name, value in pml_metrics(embeddings, labels).items():
        assert metrics[name] == pytest.approx(value, abs=1e-9), name


@pytest.mark.parametrize('backend', BACKENDS)
def test_ties_across_classes_sharing_relevance(backend):
    # Integer points (exact squared distances):
    #   A: (0,0) twice; B: (3,0), (-3,0); C: (0,3), (0,-3); D: (10,10), (10,11).
    # A queries: the other A at 0, then B and C tied at 9 (all wrong).
    # B queries: both A tied at 9, both C tied at 18, the other B at 36
    # (rank 5). C likewise. D queries: the other D at 1.
    # Every tie holds items of one relevance, so (R = 1 for all):
    #   A: AP@R = P@1 = Rp = 1, hit at rank 1 (x2)
    #   B, C: 0, 0, 0, hit at rank 5 (x4)
    #   D: 1, 1, 1, hit at rank 1 (x2)
    # MAP@R = Rp = P@1 = 4/8 = 50 %; Recall@1,2,4 = 50 %, Recall@8 = 100 %.
    embeddings = torch.tensor(
        [[0, 0], [0, 0], [3, 0], [-3, 0], [0, 3], [0, -3], [10, 10], [10, 11]],
        dtype=torch.float32,
    )
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    for max_chunk_elements in (2**24, 8):
        metrics = retrieval_metrics(
            embeddings, labels, backend=backend, max_chunk_elements=max_chunk_elements
        )
        for name, value in pml_metrics(embeddings, labels).items():
            assert value == pytest.approx(50.0)
            assert metrics[name] == pytest.approx(value), name
        assert metrics['Recall@4'] == pytest.approx(50.0)
        assert metrics['Recall@8'] == pytest.approx(100.0)


@pytest.mark.skipif(not HAS_FAISS, reason='no faiss')
@pytest.mark.parametrize('max_chunk_elements', [2**24, 9])
def test_faiss_drops_the_last_neighbour_where_ties_crowd_out_self(max_chunk_elements):
    # Seven items at the origin in three classes, two elsewhere: k = 2, so
    # faiss returns 3 of the 7 tied items (its own tie order), without self
    # for most queries; then the last one is dropped, as PML's FaissKNN does.
    # The figures depend on that tie order, which is faiss's in both.
    embeddings = torch.zeros(9, 3)
    embeddings[7:] = 1
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 2, 3, 3])
    metrics = retrieval_metrics(
        embeddings,
        labels,
        recall_at=(1,),
        backend='faiss',
        max_chunk_elements=max_chunk_elements,
    )
    for name, value in pml_metrics(embeddings, labels).items():
        assert metrics[name] == pytest.approx(value, abs=1e-9), name


@pytest.mark.parametrize('backend', BACKENDS)
def test_recall_at_k_matches_brute_force(backend):
    # K = 1000 exceeds N - 1: all neighbours are searched and it is 100 %.
    embeddings, labels = random_set(CLASS_SIZES, dim=6, seed=3)
    recall_at = (1, 2, 3, 5, 16, 1000)
    metrics = retrieval_metrics(
        embeddings, labels, recall_at, backend=backend, max_chunk_elements=700
    )
    expected = brute_force_recall(embeddings, labels, recall_at)
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value, abs=1e-9), name
    assert metrics['Recall@1'] == pytest.approx(metrics['P@1'])
    assert metrics['Recall@1000'] == pytest.approx(100.0)
    assert list(metrics)[:3] == ['MAP@R', 'P@1', 'R-Precision']


def test_only_lone_queries_give_nan():
    metrics = retrieval_metrics(torch.eye(3), torch.tensor([0, 1, 2]))
    assert np.isnan(metrics['MAP@R']) and np.isnan(metrics['Recall@8'])
    assert metrics['num_queries'] == 0
    assert metrics['num_lone_queries'] == 3


@pytest.mark.skipif(not HAS_FAISS, reason='no faiss')
def test_faiss_and_torch_agree():
    embeddings, labels = random_set(CLASS_SIZES * 2, dim=16, seed=4)
    by_faiss = retrieval_metrics(embeddings, labels, backend='faiss')
    by_torch = retrieval_metrics(embeddings, labels, backend='torch')
    assert by_faiss.keys() == by_torch.keys()
    for name, value in by_torch.items():
        assert by_faiss[name] == pytest.approx(value, abs=1e-9), name


def test_missing_faiss(monkeypatch):
    monkeypatch.setitem(sys.modules, 'faiss', None)  # makes `import faiss` fail
    embeddings, labels = random_set(CLASS_SIZES, seed=5)
    with pytest.raises(UserError, match=r'faiss.*pip install faiss-cpu'):
        retrieval_metrics(embeddings, labels, backend='faiss')
    with pytest.raises(UserError, match=r'faiss.*pip install faiss-cpu'):
        DMLRetrievalMetric(backend='faiss')  # at build time, before any test
    # 'auto' falls back to torch.
    metrics = retrieval_metrics(embeddings, labels, backend='auto')
    assert metrics['MAP@R'] == pytest.approx(pml_metrics(embeddings, labels)['MAP@R'])


@pytest.mark.parametrize(
    'embeddings, labels, kwargs, message',
    [
        (torch.zeros(4), torch.zeros(4), {}, 'shape'),
        (torch.zeros(4, 2), torch.zeros(3), {}, 'one label per embedding'),
        (torch.full((2, 2), float('nan')), torch.zeros(2), {}, 'NaN'),
        (torch.zeros(2, 2), torch.zeros(2), {'recall_at': (0,)}, 'recall_at'),
        (torch.zeros(2, 2), torch.zeros(2), {'backend': 'annoy'}, 'backend'),
        (torch.zeros(2, 2), torch.zeros(2), {'max_chunk_elements': 0}, 'chunk'),
    ],
)
def test_invalid_inputs(embeddings, labels, kwargs, message):
    with pytest.raises(UserError, match=message):
        retrieval_metrics(embeddings, labels, **kwargs)


def samples(embeddings, labels, draw=None):
    """Data sample dicts as DMLRetriever's test mode gives them."""
    result = []
    for embedding, label in zip(embeddings, labels, strict=True):
        sample = {'embedding': embedding, 'gt_label': torch.tensor([int(label)])}
        if draw is not None:
            sample['bg_draw'] = draw
        result.append(sample)
    return result


def test_metric_clean_and_replaced_draws():
    clean, labels = random_set(CLASS_SIZES, seed=6)
    draws = [random_set(CLASS_SIZES, seed=7)[0], random_set(CLASS_SIZES, seed=8)[0]]
    # The draws keep the clean set's labels; their embeddings differ.
    batches = [
        samples(clean[:50], labels[:50]),  # no bg_draw: clean
        samples(draws[1][:60], labels[:60], draw=1),
        samples(clean[50:], labels[50:], draw=-1),
        samples(draws[0], labels, draw=0),
        samples(draws[1][60:], labels[60:], draw=1),
    ]
    metric = DMLRetrievalMetric(recall_at=(1, 4), max_chunk_elements=1000)
    metric.prefix = 'retrieval'
    for batch in batches:
        metric.process(None, batch)
    metrics = metric.compute_metrics(metric.results)

    def expected(embeddings):
        return {
            **pml_metrics(embeddings, labels),
            **brute_force_recall(embeddings, labels, (1, 4)),
        }

    clean_expected = expected(clean)
    per_draw = [expected(draw) for draw in draws]
    names = ['MAP@R', 'P@1', 'R-Precision', 'Recall@1', 'Recall@4']
    for name in names:
        assert metrics[f'clean/{name}'] == pytest.approx(clean_expected[name])
        values = np.array([figures[name] for figures in per_draw])
        assert metrics[f'replaced/{name}'] == pytest.approx(values.mean())
        assert metrics[f'replaced/{name}_std'] == pytest.approx(values.std(ddof=1))
    assert metrics['replaced/num_draws'] == 2
    assert metrics['replaced/MAP@R_std'] > 0
    assert 'clean/num_queries' not in metrics


def test_metric_single_draw_has_zero_std_and_registry_name():
    from mmpretrain.registry import METRICS

    embeddings, labels = random_set(CLASS_SIZES, seed=9)
    metric = METRICS.build(dict(type='DMLRetrievalMetric', backend='torch'))
    metric.process(None, samples(embeddings, labels, draw=0))
    metrics = metric.evaluate(size=len(labels))
    assert metrics['retrieval/replaced/MAP@R'] == pytest.approx(
        pml_metrics(embeddings, labels)['MAP@R']
    )
    assert metrics['retrieval/replaced/MAP@R_std'] == 0.0
    assert metrics['retrieval/replaced/num_draws'] == 1
    assert not any(key.startswith('retrieval/clean/') for key in metrics)


def test_metric_missing_embedding():
    metric = DMLRetrievalMetric()
    with pytest.raises(UserError, match=r'embedding.*DMLRetriever.*prototype=None'):
        metric.process(None, [{'gt_label': torch.tensor([0]), 'pred_score': None}])


def test_metric_draw_size_mismatch():
    embeddings, labels = random_set(CLASS_SIZES, seed=10)
    metric = DMLRetrievalMetric()
    metric.process(None, samples(embeddings, labels))
    metric.process(None, samples(embeddings[:-1], labels[:-1], draw=0))
    with pytest.raises(UserError, match=r'bg_draw 0 has 99 images.*clean set has 100'):
        metric.compute_metrics(metric.results)


def test_format_retrieval_table():
    metrics = {
        'retrieval/clean/MAP@R': 31.234,
        'retrieval/clean/P@1': 60.0,
        'retrieval/clean/R-Precision': 40.5,
        'retrieval/clean/Recall@8': 90.0,
        'retrieval/clean/Recall@2': 75.0,
        'retrieval/replaced/MAP@R': 20.0,
        'retrieval/replaced/MAP@R_std': 1.5,
        'retrieval/replaced/P@1': 50.0,
        'retrieval/replaced/P@1_std': 0.25,
        'retrieval/replaced/R-Precision': 30.0,
        'retrieval/replaced/R-Precision_std': 2.0,
        'retrieval/replaced/Recall@2': 70.0,
        'retrieval/replaced/Recall@2_std': 0.0,
        'retrieval/replaced/Recall@8': 85.0,
        'retrieval/replaced/Recall@8_std': 3.1,
        'retrieval/replaced/num_draws': 3,
    }
    assert format_retrieval_table(metrics).splitlines() == [
        '| test set | MAP@R (%) | P@1 (%) | R-Precision (%) | Recall@2 (%) '
        '| Recall@8 (%) |',
        '|---|---|---|---|---|---|',
        '| clean | 31.23 | 60.00 | 40.50 | 75.00 | 90.00 |',
        '| replaced (mean ± std over 3 draws) | 20.00 ± 1.50 | 50.00 ± 0.25 '
        '| 30.00 ± 2.00 | 70.00 ± 0.00 | 85.00 ± 3.10 |',
    ]
    clean_only = {k: v for k, v in metrics.items() if '/clean/' in k}
    assert len(format_retrieval_table(clean_only).splitlines()) == 3
    with pytest.raises(UserError, match='No retrieval figures'):
        format_retrieval_table(metrics, prefix='other')
