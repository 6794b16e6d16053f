"""Measures what CLAD and CLAD+ cost per training step over the baseline.

Builds, from one CLAD or S-CLAD config, three models with the same backbone,
neck and head: the baseline (the config's model as a plain
``ImageClassifier``, without the keys that only ``CLADClassifier`` takes),
CLAD and CLAD+ (``with_pos_loss`` off and on).
Each one's optimiser comes from the config's ``optim_wrapper``. A step is
``model.train_step``, as the Runner calls it: data preprocessing, forward,
loss, backward and optimiser step, on random images of ``--image-size``
pixels; the baseline sees ``--batch-size`` images, CLAD and CLAD+ as many
anchors plus as many positives, whose dictionary keys go into the data
samples' field named by the config's ``dictionary_key``. Their forward and
backward work is thus twice the baseline's, but the optimiser step is not, so
the ratio nears 2 only where the network's work dominates the step (large
images and batches) and stays below it elsewhere. With a stylizing data
preprocessor (S-CLAD on real images) the CLAD batches hold a third view, the
style images, so that their steps include AdaIN.

The timed steps alternate between the models in rounds (one step of each
model per round, the order rotated every round), so that load drift on a
shared machine affects them alike. Each round also runs one CLAD step in
which the calls that make up the contrastive part, the dictionary's
``initialize``, ``enqueue`` and ``negatives`` and ``contrastive_head.loss``,
are timed; their share of that step is reported. On CUDA those timings
synchronise the device around each call, which slows that step a little, so
it is kept apart from the steps whose times give the ratios.

Example, a small CPU setting::

    python tools/analysis/benchmark_clad_step.py --batch-size 16 \\
        --image-size 64 --steps 20 --out clad_step_bench.json

Weights are randomly initialised (``Pretrained`` init is skipped): they do
not change the time of a step. On a CPU shared with other work, give torch
no more threads than there are free cores (``OMP_NUM_THREADS=1`` on a busy
2-core machine): with more, every operator waits for a descheduled thread,
which made steps 35 times slower in our runs and hid the ratios.
"""

import argparse
import contextlib
import copy
import inspect
import os.path as osp
import statistics
import sys
import time
from collections import defaultdict

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

try:
    import clad_mm  # noqa: F401  (registers the components)
except ImportError:
    # Lets the tool run from a checkout where clad_mm is not installed.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from clad_mm.utils.fileio import write_json_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs/clad/resnet18_synbg_clad.py')
