from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from mmdet.registry import HOOKS, MODELS
from mmdet.testing import demo_mm_inputs
from mmdet_hoyer.engine.hooks import HoyerRegularizerHook
from mmdet_hoyer.models.layers import HoyerSpike

from conftest import shrink_demo_detector


def tiny_yolo_cfg(repo_root, ann=False):
    name = 'yolov3_relu_vgg_digits.py' if ann else 'yolov3_hoyer_vgg_digits.py'
    cfg = Config.fromfile(f'{repo_root}/configs/demo/{name}')
    cfg.model.backbone.init_cfg = None  # no pretrained demo backbone in unit tests
    shrink_demo_detector(cfg, 0.125)
    return cfg


def loss_batch(model, size=96):
    packed = demo_mm_inputs(2, [(3, size, size)] * 2, num_items=[3, 2], num_classes=10)
    return model.data_preprocessor(packed, True)


def test_hook_adds_lambda_times_sum_of_hoyer_squares(repo_root):
    cfg = tiny_yolo_cfg(repo_root)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    hook = HOOKS.build(dict(type='HoyerRegularizerHook', loss_weight=1e-3))
    hook.before_run(SimpleNamespace(model=model))
    seen = []
    handles = [m.register_forward_hook(lambda mod, a, o: seen.append((a[0].detach().double(),
                                                                       mod.theta_abs.item())))
               for m in model.modules() if isinstance(m, HoyerSpike)]
    data = loss_batch(model)
    losses = model(**data, mode='loss')
    for h in handles:
        h.remove()
    n_layers = sum(isinstance(m, HoyerSpike) for m in model.modules())
    assert len(seen) == n_layers == len(hook.layers) > 13  # backbone + neck + head bridges
    expected = 0.0
    for z, t in seen:
        c = (z / t).clamp(0, 1)
        expected += (c.sum()**2 / c.square().sum()).item()
    assert 'loss_hoyer' in losses
    torch.testing.assert_close(losses['loss_hoyer'].item(), 1e-3 * expected, rtol=1e-5, atol=0)
    # it is a real loss term: its gradient reaches the thresholds and the conv weights
    losses['loss_hoyer'].backward()
    theta = next(m for m in model.modules() if isinstance(m, HoyerSpike)).threshold
    assert theta.grad is not None and theta.grad.abs().item() > 0
    # predict and eval-mode forwards are untouched
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(
            demo_mm_inputs(1, [(3, 96, 96)], num_classes=10), False), mode='predict')
    assert len(out) == 1
    hook.after_run(SimpleNamespace(model=model))
    model.train()
    assert 'loss_hoyer' not in model(**loss_batch(model), mode='loss')


def test_hook_errors_on_a_model_without_spiking_layers(repo_root):
    model = MODELS.build(tiny_yolo_cfg(repo_root, ann=True).model)
    hook = HoyerRegularizerHook()
    with pytest.raises(RuntimeError, match='no HoyerSpike layer'):
        hook.before_run(SimpleNamespace(model=model))


@pytest.mark.parametrize('head_spikes', [False, True])
def test_layer_group_stats_cover_backbone_neck_and_head(repo_root, head_spikes):
    cfg = tiny_yolo_cfg(repo_root)
    if head_spikes:  # spiking bridges instead of the default membrane read-out
        cfg.model.bbox_head.act_cfg = dict(type='HoyerSpike')
    model = MODELS.build(cfg.model)
    model.train()
    hook = HoyerRegularizerHook(interval=1)
    hook.before_run(SimpleNamespace(model=model))
    for _, m in hook.layers:
        m.record_stats = True
    model(**loss_batch(model), mode='loss')
    stats = hook.layer_group_stats()
    groups = ('backbone', 'neck', 'bbox_head') if head_spikes else ('backbone', 'neck')
    assert set(stats) == {f'{k}/{g}' for k in ('spike_rate', 'spike_thr') for g in groups}
    assert all(0 <= v <= 1 for k, v in stats.items() if k.startswith('spike_rate'))
    assert all(v > 0 for k, v in stats.items() if k.startswith('spike_thr'))


@pytest.mark.parametrize('kwargs, field', [(dict(loss_weight=-1e-8), 'loss_weight'),
                                           (dict(interval=0), 'interval'),
                                           (dict(loss_name='hoyer'), 'loss_name')])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        HoyerRegularizerHook(**kwargs)
