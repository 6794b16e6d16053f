"""Health logging of CLAD's negative dictionary, and a check of its enqueue order."""

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from clad_mm.utils.errors import UserError


@HOOKS.register_module()
class NegativeDictionaryHook(Hook):
    """Logs the health of a CLAD model's negative dictionary.

    `CLAD <https://arxiv.org/abs/2210.02748>`_ (Wang et al., BMVC 2022)
    enqueues each batch's positives *before* computing that batch's loss.
    The order is the model's setting, ``model.enqueue_before_loss``
    (``CLADClassifier``, default True, the paper's); this hook never changes
    it. It logs the order at the start of training and, if given
    ``enqueue``, checks that the model's order is that one: a config whose
    hook and model disagree is an error, not a silent choice of one.

    The fill level (share of queue slots holding an entry) and staleness
    (enqueue steps since an entry was written) are logged every ``interval``
    iterations as ``dict_fill_ratio_mean``, ``dict_fill_ratio_min``,
    ``dict_staleness_mean`` and ``dict_staleness_max``. The queues themselves
    are buffers of the model: they are saved in checkpoints and restored on
    ``--resume``, and an initialised dictionary is never initialised again
    (how it starts is the dictionary's ``init_mode``).

    Args:
        enqueue (str, optional): The order the model must have:
            ``'before_loss'`` (``model.enqueue_before_loss=True``) or
            ``'after_loss'`` (False). None (default) accepts the model's.
        interval (int): Log every this many training iterations. Defaults
            to 50.
    """

    priority = 'NORMAL'  # before LoggerHook, which writes what is logged here
    ENQUEUE_ORDERS = ('before_loss', 'after_loss')

    def __init__(self, enqueue: str | None = None, interval: int = 50):
        if enqueue is not None and enqueue not in self.ENQUEUE_ORDERS:
            raise UserError(
                f'enqueue must be one of {self.ENQUEUE_ORDERS} or None, got {enqueue!r}'
            )
        self.enqueue = enqueue
        self.interval = interval

    def before_train(self, runner) -> None:
        before_loss = bool(_clad_model(runner).enqueue_before_loss)
        order = 'before_loss' if before_loss else 'after_loss'
        if self.enqueue is not None and self.enqueue != order:
            raise UserError(
                f'NegativeDictionaryHook.enqueue={self.enqueue!r} contradicts '
                f'model.enqueue_before_loss={before_loss} ({order!r}): the '
                'model sets the order; drop enqueue from the hook or set '
                'model.enqueue_before_loss to match'
            )
        print_log(
            f'Negative dictionary: positives are enqueued {order.replace("_", " ")} '
            f'(model.enqueue_before_loss={before_loss})',
            logger='current',
        )

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        for name, value in _clad_model(runner).dictionary.stats().items():
            runner.message_hub.update_scalar(f'train/dict_{name}', value)


def _clad_model(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if not hasattr(model, 'dictionary'):
        raise UserError(
            'NegativeDictionaryHook needs a model with a negative dictionary '
            f'(CLADClassifier); got {type(model).__name__}'
        )
    return model
