from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from mmdet.registry import HOOKS, MODELS
from mmdet_hoyer.engine.hooks.spike_warmup_hook import warmup_alpha
from mmdet_hoyer.models.layers import HoyerSpike

from test_hoyer_regularizer_hook import loss_batch, tiny_yolo_cfg


def test_warmup_alpha_schedule():
    assert [warmup_alpha(i, 2, 6) for i in range(8)] == [1, 1, 1, 0.75, 0.5, 0.25, 0, 0]
    assert warmup_alpha(0, 0, 1) == 1.0 and warmup_alpha(1, 0, 1) == 0.0
    assert warmup_alpha(5, 5, 5) == 0.0  # begin == end: a step from the ramp to spikes


def fake_runner(model, it=0, max_iters=100, max_epochs=None, loader_len=10):
    return SimpleNamespace(model=model, iter=it, max_iters=max_iters, max_epochs=max_epochs,
                           train_dataloader=[None] * loader_len,
                           message_hub=MessageHub.get_instance('test_spike_warmup'))


def test_hook_mixes_training_forward_only_and_ends_binary(repo_root):
    cfg = tiny_yolo_cfg(repo_root)
    model = MODELS.build(cfg.model)
    model.init_weights()
    hook = HOOKS.build(dict(type='SpikeWarmupHook', begin=2, end=6))
    runner = fake_runner(model)
    hook.before_train(runner)
    layers = [m for m in model.modules() if isinstance(m, HoyerSpike)]
    assert len(hook.layers) == len(layers) > 13
    outs = []
    handles = [m.register_forward_hook(lambda mod, a, o: outs.append(o.detach())) for m in layers]
    data = loss_batch(model)

    def run(it, train=True):
        runner.iter = it
        hook.before_train_iter(runner, 0)
        outs.clear()
        model.train(train)
        with torch.no_grad():
            model(**data, mode='loss' if train else 'tensor')
        return list(outs)

    graded = run(0)
    assert runner.message_hub.get_scalar('train/spike_warmup').current() == 1.0
    assert all(m.warmup_alpha == 1.0 for m in layers)
    # α = 1: graded values strictly between 0 and 1 exist (not binary)
    assert any(((o > 0) & (o < 1)).any() for o in graded)
    assert all((o >= 0).all() and (o <= 1).all() for o in graded)
    run(4)
    assert all(m.warmup_alpha == 0.5 for m in layers)
    # eval ignores α: binary spikes
    assert all(((o == 0) | (o == 1)).all() for o in run(4, train=False))
    binary = run(6)
    assert runner.message_hub.get_scalar('train/spike_warmup').current() == 0.0
    assert all(((o == 0) | (o == 1)).all() for o in binary)
    hook.after_train(runner)
    assert all(m.warmup_alpha == 0.0 for m in layers)
    for h in handles:
        h.remove()


def test_hook_by_epoch_and_errors(repo_root):
    cfg = tiny_yolo_cfg(repo_root)
    model = MODELS.build(cfg.model)
    hook = HOOKS.build(dict(type='SpikeWarmupHook', begin=1, end=3, by_epoch=True))
    hook.before_train(fake_runner(model, max_iters=None, max_epochs=5, loader_len=10))
    assert hook.alpha(9) == 1.0 and hook.alpha(20) == 0.5 and hook.alpha(30) == 0.0
    with pytest.raises(ValueError, match='past the end of training'):
        HOOKS.build(dict(type='SpikeWarmupHook', end=200)).before_train(
            fake_runner(model, max_iters=100))
    for bad in (dict(begin=5, end=2), dict(begin=-1), dict(end=0), dict(end=1.5)):
        with pytest.raises(ValueError, match='SpikeWarmupHook'):
            HOOKS.build(dict(type='SpikeWarmupHook', **bad))
    ann = MODELS.build(tiny_yolo_cfg(repo_root, ann=True).model)
    with pytest.raises(RuntimeError, match='no HoyerSpike layer'):
        HOOKS.build(dict(type='SpikeWarmupHook')).before_train(fake_runner(ann))


def test_relu_ramp_trains_as_the_ann_twin_then_ends_binary(repo_root):
    """ramp='relu': α = 1 gives unbounded ReLU values with the ReLU's gradient, α = 0 spikes."""
    cfg = tiny_yolo_cfg(repo_root)
    model = MODELS.build(cfg.model)
    model.init_weights()
    hook = HOOKS.build(dict(type='SpikeWarmupHook', begin=1, end=3, ramp='relu'))
    runner = fake_runner(model)
    hook.before_train(runner)
    layers = [m for m in model.modules() if isinstance(m, HoyerSpike)]
    assert all(m.warmup_ramp == 'relu' for m in layers)
    layer = layers[0]
    z = (torch.randn(2, 3, 5, 5) * 2).requires_grad_()
    layer.train()
    layer.warmup_alpha = 1.0
    out = layer(z)
    torch.testing.assert_close(out, z.clamp_min(0) / layer.theta_abs.detach())
    assert out.max() > 1  # unbounded, unlike the surrogate's ramp
    out.sum().backward()
    torch.testing.assert_close(z.grad, (z > 0).float() / layer.theta_abs.detach())
    runner.iter = 3
    hook.before_train_iter(runner, 0)
    assert layer.warmup_alpha == 0.0
    out = layer(z)
    assert ((out == 0) | (out == 1)).all()
    with pytest.raises(ValueError, match="ramp must be one of"):
        HOOKS.build(dict(type='SpikeWarmupHook', ramp='tanh'))
