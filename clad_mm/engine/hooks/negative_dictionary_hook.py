"""Schedule and health logging of CLAD's negative dictionary."""

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class NegativeDictionaryHook(Hook):
    """Owns the schedule of a CLAD model's negative dictionary and logs it.

    CLAD (BMVC 2022) enqueues each batch's positives *before* computing that
    batch's loss; ``enqueue='after_loss'`` enqueues them afterwards, so an
    iteration only sees negatives from earlier iterations. The fill level
    (share of queue slots holding an entry) and staleness (enqueue steps
    since an entry was written) are logged every ``interval`` iterations as
    ``dict_fill_ratio_mean``, ``dict_fill_ratio_min``,
    ``dict_staleness_mean`` and ``dict_staleness_max``. The queues themselves
    are buffers of the model: they are saved in checkpoints and restored on
    ``--resume``, and an initialised dictionary is never initialised again
    (how it starts is the dictionary's ``init_mode``).

    Args:
        enqueue (str): ``'before_loss'`` (paper) or ``'after_loss'``.
            Defaults to ``'before_loss'``.
        interval (int): Log every this many training iterations. Defaults
            to 50.
    """

    priority = 'NORMAL'  # before LoggerHook, which writes what is logged here
    ENQUEUE_ORDERS = ('before_loss', 'after_loss')

    def __init__(self, enqueue: str = 'before_loss', interval: int = 50):
        if enqueue not in self.ENQUEUE_ORDERS:
            raise ValueError(
                f'enqueue must be one of {self.ENQUEUE_ORDERS}, got {enqueue!r}'
            )
        self.enqueue = enqueue
        self.interval = interval

    def before_train(self, runner) -> None:
        model = _clad_model(runner)
        model.enqueue_before_loss = self.enqueue == 'before_loss'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        for name, value in _clad_model(runner).dictionary.stats().items():
            runner.message_hub.update_scalar(f'train/dict_{name}', value)


def _clad_model(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if not hasattr(model, 'dictionary'):
        raise TypeError(
            'NegativeDictionaryHook needs a model with a negative dictionary '
            f'(CLADClassifier); got {type(model).__name__}'
        )
    return model
