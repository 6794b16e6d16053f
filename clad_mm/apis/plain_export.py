"""A clad_mm classifier as plain MMPretrain: a config and weights that
load without the plugin.

Training leaves a Runner checkpoint (weights, optimizer state, message hub,
CLAD's negative dictionary or ClusterFix's weight buffers) and a config
that names clad_mm types. What a deployment needs is an ``ImageClassifier``
config that names only MMPretrain, MMEngine and MMCV types, and a file of
the tensors that ``predict()`` uses, which torch's default
``weights_only=True`` loads without any allowlist.

:func:`plain_classifier_config` rewrites the model (any ``ImageClassifier``
subclass: CLAD, S-CLAD, ClusterFix, GroupDRO, the baselines) as
``ImageClassifier`` with the same backbone, neck and head, and without
``init_cfg`` (the exported weights replace it), and its data preprocessor as
``ClsDataPreprocessor`` with the same mean, std and channel order. The test
pipeline is kept; it and every other part must name no clad_mm type (one
that does is an error naming its key). The test set becomes MMPretrain's
``CustomDataset`` (a folder of class sub-folders, ``data_root`` to set), with
``Accuracy`` as the metric. :func:`plain_checkpoint` keeps the backbone,
neck and head weights and the class names.
"""

import copy

import torch
from mmengine.config import Config, ConfigDict
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS, TRANSFORMS

from clad_mm.utils.errors import UserError

from .classifier_loading import PREDICTION_MODULES, read_checkpoint

#: The data preprocessor's keys that inference depends on.
PREPROCESSOR_KEYS = ('mean', 'std', 'to_rgb', 'num_classes')
#: Where the exported config's test set is looked for until set.
PLACEHOLDER_DATA_ROOT = 'data/test'


def _without_init_cfg(node):
    """A copy of a config node with every ``init_cfg`` removed."""
    if isinstance(node, dict):
        return {
            key: _without_init_cfg(value)
            for key, value in node.items()
            if key != 'init_cfg'
        }
    if isinstance(node, list | tuple):
        return type(node)(_without_init_cfg(value) for value in node)
    return node


def _require_plain_types(node, registry, key: str, config_name: str) -> None:
    """Raises if a ``type`` below ``node`` is registered by clad_mm."""
    if isinstance(node, dict):
        kind = node.get('type')
        if isinstance(kind, str):
            registered = registry.get(kind)
            module = getattr(registered, '__module__', '') or ''
            if registered is None or module.startswith('clad_mm'):
                raise UserError(
                    f'{config_name}: {key}.type={kind!r} is a clad_mm component; '
                    'a plain MMPretrain config can only name MMPretrain, MMEngine '
                    'and MMCV types'
                )
        for child_key, value in node.items():
            if child_key != 'type':
                _require_plain_types(value, registry, f'{key}.{child_key}', config_name)
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            _require_plain_types(value, registry, f'{key}[{index}]', config_name)


def plain_classifier_config(cfg: Config) -> Config:
    """The plain MMPretrain config of a clad_mm classifier config.

    Args:
        cfg (Config): The training config.

    Returns:
        Config: ``default_scope``, ``model``, ``test_pipeline``,
        ``test_dataloader``, ``test_evaluator`` and ``test_cfg``.

    Raises:
        UserError: If the model is not an ``ImageClassifier`` (e.g. a
            retriever) or a kept part names a clad_mm type.
    """
    config_name = cfg.filename or 'the config'
    model_type = MODELS.get(cfg.model.get('type'))
    if model_type is None or not issubclass(model_type, ImageClassifier):
        raise UserError(
            f'{config_name}: model.type={cfg.model.get("type")!r} is not an '
            'ImageClassifier; only classifiers can be exported as plain '
            'MMPretrain models'
        )
    source = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    preprocessor = dict(type='ClsDataPreprocessor')
    preprocessor.update({k: source[k] for k in PREPROCESSOR_KEYS if k in source})
    model = dict(type='ImageClassifier')
    for part in ('backbone', 'neck', 'head'):
        if cfg.model.get(part) is not None:
            model[part] = _without_init_cfg(copy.deepcopy(cfg.model[part]))
    model['data_preprocessor'] = preprocessor
    _require_plain_types(model, MODELS, 'model', config_name)

    if 'test_dataloader' in cfg:
        pipeline = cfg.test_dataloader.dataset.get('pipeline')
        batch_size = cfg.test_dataloader.get('batch_size', 32)
    else:
        pipeline, batch_size = cfg.get('test_pipeline'), 32
    if not pipeline:
        raise UserError(
            f'{config_name} has no test pipeline (test_dataloader.dataset.pipeline '
            'or test_pipeline), which inference needs'
        )
    pipeline = [dict(step) for step in pipeline]
    _require_plain_types(pipeline, TRANSFORMS, 'test_pipeline', config_name)
    dataset = dict(
        type='CustomDataset',
        data_root=PLACEHOLDER_DATA_ROOT,
        pipeline=pipeline,
    )
    return Config(
        dict(
            default_scope='mmpretrain',
            model=model,
            test_pipeline=pipeline,
            test_dataloader=dict(
                batch_size=batch_size,
                num_workers=2,
                dataset=dataset,
                sampler=dict(type='DefaultSampler', shuffle=False),
            ),
            test_evaluator=dict(type='Accuracy', topk=(1,)),
            test_cfg=dict(),
        )
    )


def plain_checkpoint(plain_cfg: Config, checkpoint: str) -> dict:
    """The plain model's weights from a training checkpoint.

    Args:
        plain_cfg (Config): :func:`plain_classifier_config`'s result.
        checkpoint (str): The training checkpoint.

    Returns:
        dict: ``{'state_dict': {name: tensor}, 'meta': {'dataset_meta':
        {'classes': [...]}}}`` (the meta only with class names), only
        tensors, lists, dicts and strings.

    Raises:
        UserError: If the checkpoint cannot be read or lacks a weight of
            the plain model, or holds one of another shape.
    """
    state_dict, meta = read_checkpoint(checkpoint)
    model = MODELS.build(ConfigDict(copy.deepcopy(plain_cfg.model)))
    kept = {k: v for k, v in state_dict.items() if k.startswith(PREDICTION_MODULES)}
    missing, unexpected = model.load_state_dict(kept, strict=False)
    wanted = model.state_dict()
    missing = [key for key in missing if not key.endswith('num_batches_tracked')]
    if missing or unexpected:
        raise UserError(
            f'Checkpoint {checkpoint} does not fit its config: it lacks '
            f'{missing[:3]} and holds {unexpected[:3]} of the plain model'
        )
    plain = {key: value.detach().clone().contiguous() for key, value in wanted.items()}
    exported = {'state_dict': plain}
    classes = (meta.get('dataset_meta') or {}).get('classes')
    if classes is not None:
        exported['meta'] = {'dataset_meta': {'classes': [str(c) for c in classes]}}
    return exported


def check_loads_without_allowlist(path: str) -> None:
    """Raises unless torch's default safe loading reads the file as it is."""
    torch.load(path, map_location='cpu', weights_only=True)
