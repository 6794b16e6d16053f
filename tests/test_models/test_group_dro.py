"""GroupDRO (Sagawa et al., ICLR 2020): the group mean losses and weight step
by hand, the classifier's robust loss, and two gloo ranks holding the weights
of one process."""

import math

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from gloo_ranks import WORLD_SIZE, free_port, gloo_process_group
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import clad_mm  # noqa: F401
from clad_mm.models.losses import exponentiated_group_weights, group_mean_losses
from clad_mm.models.memories import GroupWeightState
from clad_mm.utils.errors import UserError


def test_group_means_and_one_weight_step_by_hand():
    losses = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    groups = torch.tensor([0, 0, 1, 3])
    means, counts = group_mean_losses(losses, groups, 4)
    # Group 0: (1 + 2) / 2; group 1: 3; group 2 has no sample; group 3: 4.
    assert means.tolist() == [1.5, 3.0, 0.0, 4.0]
    assert counts.tolist() == [2, 1, 0, 1]
    step = exponentiated_group_weights(
        torch.full((4,), 0.25, dtype=torch.float64), means, 0.1
    )
    # q_g ∝ 0.25 · exp(0.1 · L_g): exp(0.15), exp(0.3), exp(0), exp(0.4).
    raw = [math.exp(0.15), math.exp(0.3), 1.0, math.exp(0.4)]
    expected = [value / sum(raw) for value in raw]
    assert step.tolist() == pytest.approx(expected, abs=1e-12)
    assert [round(v, 6) for v in expected] == [0.232203, 0.269782, 0.199859, 0.298155]


def test_state_steps_from_uniform_and_names_foreign_groups():
    state = GroupWeightState(4, step_size=0.1)
    assert state.weights.tolist() == [0.25] * 4
    returned = state.update(
        torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([0, 0, 1, 3])
    )
    assert returned.tolist() == pytest.approx(
        [0.232203, 0.269782, 0.199859, 0.298155], abs=1e-6
    )
    assert state.weights.dtype == torch.float64
    with pytest.raises(
        UserError, match=r'groups \[0, 4\] are not all among the 4 groups'
    ):
        state.update(torch.tensor([1.0, 1.0]), torch.tensor([0, 4]))


def build(**kwargs):
    return MODELS.build(
        dict(
            type='GroupDROClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=2, in_channels=512),
            num_groups=4,
            **kwargs,
        )
    )


def samples(labels, groups):
    batch = []
    for label, group in zip(labels, groups):
        sample = DataSample().set_gt_label(label)
        sample.set_field(group, 'group')
        batch.append(sample)
    return batch


def test_loss_is_the_weighted_sum_of_group_means():
    torch.manual_seed(0)
    model = build(step_size=0.5)
    inputs = torch.rand(3, 3, 64, 64)
    losses = model.loss(inputs, samples([0, 0, 1], [0, 1, 3]))
    pooled = model.neck(model.backbone(inputs))[-1]
    ce = F.cross_entropy(
        model.head.fc(pooled), torch.tensor([0, 0, 1]), reduction='none'
    )
    # Each group holds one sample: L = (ce0, ce1, 0, ce2); q from uniform.
    group_losses = torch.stack([ce[0], ce[1], torch.tensor(0.0), ce[2]]).detach()
    raw = 0.25 * torch.exp(0.5 * group_losses.double())
    q = raw / raw.sum()
    torch.testing.assert_close(model.group_state.weights, q)
    torch.testing.assert_close(losses['loss'], (q.float() * group_losses).sum())
    with pytest.raises(UserError, match=r"PackInputs\(algorithm_keys=\('group',\)\)"):
        model.loss(inputs, [DataSample().set_gt_label(0)] * 3)


def test_prediction_never_touches_the_weights():
    model = build().eval()
    before = model.group_state.weights.clone()
    model(torch.rand(2, 3, 64, 64), [DataSample(), DataSample()], mode='predict')
    assert torch.equal(model.group_state.weights, before)


# Three steps; the ranks' batches differ in size (2 + 1, 1 + 2, 2 + 2).
RANK_BATCHES = {
    0: [([1.0, 2.0], [0, 2]), ([0.5], [1]), ([3.0, 0.2], [3, 3])],
    1: [([0.7], [1]), ([1.5, 0.1], [2, 0]), ([0.4, 2.5], [0, 1])],
}


def run_rank(rank: int, port: int, result_file: str) -> None:
    with gloo_process_group(rank, port):
        state = GroupWeightState(4, step_size=0.3)
        for losses, groups in RANK_BATCHES[rank]:
            state.update(torch.tensor(losses), torch.tensor(groups))
        objects = [None] * WORLD_SIZE
        torch_dist.all_gather_object(objects, state.state_dict())
        if rank == 0:
            torch.save(objects, result_file)


def test_two_gloo_ranks_hold_the_single_process_weights(tmp_path):
    result_file = str(tmp_path / 'weights.pth')
    mp.spawn(run_rank, args=(free_port(), result_file), nprocs=WORLD_SIZE, join=True)
    rank0, rank1 = torch.load(result_file)
    single = GroupWeightState(4, step_size=0.3)
    for step in range(3):
        losses = RANK_BATCHES[0][step][0] + RANK_BATCHES[1][step][0]
        groups = RANK_BATCHES[0][step][1] + RANK_BATCHES[1][step][1]
        single.update(torch.tensor(losses), torch.tensor(groups))
    assert torch.equal(rank0['weights'], single.weights)
    assert torch.equal(rank1['weights'], single.weights)
    assert not torch.equal(single.weights, torch.full((4,), 0.25, dtype=torch.float64))