#: The data preprocessor whose batches hold a third view, the style images.
STYLIZING_PREPROCESSOR = 'StylizingDataPreprocessor'
#: Calls timed as the contrastive part of a CLAD step: (attribute, method).
CONTRASTIVE_CALLS = (
    ('dictionary', 'initialize'),
    ('dictionary', 'enqueue'),
    ('dictionary', 'negatives'),
    ('contrastive_head', 'loss'),
)
MODEL_NAMES = ('baseline', 'clad', 'clad_plus')
INSTRUMENTED = 'clad_instrumented'


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed options.
    """
    parser = argparse.ArgumentParser(
        description='Compare the train-step time of CLAD and CLAD+ with the '
        'baseline on the same backbone and batch.'
    )
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='a CLADClassifier config; the baseline is its model as an ImageClassifier',
    )
    parser.add_argument(
        '--batch-size',
        type=int,
        help="images per baseline step (anchors per CLAD step); the config's "
        'train_dataloader.batch_size by default',
    )
    parser.add_argument(
        '--image-size', type=int, default=224, help='side of the random images'
    )
    parser.add_argument(
        '--steps', type=int, default=20, help='timed steps per model (rounds)'
    )
    parser.add_argument(
        '--warmup', type=int, default=3, help='untimed steps per model first'
    )
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--out', help='JSON file to write the results to')
    add_overwrite_argument(parser, '--out')
    args = parser.parse_args(argv)
    if args.out is not None:
        require_new_output(args.out, args.overwrite)
    if args.steps < 1 or args.warmup < 0:
        parser.error('--steps must be at least 1 and --warmup at least 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available')
    return args


def clad_only_parameters() -> dict[str, inspect.Parameter]:
    """The arguments of ``CLADClassifier`` that ``ImageClassifier`` does not take.

    Returns:
        dict[str, inspect.Parameter]: By name, from the two signatures.
    """
    clad = inspect.signature(MODELS.get('CLADClassifier').__init__).parameters
    baseline = inspect.signature(ImageClassifier.__init__).parameters
    return {name: value for name, value in clad.items() if name not in baseline}


def dictionary_key(model_cfg: dict) -> str:
    """The data-sample field holding the positives' dictionary keys.

    Args:
        model_cfg (dict): A ``CLADClassifier`` model config.

    Returns:
        str: Its ``dictionary_key``, or ``CLADClassifier``'s default.
    """
    default = clad_only_parameters()['dictionary_key'].default
    return model_cfg.get('dictionary_key', default)


def model_configs(model_cfg: dict, data_preprocessor: dict | None) -> dict:
    """The baseline, CLAD and CLAD+ model configs from one CLAD model config.

    Args:
        model_cfg (dict): A ``CLADClassifier`` model config.
        data_preprocessor (dict, optional): The config's top-level
            ``data_preprocessor``, merged in as the Runner does.

    Returns:
        dict[str, dict]: Model configs by name (:data:`MODEL_NAMES`).

    Raises:
        ValueError: If ``model_cfg`` is not a ``CLADClassifier`` config.
    """
    if model_cfg.get('type') != 'CLADClassifier':
        raise ValueError(
            'the config must define a CLADClassifier model (e.g. '
            f'configs/clad/resnet18_synbg_clad.py), got {model_cfg.get("type")!r}'
        )
    clad = copy.deepcopy(dict(model_cfg))
    if data_preprocessor is not None:
        clad.setdefault('data_preprocessor', copy.deepcopy(dict(data_preprocessor)))
    clad_only = clad_only_parameters()
    baseline = {key: value for key, value in clad.items() if key not in clad_only}
    baseline['type'] = 'ImageClassifier'
    # One deep copy each: ImageClassifier fills in its data preprocessor's
    # type in the dict it is given, which must not reach the CLAD models.
    configs = {
        'baseline': baseline,
        'clad': {**clad, 'with_pos_loss': False},
        'clad_plus': {**clad, 'with_pos_loss': True},
    }
    return {name: copy.deepcopy(config) for name, config in configs.items()}


def random_batch(
    num_views: int,
    batch_size: int,
    image_size: int,
    num_classes: int,
    key_field: str,
    device: torch.device,
    generator: torch.Generator,
) -> dict:
    """A collated training batch of random uint8 images, already on device.

    Args:
        num_views (int): 1 for a plain batch, 2 for ``[anchors, positives]``,
            3 for ``[anchors, contents, styles]``.
        batch_size (int): Images per view.
        image_size (int): Side of the images.
        num_classes (int): Number of classes (and dictionary keys).
        key_field (str): Data-sample field of the positives' dictionary
            keys (``'pos_bg_label'``, ``'pos_texture_label'``).
        device (torch.device): Where the images go, so that no step pays
            for a host-to-device copy.
        generator (torch.Generator): Source of the random draws.

    Returns:
        dict: ``inputs`` (a tensor, or a list of view tensors) and
        ``data_samples`` with ``gt_label`` and ``key_field`` (never the
        sample's own class, as ``BackgroundSwap`` and ``TextureSwap`` make
        it).
    """
    shape = (batch_size, 3, image_size, image_size)
    views = [
        torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8).to(device)
        for _ in range(num_views)
    ]
    labels = torch.randint(0, num_classes, (batch_size,), generator=generator)
    offsets = torch.randint(1, num_classes, (batch_size,), generator=generator)
    samples = []
    for label, offset in zip(labels.tolist(), offsets.tolist()):
        sample = DataSample().set_gt_label(label)
        sample.set_field((label + offset) % num_classes, key_field)
        samples.append(sample)
    return dict(inputs=views[0] if num_views == 1 else views, data_samples=samples)


def synchronize(device: torch.device) -> None:
    """Waits for the device's queued work, so that wall time measures it."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def timing_calls(model, calls, seconds: dict, device: torch.device):
    """Times calls of a model's sub-modules while the context is open.

    The methods are replaced on the instances by wrappers that add each
    call's duration to ``seconds[<attribute>.<method>]``, and restored on
    exit.

    Args:
        model (torch.nn.Module): The model.
        calls (Sequence[tuple[str, str]]): ``(attribute, method)`` pairs.
        seconds (dict[str, float]): Accumulates the durations.
        device (torch.device): Synchronised around each call on CUDA.
    """

    def timed(name, method):
        def wrapper(*args, **kwargs):
            synchronize(device)
            start = time.perf_counter()
            result = method(*args, **kwargs)
            synchronize(device)
            seconds[name] += time.perf_counter() - start
            return result

        return wrapper

    patched = []
    for attribute, method in calls:
        owner = getattr(model, attribute)
        setattr(owner, method, timed(f'{attribute}.{method}', getattr(owner, method)))
        patched.append((owner, method))
    try:
        yield
    finally:
        for owner, method in patched:
            delattr(owner, method)  # uncovers the class's method again


def timed_step(model, optim_wrapper, batch: dict, device: torch.device) -> float:
    """Runs one training step and returns its duration in seconds."""
    synchronize(device)
    start = time.perf_counter()
    model.train_step(batch, optim_wrapper)
    synchronize(device)
    return time.perf_counter() - start


