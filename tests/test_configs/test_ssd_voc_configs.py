"""Packaged SSD / VOC configs: the spiking SSD300 trains and predicts, every conv after the first
sees spikes; spiking configs and their ANN twins are the same networks."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from mmdet.registry import HOOKS, MODELS
from mmdet.testing import demo_mm_inputs
from mmdet_hoyer.models.layers import HoyerSpike

PAIRS = [('ssd300_hoyer_vgg', 'ssd300_relu_vgg'),
         ('ssd300_hoyer_vgg_voc0712', 'ssd300_relu_vgg_voc0712'),
         ('yolov3_hoyer_vgg_voc0712', 'yolov3_relu_vgg_voc0712'),
         ('demo/ssd160_hoyer_vgg_digits', 'demo/ssd160_relu_vgg_digits'),
         ('demo/ssd160_hoyer_vgg_digits-voc', 'demo/ssd160_relu_vgg_digits-voc'),
         ('demo/yolov3_hoyer_vgg_digits-voc', 'demo/yolov3_relu_vgg_digits-voc'),
         ('demo/yolov3_hoyer_vgg_w05_digits-voc', 'demo/yolov3_relu_vgg_w05_digits-voc')]


def shapes(model):
    return sorted((n, tuple(p.shape)) for n, p in model.named_parameters()
                  if not n.endswith('threshold'))


@pytest.mark.parametrize('snn_name,ann_name', PAIRS)
def test_spiking_configs_and_ann_twins(repo_root, snn_name, ann_name):
    snn = Config.fromfile(f'{repo_root}/configs/{snn_name}.py')
    ann = Config.fromfile(f'{repo_root}/configs/{ann_name}.py')
    hooks = [h['type'] for h in snn.custom_hooks]
    assert 'HoyerRegularizerHook' in hooks and 'FiringRateHook' in hooks
    assert not any(h['type'] == 'HoyerRegularizerHook' for h in ann.custom_hooks)
    for cfg in (snn, ann):
        cfg.model.backbone.pop('init_cfg', None)
    snn_model, ann_model = MODELS.build(snn.model), MODELS.build(ann.model)
    assert sum(isinstance(m, HoyerSpike) for m in snn_model.modules()) >= 15
    assert not any(isinstance(m, HoyerSpike) for m in ann_model.modules())
    assert shapes(snn_model) == shapes(ann_model)
    if 'voc' in snn_name:
        evaluators = snn.val_evaluator if isinstance(snn.val_evaluator, list) else [snn.val_evaluator]
        assert {e['type'] for e in evaluators} == {'VOCMetric'}
        assert '11points' in {e['eval_mode'] for e in evaluators}
    if 'ssd' in snn_name:
        assert snn.model.bbox_head.type == 'PatchedSSDHead'
        assert snn.model.neck.type == 'HoyerSSDNeck' and not snn.model.neck.l2_norm_scale


def test_spiking_ssd300_trains_and_predicts_with_spikes_everywhere(repo_root):
    cfg = Config.fromfile(f'{repo_root}/configs/ssd300_hoyer_vgg.py')
    w = 0.125
    levels = [int(c * w) for c in (512, 1024, 512, 256, 256, 256)]
    cfg.model.backbone.widen_factor = w
    cfg.model.neck.in_channels = levels[:2]
    cfg.model.neck.out_channels = levels
    cfg.model.bbox_head.in_channels = levels
    cfg.model.backbone.init_cfg = None  # random weights: no stage-1 checkpoint in unit tests
    model = MODELS.build(cfg.model)
    model.init_weights()
    HOOKS.build(dict(type='HoyerRegularizerHook', loss_weight=1e-3)).before_run(
        SimpleNamespace(model=model))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    head_convs = set(model.bbox_head.cls_convs.modules()) | set(model.bbox_head.reg_convs.modules())
    inputs, outputs = {}, {}
    hooks = [c.register_forward_pre_hook(lambda m, a: inputs.setdefault(m, a[0])) for c in convs]
    hooks += [m.register_forward_hook(lambda mod, a, o: outputs.setdefault(mod, o))
              for m in model.modules() if isinstance(m, HoyerSpike)]
    packed = demo_mm_inputs(2, [(3, 300, 300)] * 2, num_items=[3, 2], num_classes=80)
    model.train()
    data = model.data_preprocessor(packed, True)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'loss_bbox', 'loss_hoyer'} <= set(losses)
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss) and losses['loss_hoyer'] > 0
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    for h in hooks:
        h.remove()
    # every conv but the first (analog image) reads binary spikes, the head's predictors too
    assert len(inputs) == len(convs) and convs[0] is next(iter(inputs))
    assert all(((x == 0) | (x == 1)).all() for c, x in inputs.items() if c is not convs[0])
    assert any(c in head_convs for c in inputs)
    assert len(outputs) == 15 + 8 and all(((o == 0) | (o == 1)).all() for o in outputs.values())
    model.eval()
    with torch.no_grad():
        results = model(**model.data_preprocessor(packed, False), mode='predict')
    assert len(results) == 2 and all('bboxes' in r.pred_instances for r in results)
