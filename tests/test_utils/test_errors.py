import pytest
import torch

from clad_mm.utils.errors import (
    MissingFileError,
    OutputExistsError,
    UserError,
    user_message,
)


class _FailingDataset(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        raise MissingFileError(f'data/train/cat/{index}.png: no such image file')


def test_subclasses_are_the_builtin_exceptions_callers_catch():
    assert isinstance(MissingFileError('x'), FileNotFoundError)
    assert isinstance(OutputExistsError('x'), FileExistsError)
    assert isinstance(UserError('x'), ValueError)


def test_message_of_a_dataloader_worker_error_is_the_raised_sentence():
    loader = torch.utils.data.DataLoader(_FailingDataset(), num_workers=1)
    with pytest.raises(MissingFileError) as caught:
        next(iter(loader))
    assert 'Traceback' in str(caught.value)
    assert user_message(caught.value) == 'data/train/cat/0.png: no such image file'
