"""Checks of the checkpoint a training run loads, before it starts.

MMEngine's Runner loads ``load_from`` non-strictly: weights that do not fit
are skipped with a warning, and training goes on from random weights.
Resuming (``resume=True``) from a checkpoint that training did not save,
or that another model saved, ends in a ``KeyError: 'epoch'`` or a shape
error deep inside the Runner. :func:`check_checkpoints` reads the
checkpoint before ``runner.train()`` (which reads it again: one extra read
of the file per run) and states either case as a
:class:`~clad_mm.utils.errors.UserError` naming the file and what does not
fit.
"""

import logging
import os.path as osp

from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader, find_latest_checkpoint

from clad_mm.utils.errors import MissingFileError, UserError

from .classifier_loading import checkpoint_weights, require_checkpoint_fits

#: What ``Runner.resume`` reads from a checkpoint besides the weights.
RESUME_ENTRIES = ('meta.epoch', 'meta.iter', 'optimizer', 'message_hub')


def _resume_checkpoint(runner, cfg) -> str | None:
    """The checkpoint that ``runner.train()`` will resume from, if any."""
    load_from = cfg.get('load_from')
    if load_from is not None:
        if '://' not in load_from and not osp.isfile(load_from):
            raise MissingFileError(
                f'The checkpoint to resume from (load_from / --resume) '
                f'{load_from} does not exist'
            )
        return load_from
    checkpoint = find_latest_checkpoint(runner.work_dir)
    if checkpoint is None:
        print_log(
            f'--resume (resume=True) found no last_checkpoint in {runner.work_dir}'
            ', so training starts from the first epoch',
            logger='current',
            level=logging.WARNING,
        )
    elif '://' not in checkpoint and not osp.isfile(checkpoint):
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        raise MissingFileError(
            f'{pointer} names the checkpoint to resume from, {checkpoint!r}, '
            'which does not exist'
        )
    return checkpoint


def _missing_resume_entries(loaded: dict) -> list[str]:
    meta = loaded.get('meta')
    present = {key for key in loaded if key != 'meta'}
    if isinstance(meta, dict):
        present |= {f'meta.{key}' for key in meta}
    return [entry for entry in RESUME_ENTRIES if entry not in present]


def _pretrained_files(node, key: str):
    """(config key, file) of each local ``Pretrained`` init_cfg under ``node``."""
    if isinstance(node, (list, tuple)):
        for index, item in enumerate(node):
            yield from _pretrained_files(item, f'{key}[{index}]')
        return
    if not isinstance(node, dict):
        return
    init_cfgs = node.get('init_cfg')
    for index, init in enumerate(
        init_cfgs if isinstance(init_cfgs, (list, tuple)) else [init_cfgs]
    ):
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            where = f'{key}.init_cfg' + (
                f'[{index}]' if isinstance(init_cfgs, (list, tuple)) else ''
            )
            checkpoint = init.get('checkpoint')
            if isinstance(checkpoint, str) and '://' not in checkpoint:
                yield f'{where}.checkpoint', checkpoint
    for name, value in node.items():
        if name != 'init_cfg':
            yield from _pretrained_files(value, f'{key}.{name}')


def require_pretrained_files(cfg) -> None:
    """Refuses a config whose ``Pretrained`` init_cfg names a missing file.

    MMEngine reads these files only when training starts, and its error
    names neither the config key nor how to get the file.

    Args:
        cfg (Config): The training config (its ``model``).

    Raises:
        MissingFileError: Naming the key, the file and how to provide it.
    """
    for key, checkpoint in _pretrained_files(cfg.get('model'), 'model'):
        if osp.isfile(osp.expanduser(checkpoint)):
            continue
        hint = (
            '; `make pretrained-weights` (tools/model_converters/'
            'efficientnet_lite_to_mmpretrain.py) writes it'
            if 'efficientnet_lite' in osp.basename(checkpoint)
            else ''
        )
        raise MissingFileError(
            f'{key} = {checkpoint!r}, the pretrained weights to start from, does '
            f'not exist{hint}; or name another file with --cfg-options {key}=PATH'
        )


def check_checkpoints(runner, cfg) -> None:
    """Refuses a ``load_from`` or resume checkpoint that does not fit.

    * Resuming (``resume=True``, from ``load_from`` or else from the work
      directory's ``last_checkpoint``): the checkpoint must hold what
      training saves (:data:`RESUME_ENTRIES` and ``state_dict``), and
      exactly the model's tensors with the model's shapes. Without any
      checkpoint to resume from, a warning says training starts afresh.
    * ``load_from`` alone: the checkpoint must hold the model's backbone,
      neck and head with their shapes (other tensors are ignored).

    * Every local ``Pretrained`` init_cfg file must exist
      (:func:`require_pretrained_files`): training reads it before it
      resumes.

    Call it after the Runner is built and before ``runner.train()``.

    Args:
        runner (Runner): The built Runner (its model and work directory).
        cfg (Config): The config it was built from (``load_from``,
            ``resume``).

    Raises:
        MissingFileError: If the checkpoint does not exist.
        UserError: Naming the checkpoint and what is missing or does not
            fit, or why the file cannot be read.
    """
    require_pretrained_files(cfg)
    resume = bool(cfg.get('resume', False))
    checkpoint = _resume_checkpoint(runner, cfg) if resume else cfg.get('load_from')
    if checkpoint is None:
        return
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    if resume:
        missing = _missing_resume_entries(loaded)
        if 'state_dict' not in loaded:
            missing.insert(0, 'state_dict')
        if missing:
            raise UserError(
                f'Cannot resume from {checkpoint}: it lacks '
                + ', '.join(missing)
                + ', which a checkpoint saved by training holds; to start '
                'from its weights, set load_from without --resume'
            )
    state_dict, _ = checkpoint_weights(loaded, checkpoint)
    try:
        require_checkpoint_fits(
            runner.model, state_dict, checkpoint, cfg, whole_model=resume
        )
    except UserError as error:
        if resume:
            raise UserError(
                f'Cannot resume: {error}; resuming continues the same model'
            ) from None
        raise UserError(
            f'load_from: {error}; to load only part of it, set e.g. '
            "model.backbone.init_cfg=dict(type='Pretrained', "
            f"checkpoint='{checkpoint}', prefix='backbone.') instead"
        ) from None
