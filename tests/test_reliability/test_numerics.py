"""Neuron and regularizer on extreme inputs and low-precision dtypes: no NaN/inf, documented
outputs; autocast training of the spiking YOLOv3 (CPU bfloat16; CUDA float16 and bfloat16
where a GPU exists) keeps statistics in float32."""
import warnings

import pytest
import torch

from mmdet.registry import HOOKS, MODELS
from mmdet_hoyer.models.layers import HoyerSpike, set_regularize, take_hoyer_terms

DTYPES = [torch.float32, torch.bfloat16, torch.float16]


def run(z, mode='layer'):
    act = HoyerSpike(mode=mode)
    set_regularize(act, True)
    z = z.clone().requires_grad_(True)
    out = act(z)
    (hoyer, ) = take_hoyer_terms(act)
    loss = out.float().sum() + hoyer
    loss.backward()
    return act, out, z.grad, hoyer


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('mode', ['layer', 'channel'])
@pytest.mark.parametrize('case', ['zeros', 'negative', 'saturated', 'huge', 'tiny', 'mixed_huge'])
def test_extreme_inputs_stay_finite_and_binary(dtype, mode, case):
    g = torch.Generator().manual_seed(0)
    base = torch.rand(2, 3, 5, 5, generator=g)
    z = {'zeros': torch.zeros_like(base), 'negative': -1 - base, 'saturated': 5 + base,
         'huge': 1e6 * (base + 0.1), 'tiny': 1e-12 * base,
         'mixed_huge': 1e6 * (base - 0.5)}[case].to(dtype)
    act, out, grad, hoyer = run(z, mode)
    assert out.dtype == dtype and ((out == 0) | (out == 1)).all()
    assert torch.isfinite(grad.float()).all() and torch.isfinite(act.threshold.grad)
    assert act.running_extremum.dtype == torch.float32
    assert torch.isfinite(act.running_extremum).all() and (act.running_extremum > 0).all()
    assert hoyer.dtype == torch.float32 and torch.isfinite(hoyer)
    # documented outputs: silent layers fire nothing and keep their running estimate (H = 0);
    # a fully saturated layer has E = 1, H = numel, and fires everywhere
    if case in ('zeros', 'negative'):
        assert out.sum() == 0 and hoyer == 0
        assert torch.all(act.running_extremum == 1.0)
    if case in ('saturated', 'huge'):
        assert out.all() and hoyer.item() == pytest.approx(z.numel(), rel=1e-5)
    if case == 'tiny' and dtype == torch.float32:
        # u = z/|θ| ~ 1e-12 is still positive: E is tiny and the larger values fire
        assert 0 < out.float().mean() < 1


def test_eval_on_extremes_is_binary_and_finite():
    act = HoyerSpike().eval()
    for z in (torch.zeros(4, 4), torch.full((4, 4), 1e6), torch.full((4, 4), -1e6),
              torch.full((4, 4), 1e-12)):
        for dtype in DTYPES:
            out = act(z.to(dtype))
            assert out.dtype == dtype and ((out == 0) | (out == 1)).all()


AUTOCAST = [
    pytest.param('cpu', torch.bfloat16, id='cpu-bfloat16'),
    pytest.param('cuda', torch.float16, id='cuda-float16', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA device')),
    pytest.param('cuda', torch.bfloat16, id='cuda-bfloat16', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA device')),
]


@pytest.mark.parametrize('device,dtype', AUTOCAST)
def test_autocast_training_step_of_the_spiking_yolov3(repo_root, device, dtype):
    from types import SimpleNamespace

    from mmengine.config import Config
    from mmdet.testing import demo_mm_inputs

    from conftest import shrink_demo_detector
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.model.backbone.init_cfg = None
    shrink_demo_detector(cfg, 0.125)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    HOOKS.build(dict(type='HoyerRegularizerHook', loss_weight=1e-3)).before_run(
        SimpleNamespace(model=model))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    packed = demo_mm_inputs(2, [(3, 96, 96)] * 2, num_items=[3, 2], num_classes=10)
    seen = []
    hooks = [m.register_forward_hook(lambda mod, a, o: seen.append(o))
             for m in model.modules() if isinstance(m, HoyerSpike)]
    for _ in range(2):
        data = model.data_preprocessor(packed, True)
        with torch.autocast(device, dtype=dtype):
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        assert torch.isfinite(loss) and losses['loss_hoyer'].dtype == torch.float32
        opt.zero_grad()
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        opt.step()
    for h in hooks:
        h.remove()
    assert any(o.dtype == dtype for o in seen)  # the convs did run in the autocast dtype
    assert all(((o == 0) | (o == 1)).all() for o in seen)
    for m in model.modules():
        if isinstance(m, HoyerSpike):
            assert m.running_extremum.dtype == torch.float32
            assert torch.isfinite(m.running_extremum).all()


def test_checkpoint_without_running_thresholds_warns_naming_the_layer():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1), HoyerSpike())
    state = {k: v for k, v in net.state_dict().items() if not k.endswith('running_extremum')}
    with pytest.warns(UserWarning, match=r"HoyerSpike 1: the checkpoint has θ but no 'running_extremum'"):
        net.load_state_dict(state, strict=False)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        net.load_state_dict(net.state_dict())  # a complete checkpoint loads silently
