"""Classification data preprocessor that also takes a list of views."""

import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS

from clad_mm.utils.errors import UserError


@MODELS.register_module()
class TwoViewClsDataPreprocessor(ClsDataPreprocessor):
    """:class:`ClsDataPreprocessor` for batches of several views.

    CLAD (BMVC 2022) trains on an anchor and its background-swapped positive.
    With ``default_collate``, a sample packed as ``img=[anchor, positive]``
    arrives as a list of view batches, each ``[B, 3, H, W]``. MMPretrain's
    ``ClsDataPreprocessor`` takes such a list for a list of single images
    and silently skips the BGR→RGB conversion (it checks ``size(0) == 3``)
    and stacks the views into one 5-D tensor. This preprocessor processes
    every view exactly like a plain batch (channel order, normalisation,
    padding), and returns ``inputs`` as a list of view batches; a plain
    batch (validation, testing, inference) is processed as by the parent.

    Args:
        **kwargs: The arguments of :class:`ClsDataPreprocessor` (``mean``,
            ``std``, ``to_rgb``, ``num_classes``, ...). ``batch_augments``
            (Mixup, CutMix) are refused with views, since mixing each view
            with a different partner would break the anchor-positive pairs.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Preprocesses a plain batch or a list of view batches.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from the dataloader.
            training (bool): Whether the batch is a training batch.

        Returns:
            dict: ``inputs`` (a tensor, or a list of tensors for views) and
            ``data_samples``.
        """
        views = data['inputs']
        if not _is_list_of_view_batches(views):
            return super().forward(data, training)
        if self.batch_augments is not None:
            raise UserError(
                'TwoViewClsDataPreprocessor cannot apply batch_augments to '
                'several views; remove batch_augments from data_preprocessor'
            )
        processed = []
        data_samples = data.get('data_samples')
        for view in views:
            result = super().forward(
                {'inputs': view, 'data_samples': data_samples}, training
            )
            processed.append(result['inputs'])
            data_samples = result['data_samples']
        return {'inputs': processed, 'data_samples': data_samples}


def _is_list_of_view_batches(inputs) -> bool:
    return (
        isinstance(inputs, (list, tuple))
        and len(inputs) > 0
        and all(isinstance(view, torch.Tensor) and view.dim() == 4 for view in inputs)
    )
