"""Checks of a run's data against its model, once, before the first batch.

A data set with more classes than the model's head (10 class folders under a
9-class config, or ``model.head.num_classes`` set too low) fails deep in the
loss as ``IndexError: Target 9 is out of bounds``, after the run has started;
:class:`RunChecksHook` states it before training or testing, naming the data
root and the config key. ``tools/train.py`` and ``tools/test.py`` add it to
``custom_hooks`` when the config does not.
"""

import logging
import os.path as osp

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmpretrain.models.retrievers import BaseRetriever
from mmpretrain.registry import HOOKS

from clad_mm.datasets.transforms.load_pseudo_label import LoadPseudoLabel
from clad_mm.utils.errors import UserError


@HOOKS.register_module()
class RunChecksHook(Hook):
    """Checks every data set's labels against the model's classes.

    Before training (the train and validation data sets) and before testing
    (the test data set): a label that is not a class of ``model.head``
    (``num_classes``), or of ``model.data_preprocessor`` where it sets
    ``num_classes`` (its batch augmentations one-hot encode the labels), is
    a :class:`~clad_mm.utils.errors.UserError` naming the data root, its
    number of classes and the config key. A training set with fewer classes
    than the head is accepted with a warning (the head's other classes are
    never trained). A retriever's validation and test sets are not checked:
    retrieval is evaluated on classes the model never trained on. A training
    sampler with its own ``batch_size`` (``MPerClassSampler``) must agree
    with the dataloader's. A model trained on a pseudo-label file
    (``ClusterFixClassifier``) must read the same file as the training
    pipeline's ``LoadPseudoLabel``, made for a training set of this size. The
    check reads the data set's labels and meta information only; no image is
    decoded.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Checks the train and validation data sets, and the sampler."""
        dataloader = runner.train_loop.dataloader
        self._check(runner, dataloader.dataset, training=True)
        self._check_pseudo_labels(runner, dataloader.dataset)
        sampler_batch = getattr(
            getattr(dataloader, 'sampler', None), 'batch_size', None
        )
        if sampler_batch is not None and sampler_batch != dataloader.batch_size:
            raise UserError(
                f'train_dataloader.sampler.batch_size={sampler_batch} but '
                f'train_dataloader.batch_size={dataloader.batch_size} in '
                f'{getattr(runner.cfg, "filename", None) or "the config"}: '
                f'{type(dataloader.sampler).__name__} composes class-balanced '
                'batches of its batch_size, so both must be equal'
            )
        val_loop = runner._val_loop
        # The val loop is built by Runner.train() unless validation is off.
        if val_loop is not None and not isinstance(val_loop, dict):
            self._check(runner, val_loop.dataloader.dataset, training=False)

    def before_test(self, runner) -> None:
        """Checks the test data set."""
        self._check(runner, runner.test_loop.dataloader.dataset, training=False)

    def _check_pseudo_labels(self, runner, dataset) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        path = getattr(model, 'pseudo_labels', None)
        if path is None:
            return
        config = getattr(runner.cfg, 'filename', None) or 'the config'
        pipeline = getattr(getattr(dataset, 'pipeline', None), 'transforms', ())
        for step in pipeline:
            if isinstance(step, LoadPseudoLabel) and osp.realpath(
                step.pseudo_labels
            ) != osp.realpath(path):
                raise UserError(
                    f"model.pseudo_labels={path} but the training pipeline's "
                    f'LoadPseudoLabel reads {step.pseudo_labels} in {config}: '
                    'both must name the same file'
                )
        num_samples = model.cluster_state.num_samples
        if len(dataset) != num_samples:
            data_root = getattr(dataset, 'data_root', None) or type(dataset).__name__
            raise UserError(
                f'the training set of {data_root} has {len(dataset)} images but '
                f'the pseudo-label file {path} was made for {num_samples}: make '
                'the pseudo-labels from this training set '
                '(tools/analysis/make_pseudo_labels.py)'
            )

    def _check(self, runner, dataset, training: bool) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not training and isinstance(model, BaseRetriever):
            # Retrieval is tested on classes disjoint from the training ones.
            return
        labels = dataset_labels(dataset)
        if labels is None or labels.size == 0:
            return
        num_labels = int(labels.max()) + 1
        data_root = getattr(dataset, 'data_root', None) or type(dataset).__name__
        classes = dataset.metainfo.get('classes') or ()
        found = (
            f'{len(classes)} classes (class folders)'
            if len(classes) >= num_labels
            else f'labels up to {num_labels - 1}'
        )
        config = getattr(runner.cfg, 'filename', None) or 'the config'
        for key, module in (
            ('model.head.num_classes', getattr(model, 'head', None)),
            ('model.data_preprocessor.num_classes', model.data_preprocessor),
        ):
            num_classes = getattr(module, 'num_classes', None)
            if not isinstance(num_classes, int):
                continue
            # A head may keep its classes in a nested key (a proxy loss's).
            key = getattr(module, 'num_classes_key', key)
            if num_labels > num_classes:
                raise UserError(
                    f'{data_root} holds {found} but {key}={num_classes} in '
                    f'{config}: set {key}={max(len(classes), num_labels)} '
                    '(e.g. with --cfg-options) or use data with '
                    f'{num_classes} classes'
                )
            if training and module is getattr(model, 'head', None):
                if max(len(classes), num_labels) < num_classes:
                    print_log(
                        f'{data_root} holds {found} but {key}={num_classes} in '
                        f'{config}: the head has classes that no training '
                        'sample has, and they are never trained',
                        logger='current',
                        level=logging.WARNING,
                    )


def dataset_labels(dataset) -> np.ndarray | None:
    """The ground-truth labels of a data set, read from its data infos.

    Args:
        dataset: An MMPretrain data set, or a wrapper of them.

    Returns:
        np.ndarray | None: The labels, or None for a data set without
        ``get_gt_labels`` (the check is then skipped).
    """
    get_gt_labels = getattr(dataset, 'get_gt_labels', None)
    if get_gt_labels is None:
        return None
    return np.asarray(get_gt_labels(), dtype=np.int64).ravel()