def run_benchmark(args: argparse.Namespace) -> dict:
    """Times the models' training steps side by side.

    Args:
        args (argparse.Namespace): The parsed options.

    Returns:
        dict: Settings, per-model step times, the ratios to the baseline and
        the contrastive part's share of a CLAD step.
    """
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    device = torch.device(args.device)
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    num_classes = cfg.model.head.num_classes

    configs = model_configs(cfg.model, cfg.get('data_preprocessor'))
    key_field = dictionary_key(cfg.model)
    preprocessor = configs['clad'].get('data_preprocessor') or {}
    stylizing = preprocessor.get('type') == STYLIZING_PREPROCESSOR
    models, optim_wrappers = {}, {}
    for name, model_cfg in configs.items():
        torch.manual_seed(args.seed)  # the same initial weights for all
        models[name] = MODELS.build(model_cfg).to(device).train()
        optim_wrappers[name] = build_optim_wrapper(models[name], cfg.optim_wrapper)
    generator = torch.Generator().manual_seed(args.seed)
    batches = {
        name: random_batch(
            1 if name == 'baseline' else 3 if stylizing else 2,
            batch_size,
            args.image_size,
            num_classes,
            key_field,
            device,
            generator,
        )
        for name in MODEL_NAMES
    }
    # The instrumented steps train the CLAD model too: its state moves on
    # like the others', and the contrastive part sees the same queues.
    entries = [*MODEL_NAMES, INSTRUMENTED]
    step_model = {name: name for name in MODEL_NAMES} | {INSTRUMENTED: 'clad'}

    call_seconds = defaultdict(float)
    contrastive_ms, instrumented_ms = [], []
    step_ms = {name: [] for name in MODEL_NAMES}
    # The stdout of now (ProgressBar binds its default file at import).
    progress = ProgressBar((args.warmup + args.steps) * len(entries), file=sys.stdout)
    for round_index in range(args.warmup + args.steps):
        shift = round_index % len(entries)
        for entry in entries[shift:] + entries[:shift]:
            name = step_model[entry]
            step = (models[name], optim_wrappers[name], batches[name], device)
            if entry == INSTRUMENTED:
                call_seconds.clear()
                with timing_calls(
                    models[name], CONTRASTIVE_CALLS, call_seconds, device
                ):
                    seconds = timed_step(*step)
                if round_index >= args.warmup:
                    instrumented_ms.append(1e3 * seconds)
                    contrastive_ms.append(
                        {call: 1e3 * value for call, value in call_seconds.items()}
                    )
            else:
                seconds = timed_step(*step)
                if round_index >= args.warmup:
                    step_ms[entry].append(1e3 * seconds)
            progress.update()
    print()

    median_ms = {name: statistics.median(times) for name, times in step_ms.items()}
    shares = [
        sum(calls.values()) / step
        for calls, step in zip(contrastive_ms, instrumented_ms)
    ]
    return {
        'settings': {
            'config': args.config,
            'backbone': cfg.model.backbone.get('type'),
            'batch_size': batch_size,
            'image_size': args.image_size,
            'steps': args.steps,
            'warmup': args.warmup,
            'device': str(device),
            'device_name': (
                torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
            ),
            'torch_threads': torch.get_num_threads(),
            'seed': args.seed,
        },
        'median_ms_per_step': median_ms,
        'step_ms': step_ms,
        'ratio_to_baseline': {
            name: median_ms[name] / median_ms['baseline']
            for name in MODEL_NAMES
            if name != 'baseline'
        },
        'clad_contrastive_share': {
            'share': statistics.median(shares),
            'median_step_ms': statistics.median(instrumented_ms),
            'median_call_ms': {
                call: statistics.median(
                    calls.get(call, 0.0) for calls in contrastive_ms
                )
                for call in dict.fromkeys(
                    call for calls in contrastive_ms for call in calls
                )
            },
        },
    }


def format_report(report: dict) -> str:
    """A readable table of a benchmark report.

    Args:
        report (dict): As returned by :func:`run_benchmark`.

    Returns:
        str: The step-time table and the contrastive part's share.
    """
    settings = report['settings']
    ratios = report['ratio_to_baseline']
    lines = [
        f'{settings["backbone"]}, batch {settings["batch_size"]}, '
        f'{settings["image_size"]} px, {settings["device_name"]} '
        f'({settings["torch_threads"]} torch threads), '
        f'median of {settings["steps"]} steps',
        f'{"model":<12}{"ms/step":>10}{"ratio":>8}',
    ]
    for name, median in report['median_ms_per_step'].items():
        lines.append(f'{name:<12}{median:>10.1f}{ratios.get(name, 1.0):>8.2f}')
    contrastive = report['clad_contrastive_share']
    lines += [
        "(ratio: median step time over the baseline's; a CLAD step has an "
        'anchor and a positive per baseline image)',
        '',
        f'dictionary update + InfoNCE: {100 * contrastive["share"]:.2f} % of a '
        f'CLAD step ({contrastive["median_step_ms"]:.1f} ms)',
    ]
    for call, median in contrastive['median_call_ms'].items():
        lines.append(f'  {call:<26}{median:>8.3f} ms')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    """Runs the benchmark, prints the table and writes the JSON report.

    Args:
        argv (list[str] | None): Arguments; ``sys.argv[1:]`` when None.

    Returns:
        dict: The report, as written to ``--out``.
    """
    args = parse_args(argv)
    report = run_benchmark(args)
    print(format_report(report))
    if args.out:
        write_json_atomically(args.out, report, indent=2)
        print(f'Wrote {args.out}')
    return report


if __name__ == '__main__':
    run_tool(main)
