"""Test-only hook for the distributed tests: every rank saves its state_dict.

Imported by training processes through the test config's ``custom_imports``
(the test puts this folder on their ``PYTHONPATH``).
"""

import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class RankStateDumpHook(Hook):
    """Saves ``rank<r>.pth`` (the model's state_dict) into ``out_dir``.

    Args:
        out_dir (str): Folder to write into.
    """

    priority = 'LOWEST'  # after the CheckpointHook of the last epoch

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(model.state_dict(), osp.join(self.out_dir, f'rank{get_rank()}.pth'))
