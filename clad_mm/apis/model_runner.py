"""Runs a trained classifier on images: pooled features and predicted labels.

The analysis tools (ORIGINAL vs MIXED-RAND consistency, FiveCrop positional
shift) need more than MMPretrain's inferencers give in one pass: the feature
that feeds the classifier (the head's ``pre_logits``) *and* the predicted
class of every image. :class:`ClassifierRunner` loads the model with
:func:`~clad_mm.apis.load_classifier`, prepares images with the config's test
pipeline (:class:`~clad_mm.apis.InferencePipeline`, so they get exactly the
pixels ``tools/test.py`` would give them) and runs backbone, neck and head
once per batch.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.utils import ProgressBar

from .classifier_loading import load_classifier
from .inference_pipeline import InferencePipeline


@dataclass
class ClassifierOutputs:
    """What :class:`ClassifierRunner` returns for N images.

    Attributes:
        features (np.ndarray): N x D float32 ``pre_logits`` features, the
            globally pooled vector the classifier reads.
        pred_labels (np.ndarray): N int64 predicted classes (argmax of the
            head's scores).
    """

    features: np.ndarray
    pred_labels: np.ndarray


class ClassifierRunner:
    """An MMPretrain classifier from a config and a checkpoint, run on images.

    A checkpoint that does not fit the config's model (another number of
    classes, another backbone) is an error naming both, see
    :func:`~clad_mm.apis.require_checkpoint_fits`.

    Args:
        config (str | Config): An MMPretrain classification config (path or
            object) with a ``test_dataloader``.
        checkpoint (str): Path or URL of the weights.
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...;
            CUDA when available by default.

    Raises:
        ValueError: If the checkpoint's weights do not fit the model.
    """

    def __init__(self, config, checkpoint: str, device: str | None = None):
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if not isinstance(config, Config):
            config = Config.fromfile(config)
        self.model = load_classifier(config, checkpoint, device)
        self.pipeline = InferencePipeline(config)
        self.device = device

    @torch.no_grad()
    def __call__(
        self,
        images: Sequence,
        batch_size: int = 32,
        progress: ProgressBar | None = None,
    ) -> ClassifierOutputs:
        """Features and predictions of images, in input order.

        Args:
            images (Sequence[str | np.ndarray]): Image paths, or H x W x 3
                uint8 arrays in BGR order (as ``mmcv.imread`` gives them).
            batch_size (int): Images per forward pass.
            progress (ProgressBar, optional): Advanced by one per image.

        Returns:
            ClassifierOutputs: Features and predicted labels.
        """
        images = list(images)
        features, pred_labels = [], []
        for start in range(0, len(images), batch_size):
            batch = default_collate(
                [self.pipeline(image) for image in images[start : start + batch_size]]
            )
            inputs = self.model.data_preprocessor(batch, False)['inputs']
            neck_features = self.model.extract_feat(inputs)
            features.append(self.model.head.pre_logits(neck_features).float().cpu())
            scores = self.model.head(neck_features)
            pred_labels.append(scores.argmax(dim=1).cpu())
            if progress is not None:
                progress.update(len(inputs))
        if not features:
            raise ValueError('no image was given to the classifier')
        return ClassifierOutputs(
            features=torch.cat(features).numpy(),
            pred_labels=torch.cat(pred_labels).numpy().astype(np.int64),
        )
