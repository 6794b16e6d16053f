"""CLAD's negative dictionary: one FIFO queue of detached features per key.

`CLAD: A Contrastive Learning based Approach for Background Debiasing
<https://arxiv.org/abs/2210.02748>`_ (Wang et al., BMVC 2022) keys the queues
by *background* class: every positive (an anchor's foreground pasted on class
``b``'s background) is enqueued under ``b``, and an anchor of class ``y``
takes the whole queue ``y`` as negatives: images that show class ``y``'s
background but another class's foreground.

Unlike the authors' CPU numpy queue, the queues here are registered buffers
of the model: they are saved in checkpoints (a resumed run continues with the
same queues), move with the model between devices, and every update is
all-gathered across ranks first, so all ranks hold identical queues.
What a queue holds therefore depends on the world size (see
:class:`NegativeDictionary`).

Config keys (``type='NegativeDictionary'``): ``num_keys``, ``queue_size``,
``feat_dim``, ``init_mode``.
"""

import logging

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from clad_mm.utils.distributed import gather_batches
from clad_mm.utils.errors import UserError

INIT_MODES = ('first_batch', 'random')


@MODELS.register_module()
class NegativeDictionary(BaseModule):
    """Per-key FIFO queues of detached features (CLAD's negative dictionary).

    State (registered buffers, all saved in checkpoints):

    - ``queues`` ``[K, N, D]`` float: the entries.
    - ``pointers`` ``[K]`` long: the slot that the next entry of a key
      overwrites, i.e. its oldest entry once the queue is full.
    - ``num_written`` ``[K]`` long: entries ever written per key; a queue's
      fill level is ``min(num_written, N)`` and slots ``0 .. fill - 1`` hold
      entries, since writing starts at slot 0.
    - ``written_at`` ``[K, N]`` long: value of ``step`` when the slot was
      written, for staleness.
    - ``step`` long scalar: number of :meth:`enqueue` calls so far.

    Every method that changes the state gathers its input from all ranks, so
    it must be called on every rank at the same time; as all ranks hold the
    same state, decisions taken from it (e.g. :attr:`is_initialized`) agree
    across ranks and the collective calls stay matched.

    What a queue holds at a world size ``W`` and a per-rank batch ``B``: one
    :meth:`enqueue` call (one training step) adds the positives of all
    ranks, ``W·B`` entries, about ``W·B/K`` per key for ``K`` keys with
    balanced classes, so a queue of ``N`` entries spans about
    ``N / (W·B/K)`` steps and keeps entries of earlier steps only while
    ``N > W·B/K``. One process at batch 64 on IN-9's 9 keys adds about 7
    entries per key per step (a queue of 32 spans about 4.5 steps); 8 ranks
    of 64 add about 57, so every queue of 32 is replaced at each step and
    holds only that step's positives: the negatives then differ from a
    single-process run. :meth:`enqueue` logs a warning (once per
    dictionary) when a key receives ``N`` or more entries in one call, i.e.
    when its queue keeps nothing of earlier steps; raise ``queue_size``
    above ``W·B/K`` to keep history.

    Args:
        num_keys (int): Number of keys ``K`` (background classes).
        queue_size (int): Entries per queue ``N``. Defaults to 32 (CLAD).
        feat_dim (int): Feature size ``D`` of the backbone. Defaults to 2048
            (ResNet-50).
        init_mode (str): How the queues start. Defaults to ``'first_batch'``.

            - ``'first_batch'`` (the paper): the queues start empty and
              :meth:`initialize` fills each queue ``k`` with the first batch's
              features of classes other than ``k``, cycled to ``N`` entries,
              so no anchor meets an empty queue.
            - ``'random'`` (as MoCo's queue): full from the start with random
              unit vectors, which are almost orthogonal to every real feature
              and therefore weak negatives until positives replace them.
              They are drawn from a fixed seed, so every rank and every
              rebuild holds the same queues without communication.
        init_cfg (dict, optional): Initialisation config of
            :class:`~mmengine.model.BaseModule`. Defaults to None.
    """

    def __init__(
        self,
        num_keys: int,
        queue_size: int = 32,
        feat_dim: int = 2048,
        init_mode: str = 'first_batch',
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (
            ('num_keys', num_keys),
            ('queue_size', queue_size),
            ('feat_dim', feat_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise UserError(f'{name} must be a positive int, got {value!r}')
        if init_mode not in INIT_MODES:
            raise UserError(f'init_mode must be one of {INIT_MODES}, got {init_mode!r}')
        self.num_keys = num_keys
        self.queue_size = queue_size
        self.feat_dim = feat_dim
        self.init_mode = init_mode
        self._warned_overwrite = False
        self.register_buffer('queues', torch.zeros(num_keys, queue_size, feat_dim))
        self.register_buffer('pointers', torch.zeros(num_keys, dtype=torch.long))
        self.register_buffer('num_written', torch.zeros(num_keys, dtype=torch.long))
        self.register_buffer(
            'written_at', torch.zeros(num_keys, queue_size, dtype=torch.long)
        )
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        if init_mode == 'random':
            generator = torch.Generator().manual_seed(0)
            random_features = torch.randn(self.queues.shape, generator=generator)
            self.queues.copy_(F.normalize(random_features, dim=2))
            self.num_written.fill_(queue_size)

    def extra_repr(self) -> str:
        return (
            f'num_keys={self.num_keys}, queue_size={self.queue_size}, '
            f'feat_dim={self.feat_dim}, init_mode={self.init_mode!r}'
        )

    @property
    def fill_levels(self) -> torch.Tensor:
        """``[K]`` long: number of entries each queue holds."""
        return self.num_written.clamp(max=self.queue_size)

    @property
    def is_initialized(self) -> bool:
        """Whether every queue holds at least one entry."""
        return bool((self.num_written > 0).all())

    def valid_slots(self) -> torch.Tensor:
        """``[K, N]`` bool: True for the slots that hold an entry."""
        slots = torch.arange(self.queue_size, device=self.num_written.device)
        return slots < self.fill_levels[:, None]

    def _check_keys(self, keys: torch.Tensor) -> torch.Tensor:
        if keys.dim() != 1 or keys.dtype.is_floating_point or keys.dtype == torch.bool:
            raise ValueError(
                f'keys must be a 1-D integer tensor, got {keys.dtype} of shape '
                f'{tuple(keys.shape)}'
            )
        if len(keys) and (keys.min() < 0 or keys.max() >= self.num_keys):
            raise ValueError(
                f'keys must lie in [0, {self.num_keys - 1}] (num_keys='
                f'{self.num_keys}), got values from {int(keys.min())} to '
                f'{int(keys.max())}'
            )
        return keys.to(device=self.queues.device, dtype=torch.long)

    def _check_batch(
        self, features: torch.Tensor, keys: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if features.dim() != 2 or features.size(1) != self.feat_dim:
            raise ValueError(
                f'features must be [B, feat_dim] = [B, {self.feat_dim}], got shape '
                f'{tuple(features.shape)}'
            )
        if len(features) != len(keys):
            raise ValueError(
                f'got {len(features)} features but {len(keys)} keys; '
                'one key per feature is needed'
            )
        keys = self._check_keys(keys)
        features = features.detach().to(self.queues.device, self.queues.dtype)
        return features, keys

    @torch.no_grad()
    def initialize(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Fills the empty queues from one batch, as in the paper.

        Queue ``k`` receives the batch's features whose label is not ``k``
        (gathered from all ranks), cycled or truncated to ``N`` entries. A
        queue with no such feature (every sample of the batch has label
        ``k``, e.g. a single-class batch) stays empty: its slots are reported
        invalid by :meth:`negatives` and :meth:`valid_slots`, and a later call
        fills it. Queues that hold entries are never touched, so calling this
        until :attr:`is_initialized` is True is safe.

        Args:
            features (torch.Tensor): Features of the batch, ``[B, D]``.
            labels (torch.Tensor): Their class labels, ``[B]``.
        """
        features, labels = self._check_batch(features, labels)
        (features, labels), _ = gather_batches(features, labels)
        cycle = torch.arange(self.queue_size, device=features.device)
        for key in range(self.num_keys):
            if self.num_written[key] > 0:
                continue
            other_class_features = features[labels != key]
            if len(other_class_features) == 0:
                continue
            self.queues[key] = other_class_features[cycle % len(other_class_features)]
            self.written_at[key] = self.step
            # A full queue's pointer is back at slot 0, its oldest entry.
            self.num_written[key] = self.queue_size

    @torch.no_grad()
    def enqueue(self, features: torch.Tensor, keys: torch.Tensor) -> None:
        """Appends detached features to their keys' queues (FIFO per key).

        The batches of all ranks are gathered first and written in rank
        order, then batch order. Entries of one key go to consecutive slots,
        wrapping around; if more than ``N`` arrive for one key, only its last
        ``N`` remain, as if they had been written one by one. A key that
        receives ``N`` or more entries keeps no entry of an earlier call,
        and a warning says so (the first time only). Advances ``step`` by
        one.

        Args:
            features (torch.Tensor): Features, ``[B, D]``; stored detached in
                the queues' dtype.
            keys (torch.Tensor): Key of each feature, ``[B]`` (for CLAD the
                positives' background labels).
        """
        features, keys = self._check_batch(features, keys)
        (features, keys), _ = gather_batches(features, keys)
        self.step.add_(1)
        counts = torch.bincount(keys, minlength=self.num_keys)
        self._warn_if_overwritten(counts, len(keys))
        # Position of each entry among this call's entries of its key.
        occurrence = F.one_hot(keys, self.num_keys).cumsum(dim=0)
        occurrence = occurrence.gather(1, keys[:, None]).squeeze(1) - 1
        # Entries that a one-by-one FIFO would overwrite within this call are
        # skipped, which also keeps the written slots of a key distinct.
        surviving = occurrence >= counts[keys] - self.queue_size
        surviving_keys = keys[surviving]
        slots = (
            self.pointers[surviving_keys] + occurrence[surviving]
        ) % self.queue_size
        self.queues[surviving_keys, slots] = features[surviving]
        self.written_at[surviving_keys, slots] = self.step
        self.pointers.add_(counts).remainder_(self.queue_size)
        self.num_written.add_(counts)

    def _warn_if_overwritten(self, counts: torch.Tensor, num_entries: int) -> None:
        if self._warned_overwrite:
            return
        overflowing = (counts >= self.queue_size).nonzero().flatten().tolist()
        if not overflowing:
            return
        self._warned_overwrite = True
        print_log(
            f'NegativeDictionary: one enqueue of {num_entries} entries (all '
            f'ranks) gave keys {overflowing} up to {int(counts.max())} new '
            f'entries each, at least queue_size={self.queue_size}: those '
            'queues were replaced within the step and hold no negatives of '
            'earlier steps. With W ranks of B images and K keys a step adds '
            'about W*B/K entries per key; raise queue_size above that to keep '
            'history. (Logged once.)',
            logger='current',
            level=logging.WARNING,
        )

    def negatives(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The queue of each key, as negatives for a batch of anchors.

        Args:
            keys (torch.Tensor): One key per anchor, ``[B]`` (for CLAD the
                anchors' class labels).

        Returns:
            tuple[torch.Tensor, torch.Tensor]: ``negatives`` ``[B, N, D]``, a
            copy without gradient (later updates do not change it), and
            ``valid_mask`` ``[B, N]`` bool, False for slots not yet written.
        """
        keys = self._check_keys(keys)
        return self.queues[keys], self.valid_slots()[keys]

    def stats(self) -> dict[str, float]:
        """Health of the dictionary, for logging.

        Returns:
            dict[str, float]: ``fill_ratio_mean`` and ``fill_ratio_min``
            (entries held over ``N``, across keys), ``staleness_mean`` and
            ``staleness_max`` (age in :meth:`enqueue` calls of the entries
            held; 0 when the dictionary is empty).
        """
        fill_ratios = self.fill_levels.float() / self.queue_size
        ages = (self.step - self.written_at)[self.valid_slots()].float()
        has_entries = ages.numel() > 0
        return dict(
            fill_ratio_mean=fill_ratios.mean().item(),
            fill_ratio_min=fill_ratios.min().item(),
            staleness_mean=ages.mean().item() if has_entries else 0.0,
            staleness_max=ages.max().item() if has_entries else 0.0,
        )
