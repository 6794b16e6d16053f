"""Config edits shared by ``tools/train.py`` and ``tools/test.py``."""

import os.path as osp

import torch


def apply_launcher_and_work_dir(cfg, launcher: str, work_dir, config_path: str):
    """Sets the launcher and the work dir as MMPretrain's tools do.

    Args:
        cfg (Config): The config to edit in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        work_dir (str, optional): The ``--work-dir`` argument; when None, the
            config's ``work_dir`` or ``./work_dirs/<config name>``.
        config_path (str): Path of the config file.
    """
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        # NCCL (MMPretrain's default) needs GPUs, and DDP takes no device ids
        # for a CPU module; gloo runs on CPU processes.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False
        )
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        config_name = osp.splitext(osp.basename(config_path))[0]
        cfg.work_dir = osp.join('./work_dirs', config_name)


def set_dataloader_defaults(
    cfg, field: str, pin_memory: bool = True, persistent_workers: bool = True
):
    """Fills MMPretrain's dataloader defaults where they are valid.

    ``pin_memory`` only helps (and only stays quiet) with a CUDA device, and
    ``persistent_workers`` is an error without workers, so each is switched
    on only where it is valid.

    Args:
        cfg (Config): The config to edit in place.
        field (str): E.g. ``'train_dataloader'``; nothing happens if absent.
        pin_memory (bool): False forces ``pin_memory`` off.
        persistent_workers (bool): False forces ``persistent_workers`` off.
    """
    dataloader = cfg.get(field)
    if dataloader is None:
        return
    dataloader.setdefault('collate_fn', dict(type='default_collate'))
    dataloader.setdefault('pin_memory', torch.cuda.is_available())
    dataloader.setdefault('persistent_workers', True)
    if not pin_memory:
        dataloader.pin_memory = False
    if not persistent_workers or dataloader.get('num_workers', 0) == 0:
        dataloader.persistent_workers = False
