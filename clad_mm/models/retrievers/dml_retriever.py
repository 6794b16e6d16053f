"""An MMPretrain image-to-image retriever trained by deep metric learning."""

import torch
from mmpretrain.models.retrievers import ImageToImageRetriever
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.nn.modules.batchnorm import _BatchNorm

# ImageToImageRetriever requires a prototype at construction; an empty one
# stands in until a gallery is set (ImageRetrievalInferencer sets one).
_NO_PROTOTYPE = torch.empty(0, 0)


@MODELS.register_module()
class DMLRetriever(ImageToImageRetriever):
    """``ImageToImageRetriever`` with frozen BatchNorm and the DML test protocol.

    The embedding model of Kobs & Hotho, `On Background Bias in Deep Metric
    Learning <https://arxiv.org/abs/2210.01615>`_ (ICMV 2022): an
    ``image_encoder`` (any MMPretrain backbone, then
    :class:`~clad_mm.models.necks.EmbeddingNeck`) trained by a
    :class:`~clad_mm.models.heads.MetricLearningHead`.

    Two ways to predict:

    - ``prototype=None`` (the configs' default, for ``tools/test.py``):
      each data sample gets its ``embedding`` (a ``(D,)`` tensor), and
      :class:`~clad_mm.evaluation.metrics.DMLRetrievalMetric` evaluates the
      test set as both queries and gallery, each query's own image excluded.
    - a prototype (a gallery: dataloader, dataloader config, tensor or saved
      file, as ``ImageToImageRetriever``), e.g. set by MMPretrain's
      ``ImageRetrievalInferencer``: MMPretrain's own matching, ``pred_score``
      and ``pred_label`` over the gallery.

    ``frozen_bn=True`` keeps every BatchNorm of the encoder in eval mode
    during training (running statistics fixed; its affine parameters still
    train), as the paper's recipe and pytorch-metric-learning's benchmarks
    do: M-per-class batches are far from the pretraining data's statistics.

    Config keys (``type='DMLRetriever'``): ``image_encoder``, ``head``,
    ``prototype``, ``frozen_bn``, ``similarity_fn``, ``topk``,
    ``data_preprocessor``, ``init_cfg``.

    Args:
        image_encoder (dict | list[dict]): Backbone and neck; a list is
            built as a sequence.
        head (dict, optional): The training head. Defaults to None.
        prototype (optional): The gallery, or None for the DML protocol.
            Defaults to None.
        frozen_bn (bool): Whether to keep the encoder's BatchNorm layers in
            eval mode while training. Defaults to True.
        **kwargs: The other arguments of ``ImageToImageRetriever``.
    """

    def __init__(
        self,
        image_encoder,
        head: dict | None = None,
        prototype=None,
        frozen_bn: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(
            image_encoder,
            prototype=_NO_PROTOTYPE if prototype is None else prototype,
            head=head,
            **kwargs,
        )
        self.prototype = prototype
        self.frozen_bn = frozen_bn

    def train(self, mode: bool = True):
        """Sets training mode, keeping BatchNorm in eval mode if ``frozen_bn``."""
        super().train(mode)
        if mode and self.frozen_bn:
            for module in self.image_encoder.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The ``(N, D)`` embeddings of a batch of images."""
        feats = self.image_encoder(inputs)
        return feats[-1] if isinstance(feats, (tuple, list)) else feats

    def predict(self, inputs: torch.Tensor, data_samples=None, **kwargs):
        """Embeddings (``prototype=None``) or MMPretrain's gallery matching.

        Args:
            inputs (Tensor): A batch of images.
            data_samples (list[DataSample], optional): The batch's samples.

        Returns:
            list[DataSample]: The samples with ``embedding``, or with
            ``pred_score``/``pred_label`` over the gallery.
        """
        if self.prototype is not None:
            return super().predict(inputs, data_samples, **kwargs)
        embeddings = self.extract_feat(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(embeddings))]
        for sample, embedding in zip(data_samples, embeddings, strict=True):
            sample.set_field(embedding, 'embedding')
        return data_samples
