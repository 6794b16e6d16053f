"""Export a clad_mm classifier or retriever as a plain MMPretrain model.

Writes ``OUT_DIR/config.py``, an ``ImageClassifier`` (or
``ImageToImageRetriever``) config that names only MMPretrain, MMEngine and
MMCV types, and ``OUT_DIR/model.pth``, the tensors that prediction uses
with the class names, which torch's default ``weights_only=True`` loads
without an allowlist (checked after writing). Both load where clad_mm is
not installed, e.g.::

    python tools/model_converters/export_plain.py \\
        configs/clad/resnet18_synbg_clad_plus.py \\
        work_dirs/resnet18_synbg_clad_plus/epoch_8.pth work_dirs/clad_plus_plain
    # in any MMPretrain environment:
    from mmpretrain.apis import ImageClassificationInferencer
    ImageClassificationInferencer('work_dirs/clad_plus_plain/config.py',
                                  pretrained='work_dirs/clad_plus_plain/model.pth')

CLAD, S-CLAD, ClusterFix, GroupDRO and the baselines export as classifiers;
BGAugment's retrievers as ``ImageToImageRetriever`` for MMPretrain's
``ImageRetrievalInferencer`` (see :mod:`clad_mm.apis.plain_export`). A
classifier's test set is MMPretrain's ``CustomDataset`` at ``data/test``
(set ``test_dataloader.dataset.data_root`` to a folder of class sub-folders
to run MMPretrain's ``tools/test.py``). Existing outputs are kept unless
``--overwrite`` is given.
"""

import argparse
import io
import os
import os.path as osp
import sys

import torch

from clad_mm.apis.plain_export import (
    check_loads_without_allowlist,
    plain_checkpoint,
    plain_config,
)
from clad_mm.utils.fileio import write_atomically

# tools/ (one folder up) holds tool_utils, the tools' shared argument helpers.
sys.path.append(osp.dirname(osp.dirname(osp.abspath(__file__))))
from tool_utils import (
    add_overwrite_argument,
    load_config,
    registry_errors_named,
    require_new_output,
    run_tool,
)


def parse_args(argv=None) -> argparse.Namespace:
    """Parses the command line; refuses existing outputs without --overwrite."""
    parser = argparse.ArgumentParser(
        description='Export a clad_mm classifier or retriever checkpoint as a '
        'plain MMPretrain config and weights'
    )
    parser.add_argument('config', help='the training config')
    parser.add_argument('checkpoint', help='its checkpoint (a Runner checkpoint)')
    parser.add_argument('out_dir', help='folder for config.py and model.pth')
    add_overwrite_argument(parser, 'OUT_DIR/config.py and OUT_DIR/model.pth')
    args = parser.parse_args(argv)
    args.config_out = osp.join(args.out_dir, 'config.py')
    args.model_out = osp.join(args.out_dir, 'model.pth')
    require_new_output((args.config_out, args.model_out), args.overwrite)
    return args


def main(argv=None) -> None:
    """Writes the plain config and weights and checks that they load."""
    args = parse_args(argv)
    cfg = load_config(args.config)
    with registry_errors_named(args.config):
        plain_cfg = plain_config(cfg)
        exported = plain_checkpoint(plain_cfg, args.checkpoint)
    classes = exported.get('meta', {}).get('dataset_meta', {}).get('classes')
    if classes is not None and plain_cfg.model.type == 'ImageClassifier':
        plain_cfg.test_dataloader.dataset.classes = classes
    os.makedirs(args.out_dir, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(exported, buffer)
    write_atomically(args.model_out, buffer.getvalue())
    write_atomically(args.config_out, plain_cfg.pretty_text)
    check_loads_without_allowlist(args.model_out)
    print(
        f'Wrote {args.config_out} and {args.model_out} '
        f'({len(exported["state_dict"])} tensors)'
    )


if __name__ == '__main__':
    run_tool(main)
