"""Loads a classifier from a config and a checkpoint, refusing misfits.

MMEngine only warns when a checkpoint does not fit a model (a 1000-class
head loaded into a 9-class config, another backbone) and keeps random
weights there, so a tool would evaluate or explain a random model. Every
clad_mm tool that runs a checkpoint goes through
:func:`require_checkpoint_fits` instead, which makes that an error naming
the checkpoint, the config and both class counts.

A checkpoint fits a model when every parameter and buffer of the model's
backbone, neck and head (what ``predict()`` runs) is in it with the model's
shape. Other weights are ignored: a CLAD checkpoint holds a negative
dictionary that a baseline model lacks, and a baseline checkpoint lacks
it, yet both run in either config.
"""

import re

import torch
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import CheckpointLoader

from clad_mm.utils.errors import UserError

#: Submodules of an ``ImageClassifier`` that ``predict()`` runs.
PREDICTION_MODULES = ('backbone.', 'neck.', 'head.')
_EXAMPLES_SHOWN = 3


def read_checkpoint(checkpoint: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Reads a checkpoint's weights and meta data, safely.

    Loading goes through MMEngine's ``CheckpointLoader``; for local files
    that is :func:`clad_mm.utils.checkpoint_io.load_from_local_safely`
    (``weights_only=True`` with the Runner checkpoint allowlist).

    Args:
        checkpoint (str): Path or URL of a Runner checkpoint or of a bare
            state dict.

    Returns:
        tuple: The state dict, its keys without the ``module.`` prefix of
        wrapped (DDP) models as ``Runner.load_checkpoint`` revises them,
        and the checkpoint's ``meta`` (empty for a bare state dict).

    Raises:
        UserError: Naming the checkpoint, if it is missing, unreadable,
            refused as possibly unsafe, or holds no dict of weights.
    """
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    return checkpoint_weights(loaded, checkpoint)


def checkpoint_weights(
    loaded: dict, checkpoint: str
) -> tuple[dict[str, torch.Tensor], dict]:
    """The weights and meta data of a loaded checkpoint.

    Args:
        loaded (dict): A Runner checkpoint or a bare state dict.
        checkpoint (str): Its path, for the message.

    Returns:
        tuple: As :func:`read_checkpoint`.

    Raises:
        UserError: If its ``state_dict`` is not a dict.
    """
    state_dict = loaded.get('state_dict', loaded)
    if not isinstance(state_dict, dict):
        raise UserError(
            f'Checkpoint {checkpoint} holds a {type(state_dict).__name__} as '
            'state_dict, expected a dict of tensors'
        )
    state_dict = {
        re.sub(r'^module\.', '', key): value for key, value in state_dict.items()
    }
    return state_dict, loaded.get('meta') or {}


def require_checkpoint_fits(
    model, state_dict: dict, checkpoint: str, config, whole_model: bool = False
) -> None:
    """Raises unless a state dict holds the model's backbone, neck and head.

    With ``whole_model`` (what resuming training needs), every tensor of
    the model must be in the state dict with its shape, and the state dict
    must hold no other tensors.

    Args:
        model (torch.nn.Module): The classifier, possibly inside a model
            wrapper or a test-time-augmentation model.
        state_dict (dict): The checkpoint's weights, from
            :func:`read_checkpoint`.
        checkpoint (str): The checkpoint's path, for the message.
        config (str | Config): The config the model was built from, for the
            message.
        whole_model (bool): Check every tensor of the model, not only
            backbone, neck and head, and refuse extra tensors. Defaults to
            False.

    Raises:
        UserError: Naming the checkpoint and the config, and, for a head
            of another number of classes, both numbers of classes.
    """
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    expected = {
        key: value
        for key, value in model.state_dict().items()
        if whole_model or key.startswith(PREDICTION_MODULES)
    }
    mismatched = [
        (key, tuple(state_dict[key].shape), tuple(value.shape))
        for key, value in expected.items()
        if key in state_dict and state_dict[key].shape != value.shape
    ]
    num_classes = getattr(getattr(model, 'head', None), 'num_classes', None)
    head_mismatches = [
        (key, saved, wanted)
        for key, saved, wanted in mismatched
        if key.startswith('head.')
        and wanted[:1] == (num_classes,)
        and saved[1:] == wanted[1:]
    ]
    others = [mismatch for mismatch in mismatched if mismatch not in head_mismatches]
    # BatchNorm's step counter does not affect predictions, and checkpoints
    # converted from other libraries often lack it.
    missing = [
        key
        for key in expected
        if key not in state_dict and not key.endswith('num_batches_tracked')
    ]
    unexpected = (
        [key for key in state_dict if key not in expected] if whole_model else []
    )
    problems = []
    if head_mismatches:
        key, saved, wanted = head_mismatches[0]
        problems.append(
            f'it has {saved[0]} classes ({key} is {saved}) but the config has '
            f'{num_classes} (model.head.num_classes; {key} is {wanted})'
        )
    if others:
        examples = '; '.join(
            f'{key}: {saved} in the checkpoint, {wanted} in the model'
            for key, saved, wanted in others[:_EXAMPLES_SHOWN]
        )
        other = 'other ' if head_mismatches else ''
        problems.append(
            f'{len(others)} {other}tensors differ in shape, e.g. {examples}'
        )
    if missing:
        problems.append(
            f"it lacks {len(missing)} of the model's weights, e.g. "
            + ', '.join(missing[:_EXAMPLES_SHOWN])
        )
    if unexpected:
        problems.append(
            f'it holds {len(unexpected)} weights the model lacks, e.g. '
            + ', '.join(unexpected[:_EXAMPLES_SHOWN])
        )
    if problems:
        config_name = getattr(config, 'filename', config)
        raise UserError(
            f'Checkpoint {checkpoint} does not fit the model of config '
            f'{config_name}: ' + ', and '.join(problems)
        )


def load_classifier(config, checkpoint: str, device: str = 'cpu'):
    """Builds a config's classifier and loads a fitting checkpoint into it.

    Only the weights that predictions depend on (backbone, neck and head)
    are loaded, after :func:`require_checkpoint_fits` has checked them.

    Args:
        config (str | Config): MMPretrain config (path or object) with a
            ``model`` (and optionally a top-level ``data_preprocessor``).
        checkpoint (str): Path or URL of the checkpoint.
        device (str): Device to put the model on. Defaults to ``'cpu'``.

    Returns:
        BaseModel: The model in eval mode. As with
        :func:`mmpretrain.apis.get_model`, its ``_config`` is the config and
        its ``_dataset_meta`` the checkpoint's ``meta.dataset_meta`` (class
        names), if any.

    Raises:
        UserError: If the checkpoint cannot be read or does not fit the
            model.
    """
    # Lazy: importing mmpretrain.apis registers every inferencer.
    from mmpretrain.apis import get_model

    model = get_model(config)
    state_dict, meta = read_checkpoint(checkpoint)
    require_checkpoint_fits(model, state_dict, checkpoint, config)
    model.load_state_dict(
        {
            key: value
            for key, value in state_dict.items()
            if key.startswith(PREDICTION_MODULES)
        },
        strict=False,
    )
    if meta.get('dataset_meta'):
        model._dataset_meta = meta['dataset_meta']
    return model.to(device).eval()
