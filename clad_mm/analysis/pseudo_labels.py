"""ClusterFix's pseudo-labels: per-class cosine k-means of a model's features.

ClusterFix (Capitani et al., `ClusterFix: A Cluster-Based Debiasing
Approach Without Protected-Group Supervision
<https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_,
WACV 2024; after BPA, Seo et al., CVPR 2022) replaces the protected groups
it has no labels for by clusters of a pretrained network's features:

1. **Features** (:func:`read_splits`, :func:`extract_split_features`).
   Every image of the train, val and test splits of a data config goes
   through the *feature* config's test pipeline (no augmentation, the
   train split included) and its ``ImageClassifier``'s backbone and neck:
   ``model.extract_feat(inputs, stage='neck')`` (the last stage's vector of
   a tuple), L2-normalised. Only backbone and neck are loaded, from a
   checkpoint, or without one from the ``Pretrained`` ``init_cfg`` of the
   config's backbone (e.g. ImageNet EfficientNet-Lite0); both must hold
   every weight of them with its shape
   (:func:`~clad_mm.apis.require_checkpoint_fits`).
2. **Clusters** (:func:`cluster_per_class`). Within each target class
   separately, scikit-learn's ``KMeans`` (Lloyd, k-means++ seeding,
   ``n_init=10`` restarts, ``random_state=seed``, on float64) clusters the
   class's L2-normalised train features into ``k`` clusters (default 8).
   On the unit sphere ``|x - c|^2 = 2 - 2 cos(x, c)`` for unit centres, so
   this is cosine k-means up to its centre update (a mean, not
   re-normalised). The centres are then L2-normalised, and *every* sample,
   the train ones included, is assigned to the centre of its own class with
   the largest cosine similarity (:func:`assign_to_centres`): one rule for
   all splits. (It may differ from
   ``KMeans.labels_``, its Euclidean assignment to the un-normalised means,
   for a point between two clusters, and may leave a cluster empty; its
   size is then 0.)
3. **Ids.** The global cluster id of a sample of class ``c`` in its class's
   cluster ``j`` is ``j + k * c``. Val and test samples join the nearest
   train centre of their own class, never another class's; the clusters
   stay fixed for the run.

A class with fewer than ``k`` training images is an error naming the class
and its count (no reduced ``k``: every class keeps ``k`` ids, so the id
layout holds). With group labels, :func:`cluster_group_makeup`,
:func:`majority_group_shares` and :func:`within_class_mutual_information`
say how well the clusters recover the groups; :func:`shuffle_within_class`
makes the control that keeps the clusters' sizes and drops their meaning.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.utils import ProgressBar
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import DATASETS
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_mutual_info_score

from clad_mm.apis.classifier_loading import read_checkpoint, require_checkpoint_fits
from clad_mm.apis.inference_pipeline import InferencePipeline
from clad_mm.datasets.sample_diagnosis import prepare_or_name_bad_file
from clad_mm.utils.errors import UserError

#: ClusterFix's number of clusters per class.
DEFAULT_CLUSTERS_PER_CLASS = 8
#: k-means restarts per class (the best inertia is kept).
KMEANS_RESTARTS = 10
#: The splits of a data config, by their ``<split>_dataloader``.
SPLITS = ('train', 'val', 'test')
#: The submodules of an ``ImageClassifier`` that give the pooled feature.
FEATURE_MODULES = ('backbone', 'neck')


def l2_normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero).

    Args:
        features (np.ndarray): N x D features.

    Returns:
        np.ndarray: The normalised features, of the input's float dtype.
    """
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, np.finfo(features.dtype).tiny)


