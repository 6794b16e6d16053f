"""A clad_mm classifier or retriever as plain MMPretrain: a config and
weights that load without the plugin.

Training leaves a Runner checkpoint (weights, optimizer state, message hub,
CLAD's negative dictionary or ClusterFix's weight buffers) and a config
that names clad_mm types. What a deployment needs is a config that names
only MMPretrain, MMEngine and MMCV types, and a file of the tensors that
``predict()`` uses, which torch's default ``weights_only=True`` loads
without any allowlist.

:func:`plain_config` rewrites

- a classifier (any ``ImageClassifier`` subclass: CLAD, S-CLAD, ClusterFix,
  GroupDRO, the baselines) as ``ImageClassifier`` with the same backbone,
  neck and head. Its test set becomes MMPretrain's ``CustomDataset`` (a
  folder of class sub-folders, ``data_root`` to set), with ``Accuracy``.
- a retriever (any ``ImageToImageRetriever`` subclass: BGAugment's
  ``DMLRetriever``) as ``ImageToImageRetriever`` with the same image
  encoder, in which clad_mm's ``EmbeddingNeck`` (pooling, linear map, L2
  normalisation) becomes MMPretrain's ``LinearNeck`` (pooling, the same
  linear map): the embeddings keep their direction, so the cosine
  similarity that ranks the gallery is unchanged. The training head (the
  DML loss) is dropped. Its gallery (``prototype``) and test set are
  ``CustomDataset`` folders without labels, for MMPretrain's
  ``ImageRetrievalInferencer``; there is no test metric, as MMPretrain 1.2's
  retrieval metrics call ``np.in1d``, which numpy 2.4 removed.

Both drop every ``init_cfg`` (the exported weights replace it), turn the
data preprocessor into ``ClsDataPreprocessor`` with the same mean, std and
channel order, and keep the test pipeline without the steps that only the
evaluation needs (``ApplyToReplacedCopies``); a kept part that names a
clad_mm type is an error naming its key. :func:`plain_checkpoint` keeps the
weights of the plain model and the class names.
"""

import copy

import torch
from mmengine.config import Config, ConfigDict
from mmpretrain.models import ImageClassifier, ImageToImageRetriever
from mmpretrain.registry import MODELS, TRANSFORMS

from clad_mm.utils.errors import UserError

from .classifier_loading import PREDICTION_MODULES, read_checkpoint

#: The data preprocessor's keys that inference depends on.
PREPROCESSOR_KEYS = ('mean', 'std', 'to_rgb', 'num_classes')
#: Where the exported config's test set is looked for until set.
PLACEHOLDER_DATA_ROOT = 'data/test'
#: Where an exported retriever's gallery is looked for until set.
PLACEHOLDER_GALLERY_ROOT = 'data/gallery'
#: The submodules of an ``ImageToImageRetriever`` that ``predict()`` runs.
RETRIEVER_MODULES = ('image_encoder.',)
#: Test-pipeline steps that only the evaluation needs (the BGAugment
#: metric's background-replaced copies), left out of the plain pipeline.
EVALUATION_ONLY_TRANSFORMS = ('ApplyToReplacedCopies',)


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


def _model_kind(cfg: Config) -> str:
    """``'classifier'`` or ``'retriever'``; any other model is refused."""
    model_type = MODELS.get(cfg.model.get('type'))
    if model_type is not None and issubclass(model_type, ImageClassifier):
        return 'classifier'
    if model_type is not None and issubclass(model_type, ImageToImageRetriever):
        return 'retriever'
    raise UserError(
        f'{cfg.filename or "the config"}: model.type={cfg.model.get("type")!r} is '
        'neither an ImageClassifier nor an ImageToImageRetriever; only those can '
        'be exported as plain MMPretrain models'
    )


def _plain_preprocessor(cfg: Config) -> dict:
    source = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    preprocessor = dict(type='ClsDataPreprocessor')
    preprocessor.update({k: source[k] for k in PREPROCESSOR_KEYS if k in source})
    return preprocessor


def _test_pipeline_and_batch_size(cfg: Config) -> tuple[list, int]:
    config_name = cfg.filename or 'the config'
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
    pipeline = [
        dict(step)
        for step in pipeline
        if step.get('type') not in EVALUATION_ONLY_TRANSFORMS
    ]
    _require_plain_types(pipeline, TRANSFORMS, 'test_pipeline', config_name)
    return pipeline, batch_size


