"""tools/analysis/benchmark_clad_step.py runs and reports every ratio.

A correctness test of the script on a tiny setting, not a timing test.
"""

import importlib.util
import json
import os.path as osp

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO_ROOT, 'tools/analysis/benchmark_clad_step.py')


def load_script():
    spec = importlib.util.spec_from_file_location('benchmark_clad_step', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def narrow_clad_config(tmp_path):
    """The SynBG CLAD config with an 8x narrower ResNet-18, to run fast."""
    config = tmp_path / 'narrow_clad.py'
    config.write_text(
        f'_base_ = [{osp.join(REPO_ROOT, "configs/clad/resnet18_synbg_clad.py")!r}]\n'
        'model = dict(\n'
        '    backbone=dict(stem_channels=8, base_channels=8),\n'
        '    head=dict(in_channels=64),\n'
        '    dictionary=dict(feat_dim=64),\n'
        ')\n'
    )
    return str(config)


def test_benchmark_writes_ratios_and_contrastive_share(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    load_script().main(
        [
            '--config',
            narrow_clad_config(tmp_path),
            '--batch-size',
            '4',
            '--image-size',
            '32',
            '--steps',
            '2',
            '--warmup',
            '1',
            '--out',
            str(out),
        ]
    )

    report = json.loads(out.read_text())
    assert report['settings']['batch_size'] == 4
    assert set(report['median_ms_per_step']) == {'baseline', 'clad', 'clad_plus'}
    assert all(ms > 0 for ms in report['median_ms_per_step'].values())
    assert all(len(times) == 2 for times in report['step_ms'].values())
    assert set(report['ratio_to_baseline']) == {'clad', 'clad_plus'}
    assert all(ratio > 0 for ratio in report['ratio_to_baseline'].values())
    contrastive = report['clad_contrastive_share']
    assert 0 < contrastive['share'] < 1
    # initialize runs once, in whichever CLAD step comes first.
    assert {
        'dictionary.enqueue',
        'dictionary.negatives',
        'contrastive_head.loss',
    } <= set(contrastive['median_call_ms'])
    printed = capsys.readouterr().out
    assert 'clad_plus' in printed and 'InfoNCE' in printed


def test_baseline_is_the_clad_model_without_its_contrastive_keys():
    script = load_script()
    clad = dict(
        type='CLADClassifier',
        backbone=dict(type='ResNet', depth=18),
        head=dict(type='LinearClsHead', num_classes=9, in_channels=512),
        contrastive_head=dict(type='InfoNCEHead'),
        dictionary=dict(type='NegativeDictionary', num_keys=9, feat_dim=512),
        enqueue_before_loss=True,
    )
    configs = script.model_configs(clad, dict(num_classes=9))
    assert configs['baseline'] == dict(
        type='ImageClassifier',
        backbone=clad['backbone'],
        head=clad['head'],
        data_preprocessor=dict(num_classes=9),
    )
    assert configs['clad']['with_pos_loss'] is False
    assert configs['clad_plus']['with_pos_loss'] is True
    # Each model gets its own data preprocessor dict to fill in.
    assert (
        configs['clad']['data_preprocessor']
        is not configs['baseline']['data_preprocessor']
    )


def fake_adain_weights(folder):
    """Randomly initialised AdaIN weights in the release's layout."""
    from clad_mm.models.stylization.adain import AdaINStylizer

    stylizer = AdaINStylizer()
    encoder, decoder = str(folder / 'encoder.pth'), str(folder / 'decoder.pth')
    torch.save(stylizer.encoder.state_dict(), encoder)
    torch.save(stylizer.decoder.state_dict(), decoder)
    return encoder, decoder


def narrow_sclad_config(tmp_path, name):
    """An S-CLAD config with an 8x narrower ResNet and, for IN-9, fake AdaIN."""
    base = osp.join(REPO_ROOT, 'configs/s_clad', name)
    channels = 64 if 'resnet18' in name else 256  # 8x narrower output
    lines = [
        f'_base_ = [{base!r}]',
        'model = dict(',
        '    backbone=dict(stem_channels=8, base_channels=8),',
        f'    head=dict(in_channels={channels}),',
        ')',
    ]
    if 'in9' in name:
        encoder, decoder = fake_adain_weights(tmp_path)
        lines += [
            'data_preprocessor = dict(stylizer=dict(',
            f'    encoder_checkpoint={encoder!r}, decoder_checkpoint={decoder!r}))',
        ]
    config = tmp_path / f'narrow_{name}'
    config.write_text('\n'.join(lines) + '\n')
    return str(config)


@pytest.mark.parametrize(
    'name', ['resnet18_synbg_texture_sclad.py', 'resnet50_in9_sclad.py']
)
def test_benchmark_runs_on_s_clad_configs(tmp_path, capsys, name):
    script = load_script()
    args = script.parse_args(
        [
            '--config',
            narrow_sclad_config(tmp_path, name),
            '--batch-size',
            '2',
            '--image-size',
            '32',
            '--steps',
            '1',
            '--warmup',
            '0',
        ]
    )
    report = script.run_benchmark(args)
    assert all(ms > 0 for ms in report['median_ms_per_step'].values())


def test_clad_only_keys_come_from_the_classifiers_signature():
    script = load_script()
    assert set(script.clad_only_parameters()) == {
        'contrastive_head',
        'dictionary',
        'with_pos_loss',
        'enqueue_before_loss',
        'dictionary_key',
    }


def test_random_batch_fills_the_configs_dictionary_key():
    script = load_script()
    model = dict(type='CLADClassifier', dictionary_key='pos_texture_label')
    assert script.dictionary_key(model) == 'pos_texture_label'
    assert script.dictionary_key(dict(type='CLADClassifier')) == 'pos_bg_label'
    batch = script.random_batch(
        3, 4, 8, 9, 'pos_texture_label', torch.device('cpu'), torch.Generator()
    )
    assert len(batch['inputs']) == 3
    for sample in batch['data_samples']:
        assert 'pos_bg_label' not in sample
        assert sample.pos_texture_label != int(sample.gt_label)