def cluster_per_class(
    features: np.ndarray,
    labels: np.ndarray,
    clusters_per_class: int = DEFAULT_CLUSTERS_PER_CLASS,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine k-means within each class, as in the module's notes.

    Args:
        features (np.ndarray): N x D train features (normalised here).
        labels (np.ndarray): N target classes, ``0..C-1``.
        clusters_per_class (int): ``k``. Defaults to 8.
        seed (int): ``random_state`` of every class's ``KMeans``.
            Defaults to 0.
        class_names (Sequence[str], optional): The C class names; ``C`` is
            ``labels.max() + 1`` without them.

    Returns:
        tuple: The N int64 global cluster ids (``j + k * class``) and the
        ``(C * k) x D`` float64 unit centres, row ``g`` the centre of global
        cluster ``g``.

    Raises:
        UserError: If ``k < 1``, or naming the first class with fewer than
            ``k`` images and its count.
        ValueError: If features and labels differ in length or a label is
            outside ``0..C-1``.
    """
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = len(class_names) if class_names is not None else labels.max() + 1
    _check_labels(features, labels, num_classes)
    if clusters_per_class < 1:
        raise UserError(
            f'clusters_per_class must be at least 1, got {clusters_per_class}'
        )
    unit_features = l2_normalise(np.asarray(features, dtype=np.float64))
    centres = np.zeros((num_classes * clusters_per_class, features.shape[1]))
    for label in range(num_classes):
        members = unit_features[labels == label]
        if len(members) < clusters_per_class:
            name = f' ({class_names[label]})' if class_names is not None else ''
            raise UserError(
                f'class {label}{name} has {len(members)} training images, fewer '
                f'than the {clusters_per_class} clusters per class asked for; '
                'choose fewer clusters per class'
            )
        kmeans = KMeans(
            n_clusters=clusters_per_class, n_init=KMEANS_RESTARTS, random_state=seed
        ).fit(members)
        first = label * clusters_per_class
        centres[first : first + clusters_per_class] = l2_normalise(
            kmeans.cluster_centers_
        )
    return assign_to_centres(
        unit_features, labels, centres, clusters_per_class
    ), centres


def assign_to_centres(
    features: np.ndarray,
    labels: np.ndarray,
    centres: np.ndarray,
    clusters_per_class: int,
) -> np.ndarray:
    """The global id of each sample's most cosine-similar centre of its class.

    Args:
        features (np.ndarray): N x D features (any norm).
        labels (np.ndarray): N target classes.
        centres (np.ndarray): ``(C * k) x D`` centres by global id, as
            :func:`cluster_per_class` returns them (normalised here).
        clusters_per_class (int): ``k``.

    Returns:
        np.ndarray: N int64 global ids, ``j + k * label`` with ``j`` in
        ``0..k-1``: never a cluster of another class.

    Raises:
        ValueError: If the shapes disagree or a label has no centres.
    """
    labels = np.asarray(labels, dtype=np.int64)
    num_classes, remainder = divmod(len(centres), clusters_per_class)
    if remainder:
        raise ValueError(
            f'{len(centres)} centres are not {clusters_per_class} per class'
        )
    _check_labels(features, labels, num_classes)
    if features.shape[1] != centres.shape[1]:
        raise ValueError(
            f'features have {features.shape[1]} dimensions but the centres '
            f'{centres.shape[1]}'
        )
    similarities = (
        np.asarray(features, dtype=np.float64)
        @ l2_normalise(np.asarray(centres, dtype=np.float64)).T
    )
    own_class = similarities.reshape(len(features), num_classes, clusters_per_class)[
        np.arange(len(features)), labels
    ]
    return labels * clusters_per_class + own_class.argmax(axis=1)


def shuffle_within_class(
    global_ids: np.ndarray, labels: np.ndarray, seed: int
) -> np.ndarray:
    """The ids permuted among the samples of each class: a control.

    Every cluster keeps its size and its class, but its members are drawn at
    random from the class, so the clusters say nothing about the images. A
    ClusterFix run on these ids has ClusterFix's heads, loss and size terms
    ``N / n_c`` and no information from the features.

    Args:
        global_ids (np.ndarray): N global cluster ids.
        labels (np.ndarray): N target classes.
        seed (int): Seed of the permutations.

    Returns:
        np.ndarray: N int64 ids, a permutation of ``global_ids`` within each
        class.
    """
    shuffled = np.asarray(global_ids, dtype=np.int64).copy()
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        shuffled[members] = shuffled[rng.permutation(members)]
    return shuffled


def _check_labels(features: np.ndarray, labels: np.ndarray, num_classes: int) -> None:
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(
            f'expected N x D features and N labels, got {features.shape} and '
            f'{labels.shape}'
        )
    outside = labels[(labels < 0) | (labels >= num_classes)]
    if outside.size:
        raise ValueError(
            f'label {outside[0]} is outside the {num_classes} classes 0..'
            f'{num_classes - 1}'
        )


def cluster_group_makeup(
    global_ids: np.ndarray, groups: np.ndarray, num_clusters: int, num_groups: int
) -> np.ndarray:
    """How many samples of each group each cluster holds.

    Args:
        global_ids (np.ndarray): N cluster ids, ``0..num_clusters-1``.
        groups (np.ndarray): N group labels, ``0..num_groups-1``.
        num_clusters (int): All clusters, ``k * C``.
        num_groups (int): All groups.

    Returns:
        np.ndarray: ``num_clusters x num_groups`` int64 counts.
    """
    cells = np.asarray(global_ids, np.int64) * num_groups + np.asarray(groups)
    return np.bincount(cells, minlength=num_clusters * num_groups).reshape(
        num_clusters, num_groups
    )


def majority_group_shares(makeup: np.ndarray) -> np.ndarray:
    """Per cluster, the share of its samples in its largest group.

    Args:
        makeup (np.ndarray): Clusters x groups counts, as
            :func:`cluster_group_makeup` returns them.

    Returns:
        np.ndarray: Float shares in ``(0, 1]``; NaN for an empty cluster.
    """
    sizes = makeup.sum(axis=1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(sizes > 0, makeup.max(axis=1) / sizes, np.nan)


def within_class_mutual_information(
    global_ids: np.ndarray, groups: np.ndarray, labels: np.ndarray, num_classes: int
) -> list[float]:
    """Adjusted mutual information of clusters and groups within each class.

    scikit-learn's ``adjusted_mutual_info_score(groups, clusters)`` over the
    samples of one class: 1 when the clusters are exactly the groups, about
    0 when they are independent of them. With ``k`` above the class's
    number of groups it stays below 1 even for pure clusters (a group split
    over several clusters); :func:`majority_group_shares` measures purity.
    A class of one group only scores 0 (1 if all its samples share one
    cluster too).

    Args:
        global_ids (np.ndarray): N cluster ids.
        groups (np.ndarray): N group labels.
        labels (np.ndarray): N target classes.
        num_classes (int): C.

    Returns:
        list[float]: Per class its score; NaN for a class without samples.
    """
    labels = np.asarray(labels)
    scores = []
    for label in range(num_classes):
        members = labels == label
        scores.append(
            float(
                adjusted_mutual_info_score(
                    np.asarray(groups)[members], np.asarray(global_ids)[members]
                )
            )
            if members.any()
            else float('nan')
        )
    return scores


def cluster_summary(
    global_ids: np.ndarray,
    labels: np.ndarray,
    clusters_per_class: int,
    class_names: Sequence[str],
    groups: np.ndarray | None = None,
    group_names: Sequence[str] | None = None,
) -> list[dict]:
    """The clusters of one split, class by class, ready for JSON.

    Args:
        global_ids (np.ndarray): N cluster ids.
        labels (np.ndarray): N target classes.
        clusters_per_class (int): ``k``.
        class_names (Sequence[str]): The C class names.
        groups (np.ndarray, optional): N group labels.
        group_names (Sequence[str], optional): The group names (needed with
            ``groups``).

    Returns:
        list[dict]: Per class ``class`` (its label), ``name``, ``images`` and
        ``clusters``: per cluster ``cluster`` (global id) and ``size``; with
        groups also ``group_counts`` (group name to count, every group),
        ``majority_group`` and ``majority_share`` (None for an empty
        cluster), and per class ``adjusted_mutual_information`` (None for
        a class without samples).
    """
    num_clusters = clusters_per_class * len(class_names)
    sizes = np.bincount(global_ids, minlength=num_clusters)
    if groups is not None:
        makeup = cluster_group_makeup(
            global_ids, groups, num_clusters, len(group_names)
        )
        shares = majority_group_shares(makeup)
        information = within_class_mutual_information(
            global_ids, groups, labels, len(class_names)
        )
    summary = []
    for label, name in enumerate(class_names):
        clusters = []
        for cluster in range(
            label * clusters_per_class, (label + 1) * clusters_per_class
        ):
            entry = dict(cluster=cluster, size=int(sizes[cluster]))
            if groups is not None:
                empty = sizes[cluster] == 0
                entry.update(
                    group_counts=dict(zip(group_names, makeup[cluster].tolist())),
                    majority_group=None
                    if empty
                    else group_names[int(makeup[cluster].argmax())],
                    majority_share=None if empty else float(shares[cluster]),
                )
            clusters.append(entry)
        entry = {
            'class': label,
            'name': name,
            'images': int(np.sum(np.asarray(labels) == label)),
            'clusters': clusters,
        }
        if groups is not None:
            score = information[label]
            entry['adjusted_mutual_information'] = None if np.isnan(score) else score
        summary.append(entry)
    return summary


@dataclass
class SplitSamples:
    """The images of one split of a data config, with their labels.

    Attributes:
        img_paths (list[str]): The data infos' ``img_path``, in order.
        labels (np.ndarray): Their int64 ``gt_label``.
        groups (np.ndarray | None): Their int64 ``group``, if every data
            info has one.
        class_names (tuple[str, ...] | None): ``metainfo['classes']``.
        group_names (tuple[str, ...] | None): ``metainfo['group_names']``.
    """

    img_paths: list[str]
    labels: np.ndarray
    groups: np.ndarray | None
    class_names: tuple[str, ...] | None
    group_names: tuple[str, ...] | None


def read_split(data_config: Config, split: str) -> SplitSamples | None:
    """Lists the images of ``<split>_dataloader.dataset``, without a pipeline.

    Args:
        data_config (Config): A training config (e.g. on Waterbirds).
        split (str): ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        SplitSamples | None: The split's images; None if the config has no
        such dataloader.

    Raises:
        UserError: If the split is empty, a sample has no single integer
            ``gt_label``, or an image is listed twice (a repeating dataset
            wrapper: its images would have no single pseudo-label key).
    """
    dataloader = data_config.get(f'{split}_dataloader')
    if not dataloader or not dataloader.get('dataset'):
        return None
    dataset_cfg = dataloader.dataset.copy()
    dataset_cfg.update(pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    where = f'{split}_dataloader.dataset of config {data_config.filename}'
    infos = [dataset.get_data_info(index) for index in range(len(dataset))]
    if not infos:
        raise UserError(f'{where} is empty')
    img_paths = [info['img_path'] for info in infos]
    if len(set(img_paths)) != len(img_paths):
        repeated = next(path for path in img_paths if img_paths.count(path) > 1)
        raise UserError(
            f'{where} lists {repeated} more than once; cluster the dataset '
            'without a repeating wrapper'
        )
    try:
        labels = np.array([int(info['gt_label']) for info in infos], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(
            f'{where} must give every sample one integer gt_label ({error!r})'
        ) from error
    has_groups = all('group' in info for info in infos)
    metainfo = dataset.metainfo
    return SplitSamples(
        img_paths=img_paths,
        labels=labels,
        groups=np.array([int(info['group']) for info in infos], dtype=np.int64)
        if has_groups
        else None,
        class_names=tuple(metainfo['classes']) if metainfo.get('classes') else None,
        group_names=tuple(metainfo['group_names'])
        if metainfo.get('group_names')
        else None,
    )


def load_feature_model(
    config: Config, checkpoint: str | None = None, device: str = 'cpu'
) -> tuple[ImageClassifier, str]:
    """Builds a config's classifier with checked backbone and neck weights.

    Args:
        config (Config): An ``ImageClassifier`` config.
        checkpoint (str, optional): Path or URL of its weights (read
            safely); when None, the ``checkpoint`` of the ``Pretrained``
            ``init_cfg`` of ``model.backbone``, keys taken as its ``prefix``
            says (as MMEngine's ``PretrainedInit`` does).
        device (str): Device to put the model on. Defaults to ``'cpu'``.

    Returns:
        tuple: The model in eval mode and the checkpoint it was loaded from.

    Raises:
        UserError: If the model is no ``ImageClassifier``, there is neither
            a checkpoint nor a ``Pretrained`` backbone init, or the weights
            do not hold the backbone and neck with their shapes.
    """
    # Lazy: importing mmpretrain.apis registers every inferencer.
    from mmpretrain.apis import get_model

    model = get_model(config)
    if not isinstance(model, ImageClassifier):
        raise UserError(
            f'config {config.filename} builds a {type(model).__name__}, not the '
            "ImageClassifier whose neck's pooled features are clustered"
        )
    if checkpoint is None:
        checkpoint, prefix = _pretrained_backbone(config)
        state_dict, _ = read_checkpoint(checkpoint)
        state_dict = {
            'backbone.' + key[len(prefix) :]: value
            for key, value in state_dict.items()
            if key.startswith(prefix)
        }
    else:
        state_dict, _ = read_checkpoint(checkpoint)
    feature_part = torch.nn.ModuleDict(
        {
            name: getattr(model, name)
            for name in FEATURE_MODULES
            if getattr(model, name, None) is not None
        }
    )
    require_checkpoint_fits(feature_part, state_dict, checkpoint, config)
    model.load_state_dict(
        {
            key: value
            for key, value in state_dict.items()
            if key.split('.', 1)[0] in feature_part
        },
        strict=False,
    )
    return model.to(device).eval(), checkpoint


def _pretrained_backbone(config: Config) -> tuple[str, str]:
    """The backbone's ``Pretrained`` checkpoint and its key prefix."""
    init_cfg = config.model.get('backbone', {}).get('init_cfg') or []
    for init in [init_cfg] if isinstance(init_cfg, dict) else init_cfg:
        if init.get('type') == 'Pretrained' and init.get('checkpoint'):
            # PretrainedInit's rule: a prefix means '<prefix>.'.
            prefix = init.get('prefix') or ''
            if prefix and not prefix.endswith('.'):
                prefix += '.'
            return init.checkpoint, prefix
    raise UserError(
        f'config {config.filename}: model.backbone has no init_cfg of type '
        'Pretrained to take the weights from; give a CHECKPOINT'
    )


@torch.no_grad()
def extract_features(
    model: ImageClassifier,
    pipeline: InferencePipeline,
    img_paths: Sequence[str],
    batch_size: int = 64,
    progress: ProgressBar | None = None,
) -> np.ndarray:
    """L2-normalised pooled features of image files, in order.

    Args:
        model (ImageClassifier): The feature model, e.g. from
            :func:`load_feature_model`.
        pipeline (InferencePipeline): The feature config's test pipeline.
        img_paths (Sequence[str]): The images.
        batch_size (int): Images per forward pass. Defaults to 64.
        progress (ProgressBar, optional): Advanced by one per image.

    Returns:
        np.ndarray: N x D float32 unit rows of
        ``model.extract_feat(inputs, stage='neck')`` (its last element when
        it is a tuple).

    Raises:
        UserError: Naming an image that cannot be read, or if the neck's
            output is no batch of vectors (a config without pooling neck).
        ValueError: If no image is given.
    """
    if not img_paths:
        raise ValueError('no image was given to extract features from')
    batches = []
    for start in range(0, len(img_paths), batch_size):
        stop = min(start + batch_size, len(img_paths))
        batch = default_collate(
            [
                prepare_or_name_bad_file(
                    lambda index: pipeline(img_paths[index]),
                    lambda index: dict(img_path=img_paths[index], sample_idx=index),
                    index,
                )
                for index in range(start, stop)
            ]
        )
        inputs = model.data_preprocessor(batch, False)['inputs']
        features = model.extract_feat(inputs, stage='neck')
        if isinstance(features, (tuple, list)):
            features = features[-1]
        if features.dim() != 2:
            raise UserError(
                f"the model's neck gives features of shape {tuple(features.shape)}"
                ', not one vector per image; configure a pooling neck (e.g. '
                'GlobalAveragePooling)'
            )
        batches.append(features.float().cpu())
        if progress is not None:
            progress.update(stop - start)
    return l2_normalise(torch.cat(batches).numpy())


@dataclass
class ExtractedFeatures:
    """What :func:`extract_split_features` returns.

    Attributes:
        samples (dict[str, SplitSamples]): The splits the data config has,
            ``'train'`` first.
        features (dict[str, np.ndarray]): Their N x D unit features.
        checkpoint (str): The checkpoint the features' weights came from.
    """

    samples: dict[str, SplitSamples]
    features: dict[str, np.ndarray]
    checkpoint: str


def read_splits(
    data_config: Config, splits: Sequence[str] = SPLITS
) -> dict[str, SplitSamples]:
    """The images of the splits a data config has, of those asked for.

    Args:
        data_config (Config): The config whose ``train_dataloader`` (needed)
            and ``val_dataloader`` / ``test_dataloader`` (optional) datasets
            list the images.
        splits (Sequence[str]): The splits to read, ``'train'`` among them.
            Defaults to all three.

    Returns:
        dict[str, SplitSamples]: Per split present, ``'train'`` first.

    Raises:
        UserError: If the config has no train dataloader, or see
            :func:`read_split`.
    """
    samples = {}
    for split in (name for name in SPLITS if name in splits):
        split_samples = read_split(data_config, split)
        if split_samples is not None:
            samples[split] = split_samples
    if 'train' not in samples:
        raise UserError(
            f'config {data_config.filename} has no train_dataloader.dataset, '
            'whose images are clustered'
        )
    return samples


def extract_split_features(
    feature_config: Config,
    samples: dict[str, SplitSamples],
    checkpoint: str | None = None,
    batch_size: int = 64,
    device: str = 'cpu',
    show_progress: bool = True,
) -> ExtractedFeatures:
    """Features of every image of a data config's splits.

    Args:
        feature_config (Config): The ``ImageClassifier`` config whose model
            and test pipeline give the features.
        samples (dict[str, SplitSamples]): The splits, from
            :func:`read_splits`.
        checkpoint (str, optional): See :func:`load_feature_model`.
        batch_size (int): Images per forward pass. Defaults to 64.
        device (str): Device of the model. Defaults to ``'cpu'``.
        show_progress (bool): Print a progress bar with elapsed time and
            ETA over all images. Defaults to True.

    Returns:
        ExtractedFeatures: The samples and features of each split.

    Raises:
        UserError: See :func:`load_feature_model` and
            :func:`extract_features`.
    """
    model, checkpoint = load_feature_model(feature_config, checkpoint, device)
    pipeline = InferencePipeline(feature_config)
    total = sum(len(split.img_paths) for split in samples.values())
    progress = ProgressBar(total) if show_progress else None
    features = {
        split: extract_features(
            model, pipeline, split_samples.img_paths, batch_size, progress
        )
        for split, split_samples in samples.items()
    }
    if progress is not None:
        print()
    return ExtractedFeatures(samples, features, checkpoint)


def assign_splits(
    extracted: ExtractedFeatures,
    clusters_per_class: int = DEFAULT_CLUSTERS_PER_CLASS,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Clusters the train split per class and assigns every split to it.

    Args:
        extracted (ExtractedFeatures): From :func:`extract_split_features`.
        clusters_per_class (int): ``k``. Defaults to 8.
        seed (int): See :func:`cluster_per_class`. Defaults to 0.
        class_names (Sequence[str], optional): See :func:`cluster_per_class`.

    Returns:
        tuple: Per split its global cluster ids, and the centres.

    Raises:
        UserError: See :func:`cluster_per_class`; or naming the split with
            a label outside the train split's classes.
    """
    train = extracted.samples['train']
    train_ids, centres = cluster_per_class(
        extracted.features['train'],
        train.labels,
        clusters_per_class,
        seed,
        class_names,
    )
    ids = {'train': train_ids}
    for split, samples in extracted.samples.items():
        if split == 'train':
            continue
        try:
            ids[split] = assign_to_centres(
                extracted.features[split], samples.labels, centres, clusters_per_class
            )
        except ValueError as error:
            raise UserError(f'the {split} split: {error}') from error
    return ids, centres