def _folder_loader(data_root: str, pipeline: list, batch_size: int, **dataset):
    """A dataloader config of a ``CustomDataset`` folder, in order."""
    return dict(
        batch_size=batch_size,
        num_workers=2,
        dataset=dict(
            type='CustomDataset', data_root=data_root, pipeline=pipeline, **dataset
        ),
        sampler=dict(type='DefaultSampler', shuffle=False),
    )


def _plain_embedding_neck(neck: dict, similarity_fn, config_name: str) -> dict:
    """MMPretrain's ``LinearNeck`` for clad_mm's ``EmbeddingNeck``."""
    if neck.get('normalize', True) and similarity_fn != 'cosine_similarity':
        raise UserError(
            f'{config_name}: model.similarity_fn={similarity_fn!r}; the exported '
            "embeddings are not L2-normalised, so only 'cosine_similarity' ranks "
            'the gallery as the trained model does'
        )
    # The backbone's last output is a feature map: pool its two spatial axes.
    return dict(
        type='LinearNeck',
        in_channels=neck['in_channels'],
        out_channels=neck.get('out_channels', 128),
        gap_dim=2,
        norm_cfg=None,
        act_cfg=None,
    )


def plain_config(cfg: Config) -> Config:
    """The plain MMPretrain config of a clad_mm classifier or retriever config.

    Args:
        cfg (Config): The training config.

    Returns:
        Config: ``default_scope``, ``model``, ``test_pipeline`` and
        ``test_dataloader``; a classifier's also ``test_evaluator`` and
        ``test_cfg``.

    Raises:
        UserError: If the model is neither an ``ImageClassifier`` nor an
            ``ImageToImageRetriever``, or a kept part names a clad_mm type.
    """
    config_name = cfg.filename or 'the config'
    kind = _model_kind(cfg)
    pipeline, batch_size = _test_pipeline_and_batch_size(cfg)
    if kind == 'classifier':
        model = dict(type='ImageClassifier')
        for part in ('backbone', 'neck', 'head'):
            if cfg.model.get(part) is not None:
                model[part] = _without_init_cfg(copy.deepcopy(cfg.model[part]))
    else:
        similarity_fn = cfg.model.get('similarity_fn', 'cosine_similarity')
        encoder = cfg.model.image_encoder
        encoder = encoder if isinstance(encoder, list | tuple) else [encoder]
        model = dict(
            type='ImageToImageRetriever',
            image_encoder=[
                _plain_embedding_neck(part, similarity_fn, config_name)
                if part.get('type') == 'EmbeddingNeck'
                else _without_init_cfg(copy.deepcopy(part))
                for part in encoder
            ],
            similarity_fn=similarity_fn,
            topk=cfg.model.get('topk', -1),
        )
    model['data_preprocessor'] = _plain_preprocessor(cfg)
    _require_plain_types(model, MODELS, 'model', config_name)
    if kind == 'retriever':
        # BaseModel builds a retriever's preprocessor from MMEngine's registry:
        # the scope names MMPretrain's (as ImageToImageRetriever's default).
        model['data_preprocessor']['type'] = 'mmpretrain.ClsDataPreprocessor'
        # A dataloader config of MMPretrain's own types (not MODELS').
        model['prototype'] = _folder_loader(
            PLACEHOLDER_GALLERY_ROOT, pipeline, batch_size, with_label=False
        )

    plain = dict(
        default_scope='mmpretrain',
        model=model,
        test_pipeline=pipeline,
        test_dataloader=_folder_loader(
            PLACEHOLDER_DATA_ROOT,
            pipeline,
            batch_size,
            **({} if kind == 'classifier' else {'with_label': False}),
        ),
    )
    if kind == 'classifier':
        plain.update(test_evaluator=dict(type='Accuracy', topk=(1,)), test_cfg=dict())
    return Config(plain)


def plain_checkpoint(plain_cfg: Config, checkpoint: str) -> dict:
    """The plain model's weights from a training checkpoint.

    Args:
        plain_cfg (Config): :func:`plain_config`'s result.
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
    modules = (
        RETRIEVER_MODULES
        if plain_cfg.model.type == 'ImageToImageRetriever'
        else PREDICTION_MODULES
    )
    kept = {k: v for k, v in state_dict.items() if k.startswith(modules)}
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
