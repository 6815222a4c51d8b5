"""The event-camera chain end to end on simulated recordings in the real Gen1 format: the demo's
spiking YOLOv3 and its ANN twin read a 50 ms window as a 10-channel histogram, MMEngine's
Runner trains them and validates with PropheseeCocoMetric (CocoMetric in memory, real NMS);
then the tools on the trained SNN: spike statistics (the first layer on event counts), the
event demo, the detection figure, ONNX and NIR export with their parity checks."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import loader_options, shrink_demo_detector, tool_env

W = 0.125


def tiny_config(repo_root, net, data_root, work_dir):
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_{net}_vgg_events-demo.py')
    cfg.merge_from_dict({
        'work_dir': work_dir, **loader_options(data_root),
        'train_dataloader.batch_size': 4, 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
        'model.test_cfg.score_thr': 0.0, 'randomness': dict(seed=0)})
    shrink_demo_detector(cfg, W)
    return cfg


@pytest.fixture(scope='module')
def events_trained(repo_root, tiny_events, tmp_path_factory):
    """The tiny SNN trained one epoch; its merged config written for the tools."""
    work_dir = str(tmp_path_factory.mktemp('events_snn'))
    cfg = tiny_config(repo_root, 'hoyer', tiny_events, work_dir)
    runner = Runner.from_cfg(cfg)
    runner.train()
    config = osp.join(work_dir, 'config.py')
    cfg.dump(config)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    return dict(runner=runner, config=config, checkpoint=ckpt, work_dir=work_dir,
                data_root=tiny_events)


def run_tool(repo_root, script, *args):
    proc = subprocess.run([sys.executable, f'{repo_root}/{script}', *map(str, args)],
                          capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_spiking_detector_trains_and_evaluates_under_the_gen1_protocol(events_trained):
    runner = events_trained['runner']
    # the first conv reads 2 polarities x 5 time bins of event counts, at half the sensor
    first = next(m for m in runner.model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 10
    inputs = runner.model.data_preprocessor(next(iter(runner.train_dataloader)), True)['inputs']
    assert inputs.shape[1:] == (10, 128, 160)  # 152x120 padded to multiples of 32
    assert inputs.sum() > 0 and (inputs >= 0).all() and (inputs == inputs.round()).all()
    assert runner.train_dataloader.dataset.metainfo['classes'] == ('digit', 'shape')
    scalars = runner.message_hub.log_scalars
    assert 0 < scalars['train/loss'].current() < float('inf')
    assert 0 < scalars['train/loss_hoyer'].current() < float('inf')
    assert 0 < scalars['val/spike_rate'].current() < 1
    assert 0 <= scalars['val/coco/bbox_mAP'].current() <= 1  # -1: no detection reached it
    # every val sample is a labelled timestamp after the protocol's 0.5 s
    val = runner.val_dataloader.dataset
    assert all(val.get_data_info(i)['timestamp'] > 500_000 for i in range(len(val)))


def test_ann_twin_trains_on_the_same_data(repo_root, tiny_events, tmp_path):
    runner = Runner.from_cfg(tiny_config(repo_root, 'relu', tiny_events, str(tmp_path)))
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert 'train/loss_hoyer' not in scalars and 0 <= scalars['val/coco/bbox_mAP'].current() <= 1


def test_spike_stats_counts_the_first_layer_on_events(repo_root, events_trained, tmp_path):
    run_tool(repo_root, 'tools/analysis_tools/spike_stats.py', events_trained['config'],
             events_trained['checkpoint'], '--num-images', 4, '--out-dir', tmp_path)
    stats = json.load(open(tmp_path / 'stats.json'))
    first = stats['operations']['layers'][0]
    assert first['name'] == 'backbone.stages.0.0.conv' and first['event_input']
    assert first['acs'] > 0 and first['acs'] != first['macs']
    # the other analog layers (the head's membrane read-out) stay MACs
    assert all(not r['event_input'] for r in stats['operations']['layers'][1:])
    assert '| events |' in open(tmp_path / 'report.md').read()


def test_event_demo_draws_detections_on_event_frames(repo_root, events_trained, tmp_path):
    rec = sorted(glob.glob(f"{events_trained['data_root']}/val/*_td.dat"))[0]
    out = run_tool(repo_root, 'tools/event_demo.py', rec, events_trained['config'], '--weights',
                   events_trained['checkpoint'], '--out-dir', tmp_path, '--step-ms', 100,
                   '--pred-score-thr', 0.0)
    preds = json.load(open(tmp_path / 'preds' / (osp.basename(rec)[:-4] + '.json')))
    times = [d['t_us'] for d in preds['detections']]
    # from one window after the first event, every 100 ms to the last event (0.8 s recording)
    assert 50_000 <= times[0] < 60_000 and len(times) >= 7
    assert all(b - a == 100_000 for a, b in zip(times, times[1:]))
    assert preds['window_us'] == 50_000 and all(len(d['bboxes']) > 0 for d in preds['detections'])
    assert len(glob.glob(str(tmp_path / 'vis' / '*.png'))) == len(times)
    assert 'spiking layers, firing rate' in out
    bad = subprocess.run([sys.executable, f'{repo_root}/tools/event_demo.py', rec,
                          f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py', '--weights',
                          events_trained['checkpoint']], capture_output=True, text=True,
                         env=tool_env(repo_root), cwd=repo_root)
    assert bad.returncode != 0 and 'needs an event-camera config' in bad.stderr


def test_detection_figure_on_event_windows(repo_root, events_trained, tmp_path):
    out = tmp_path / 'fig.png'
    run_tool(repo_root, 'tools/analysis_tools/detection_figure.py', events_trained['config'],
             events_trained['checkpoint'], '--num-images', 2, '--out', out)
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize('fmt', ['onnx', 'nir'])
def test_export_keeps_parity_on_a_ten_channel_detector(repo_root, events_trained, tmp_path, fmt):
    report = tmp_path / 'report.json'
    run_tool(repo_root, f'tools/deployment/export_{fmt}.py', events_trained['config'],
             events_trained['checkpoint'], '--out', tmp_path / f'model.{fmt}', '--num-images', 2,
             '--report', report)
    rep = json.load(open(report))
    # the check inputs are windows of events (<recording>@<t>us), the graph's input 10 channels
    assert len(rep['images']) == 2 and all(n.endswith('us') and '_td.dat@' in n
                                          for n in rep['images'])
    if fmt == 'onnx':
        assert rep['input_shape'][1] == 10
    assert rep['ok'], json.dumps(rep)[:3000]
