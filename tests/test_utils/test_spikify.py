"""spikify: five MMDetection config families become spiking detectors that build, train a step
with loss_hoyer, predict, and round-trip through Config.fromfile / dump."""
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from mmdet.registry import HOOKS, MODELS
from mmdet.testing import demo_mm_inputs
from mmdet_hoyer.models.layers import HoyerSpike
from mmdet_hoyer.utils.spikify import spikify_config, write_delta

FAMILIES = {
    'two-stage': 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'one-stage anchor-based': 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    'anchor-free': 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'YOLO': 'mmdet::yolo/yolov3_d53_8xb8-ms-608-273e_coco.py',
    'SSD': 'mmdet::ssd/ssd300_coco.py',
}


@pytest.mark.parametrize('family', list(FAMILIES))
def test_spikified_detector_trains_and_predicts(family, tmp_path):
    delta, report = spikify_config(FAMILIES[family], widen_factor=0.125)
    path = str(tmp_path / 'spiking.py')
    write_delta(delta, report, path)
    cfg = Config.fromfile(path)  # round trip 1: the delta resolves against mmdet's config
    dumped = str(tmp_path / 'dumped.py')
    cfg.dump(dumped)
    cfg2 = Config.fromfile(dumped)  # round trip 2: the flattened dump loads identically
    assert cfg2.model.to_dict() == cfg.model.to_dict()
    assert cfg.model.backbone.type in (('HoyerSSDVGG', ) if family == 'SSD' else
                                       ('HoyerResNet', 'HoyerVGG'))
    if family == 'SSD':
        assert cfg.model.neck.type == 'HoyerSSDNeck' and cfg.model.neck.norm_cfg.type == 'BN'
    if family == 'YOLO':  # the membrane-shortcut neck of the same topology
        assert cfg.model.neck.type == 'HoyerYOLOV3Neck'
        assert any('YOLOV3Neck -> HoyerYOLOV3Neck' in line for line in report)
        # membrane read-out: the source's LeakyReLU bridges become conv + BN, not neurons
        assert cfg.model.bbox_head.act_cfg is None
        assert any('membrane read-out' in line for line in report)
    assert 'backbone' not in delta['model'] or delta['model']['backbone']['_delete_']
    assert [h['type'] for h in cfg.custom_hooks][-3:] == ['HoyerRegularizerHook', 'SpikeRecomputeHook',
                                                         'FiringRateHook']

    model = MODELS.build(cfg.model)
    model.init_weights()
    for hook_cfg in cfg.custom_hooks[-3:]:  # the regularizer and the spike-map recomputation
        HOOKS.build(hook_cfg).before_run(SimpleNamespace(model=model))
    n_spiking = sum(isinstance(m, HoyerSpike) for m in model.modules())
    assert n_spiking > 0
    model.train()
    size = 300 if family == 'SSD' else 96  # SSD's extra layers need its 300 px input
    packed = demo_mm_inputs(2, [(3, size, size)] * 2, num_items=[2, 1],
                            num_classes=cfg.model.get('bbox_head', cfg.model.get('roi_head', {})
                                                      .get('bbox_head', {})).get('num_classes', 80))
    data = model.data_preprocessor(packed, True)
    losses = model(**data, mode='loss')
    assert 'loss_hoyer' in losses and torch.isfinite(losses['loss_hoyer'])
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    # stages after the deepest returned one do not run (and get no gradient)
    thetas = [m.threshold.grad for m in model.backbone.modules() if isinstance(m, HoyerSpike)]
    assert thetas[0] is not None and all(torch.isfinite(g) for g in thetas if g is not None)
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(packed, False), mode='predict')
    assert len(preds) == 2 and all(hasattr(p, 'pred_instances') for p in preds)
    # every analog part is named in the report
    for name in ('rpn_head', 'bbox_head', 'neck'):
        part = cfg.model.get(name)
        if part is not None and 'act_cfg' not in part and name in ('rpn_head', 'bbox_head'):
            assert any(line.startswith(f'NOT SPIKING {name}') for line in report), report


def test_cli_writes_the_delta_and_names_errors(repo_root, tmp_path):
    out = tmp_path / 'r.py'
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/misc/spikify_config.py',
         'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', '--backbone', 'HoyerResNet',
         '--depth', '18', '-o', str(out)], capture_output=True, text=True, cwd=repo_root,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'NOT SPIKING bbox_head (RetinaHead)' in proc.stdout
    cfg = Config.fromfile(str(out))
    assert cfg.model.backbone.depth == 18 and cfg.model.neck.in_channels == [64, 128, 256, 512]
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/misc/spikify_config.py',
         'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', '--depth', '20', '-o', str(out)],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert proc.returncode != 0 and 'error: depth of HoyerResNet must be one of' in proc.stderr
    assert 'Traceback' not in proc.stderr


@pytest.mark.parametrize('name', ['faster-rcnn', 'retinanet'])
def test_packaged_resnet_configs_and_ann_twins(repo_root, name):
    snn = Config.fromfile(f'{repo_root}/configs/{name}_hoyer_r50-fpn.py')
    ann = Config.fromfile(f'{repo_root}/configs/{name}_relu_r50-fpn.py')
    assert snn.custom_hooks[-3] == dict(type='HoyerRegularizerHook', loss_weight=2e-9)
    assert snn.custom_hooks[-2] == dict(type='SpikeRecomputeHook')
    assert not any(h['type'] == 'SpikeRecomputeHook' for h in ann.custom_hooks)
    assert not any(h['type'] == 'HoyerRegularizerHook' for h in ann.custom_hooks)
    snn_model, ann_model = MODELS.build(snn.model), MODELS.build(ann.model)
    assert snn_model.backbone.depth == 50 and isinstance(snn_model.backbone, type(ann_model.backbone))
    assert sum(isinstance(m, HoyerSpike) for m in snn_model.modules()) > 50
    assert not any(isinstance(m, HoyerSpike) for m in ann_model.modules())
    # identical networks apart from the neurons: same parameter shapes, θ aside
    shapes = lambda m: sorted((n, tuple(p.shape)) for n, p in m.named_parameters()  # noqa: E731
                              if not n.endswith('threshold'))
    assert shapes(snn_model) == shapes(ann_model)
