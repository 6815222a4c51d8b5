"""The event-camera chain end to end on simulated recordings in the real Gen1 format: the demo's
spiking YOLOv3 and its ANN twin read a 50 ms window as a 10-channel histogram, MMEngine's
Runner trains them and validates with PropheseeCocoMetric (CocoMetric in memory, real NMS)."""
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import loader_options, shrink_demo_detector

W = 0.125


@pytest.mark.parametrize('net', ['hoyer', 'relu'])
def test_event_demo_trains_and_evaluates_under_the_gen1_protocol(repo_root, tiny_events,
                                                                 tmp_path, net):
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_{net}_vgg_events-demo.py')
    cfg.merge_from_dict({
        'work_dir': str(tmp_path), **loader_options(tiny_events),
        'train_dataloader.batch_size': 4, 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
        'model.test_cfg.score_thr': 0.0, 'randomness': dict(seed=0)})
    shrink_demo_detector(cfg, W)
    runner = Runner.from_cfg(cfg)
    # the first conv reads 2 polarities x 5 time bins of event counts
    first = next(m for m in runner.model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 10
    batch = next(iter(runner.train_dataloader))
    inputs = batch['inputs'][0]
    assert inputs.shape[0] == 10 and inputs.shape[1:] == (120, 152)
    assert inputs.sum() > 0 and (inputs >= 0).all()
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert 0 < scalars['train/loss'].current() < float('inf')
    if net == 'hoyer':
        assert 0 < scalars['train/loss_hoyer'].current() < float('inf')
        assert 0 < scalars['val/spike_rate'].current() < 1
    mAP = scalars['val/coco/bbox_mAP'].current()
    assert 0 <= mAP <= 1  # -1 would mean no detection reached the metric
    # every val sample is a labelled timestamp after the protocol's 0.5 s
    val = runner.val_dataloader.dataset
    assert all(val.get_data_info(i)['timestamp'] > 500_000 for i in range(len(val)))
