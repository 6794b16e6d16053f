"""Per-sample integer fields of a training batch's data samples."""

from collections.abc import Sequence

import torch

from clad_mm.utils.errors import UserError


def sample_field(
    data_samples: Sequence, name: str, device, model: str, remedy: str
) -> torch.Tensor:
    """One integer field of every data sample, as a (B,) long tensor.

    Args:
        data_samples (Sequence[DataSample]): The batch's samples.
        name (str): The field (``'sample_idx'``, ``'pseudo_label'``, ...).
        device: The tensor's device.
        model (str): The model that needs it, for the message.
        remedy (str): How to add the field, for the message.

    Returns:
        Tensor: The values, in batch order.

    Raises:
        UserError: If a sample lacks the field, naming the model and remedy.
    """
    values = []
    for sample in data_samples:
        if name not in sample:
            raise UserError(f"{model} needs each training sample's {name!r}; {remedy}")
        values.append(int(sample.get(name)))
    return torch.tensor(values, dtype=torch.long, device=device)
