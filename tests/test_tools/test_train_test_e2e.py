"""End to end on a tiny generated set, both demo stages: MMEngine's Runner pretrains the spiking
backbone on box crops (MMPretrain's ImageNet dataset, ImageClassifier and Accuracy), the
detector loads it, trains, validates with CocoMetric (real NMS) and saves a checkpoint;
tools/test.py on it reproduces the metrics."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmdet_hoyer.models.layers import HoyerSpike, MembraneShortcutStage

# the tiny trained checkpoints are session fixtures in conftest.py (the inference and export
# tests use them too)
from conftest import run_on_checkpoint, tiny_options, tool_env  # noqa: E402


def test_pretraining_stage_trains_validates_and_saves(pretrained):
    runner = pretrained['runner']
    scalars = runner.message_hub.log_scalars
    assert 0 < scalars['train/loss_hoyer'].current() < float('inf')
    assert 0 < scalars['train/loss'].current() < float('inf')  # MMPretrain's cross-entropy
    top1 = runner.message_hub.get_info('val/accuracy/top1', None)
    if top1 is None:
        top1 = scalars['val/accuracy/top1'].current()
    assert 0 <= top1 <= 100  # MMPretrain's Accuracy reports percent
    assert 0 < scalars['val/spike_rate'].current() < 1
    assert osp.isfile(pretrained['checkpoint'])
    # from scratch: binary spikes from the first iteration (no warm-up), membrane shortcuts
    assert 'train/spike_warmup' not in scalars
    assert all(m.warmup_alpha == 0.0 for m in runner.model.modules() if isinstance(m, HoyerSpike))
    stages = runner.model.backbone.stages
    assert all(isinstance(s, MembraneShortcutStage) for s in stages)
    assert sum(link is not None for s in stages for link in s.links) == 8  # VGG16: 13 - 5


def test_detector_loads_pretrained_backbone(pretrained, repo_root):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.merge_from_dict(tiny_options('unused', 'unused', pretrained['checkpoint']))
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    state = torch.load(pretrained['checkpoint'], map_location='cpu')['state_dict']
    backbone = detector.backbone.state_dict()
    loaded = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    assert set(loaded) == set(backbone)  # weights, BN statistics, θ and running thresholds
    for k, v in loaded.items():
        assert torch.equal(backbone[k], v), k


def test_training_logs_losses_rates_and_validates(trained):
    runner, metrics = trained['runner'], trained['metrics']
    scalars = runner.message_hub.log_scalars
    assert 'train/loss_hoyer' in scalars and 'train/loss' in scalars
    loss_hoyer = scalars['train/loss_hoyer'].current()
    assert 0 < loss_hoyer < float('inf')
    assert {'train/spike_rate/backbone', 'train/spike_thr/neck'} <= set(scalars)
    assert 'train/spike_warmup' not in scalars  # binary spikes from the first iteration
    assert 'coco/bbox_mAP' in metrics and 'coco/bbox_mAP_50' in metrics
    assert metrics['coco/bbox_mAP'] >= 0  # -1 would mean no predictions reached the metric
    assert 0 < metrics['spike_rate'] < 1
    # the running thresholds moved away from their initial 1.0 while training
    running = [m.running_extremum for m in runner.model.modules() if isinstance(m, HoyerSpike)]
    assert all(r.numel() == 1 and 0 < r.item() < 1 for r in running)


def test_checkpoint_and_tools_test_reproduce_metrics(trained, repo_root, tmp_path):
    work_dir = trained['work_dir']
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    state = torch.load(ckpt, map_location='cpu')  # weights_only (torch>=2.6 default) works
    running_keys = [k for k in state['state_dict'] if k.endswith('running_extremum')]
    assert len(running_keys) == sum(isinstance(m, HoyerSpike) for m in trained['runner'].model.modules())

    out_dir = str(tmp_path / 'test')
    proc = run_on_checkpoint(trained, repo_root, 'tools/test.py', ['--work-dir', out_dir],
                             ('model.', 'test_', 'val_evaluator'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(osp.join(out_dir, 'test_metrics.json')) as f:
        tested = json.load(f)
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75', 'spike_rate'):
        assert tested[key] == pytest.approx(trained['metrics'][key], abs=1e-9), key


def test_spike_stats_and_compare_on_the_trained_checkpoint(trained, repo_root, tmp_path):
    out_dir = tmp_path / 'stats'
    proc = run_on_checkpoint(trained, repo_root, 'tools/analysis_tools/spike_stats.py',
                             ['--num-images', '6', '--out-dir', str(out_dir)],
                             ('model.', 'test_'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out_dir / 'stats.json') as f:
        stats = json.load(f)
    n_spiking = sum(isinstance(m, HoyerSpike) for m in trained['runner'].model.modules())
    assert len(stats['layers']) == n_spiking and stats['num_images'] >= 6
    assert 0 < stats['network_firing_rate'] < 1
    # channel census: per layer fractions, the network's weighted by each layer's channels
    for r in stats['layers']:
        assert r['channels'] == r['shape'][0]
        assert 0 <= r['silent_channels'] <= 1 and 0 <= r['busy_channels'] <= 1
    channels = sum(r['channels'] for r in stats['layers'])
    assert stats['silent_channel_fraction'] == pytest.approx(
        sum(r['silent_channels'] * r['channels'] for r in stats['layers']) / channels)
    ops = stats['operations']
    first = ops['layers'][0]
    assert first['name'] == 'backbone.stages.0.0.conv' and not first['binary_input']
    # analog inputs: the image, and the 1x1 predictions reading the bridges' membrane potential
    analog = [r['name'] for r in ops['layers'] if not r['binary_input']]
    assert analog == [first['name']] + [f'bbox_head.convs_pred.{i}' for i in range(3)]
    assert ops['snn']['macs'] == pytest.approx(sum(r['macs'] for r in ops['layers']
                                                   if r['name'] in analog))
    assert ops['efficiency_ratio'] > 1 and len(stats['histograms']) == 4
    for png in ('firing_rate.png', 'membrane_hist.png'):
        assert (out_dir / png).stat().st_size > 1000
    # compare: the SNN against a run whose test metrics are known (itself), table well formed
    ann_dir = tmp_path / 'ann'
    ann_dir.mkdir()
    with open(ann_dir / 'test_metrics.json', 'w') as f:
        json.dump({'coco/bbox_mAP': 0.5, 'coco/bbox_mAP_50': 0.8}, f)
    snn_dir = tmp_path / 'snn'
    snn_dir.mkdir()
    with open(snn_dir / 'test_metrics.json', 'w') as f:
        json.dump({'coco/bbox_mAP': 0.25, 'coco/bbox_mAP_50': 0.4}, f)
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/analysis_tools/compare.py', str(snn_dir),
         str(ann_dir), '--stats', str(out_dir / 'stats.json'), '--out', str(tmp_path / 'c.md')],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = (tmp_path / 'c.md').read_text()
    assert '| mAP | 0.250 | 0.500 | SNN/ANN 0.500 |' in table
    assert f"ANN/SNN {ops['efficiency_ratio']:.2f}×" in table
