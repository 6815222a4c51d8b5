from types import SimpleNamespace

import copy

import pytest
import torch

from mmdet.registry import HOOKS, MODELS
from mmdet_hoyer.models.layers.neuron import recompute as spike_recompute

from test_hoyer_regularizer_hook import loss_batch, tiny_yolo_cfg


def train_step(model, data):
    """One forward/backward of the detector's loss; returns the loss and the gradients."""
    model.zero_grad()
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                           if p.grad is not None}


def test_hook_rebuilds_spike_maps_in_training_forwards_only(repo_root, monkeypatch):
    torch.manual_seed(0)
    model = MODELS.build(tiny_yolo_cfg(repo_root).model)
    model.init_weights()
    model.train()
    twin = copy.deepcopy(model)
    data = loss_batch(model)
    loss0, grads0 = train_step(model, data)

    rebuilt = []  # one entry per spike map rebuilt in backward (by whichever neuron's kernel)
    init = spike_recompute._Rebuild.__init__

    def counting_init(self, u, threshold, dtype, rebuild):
        init(self, u, threshold, dtype, lambda *a: rebuilt.append(1) or rebuild(*a))

    monkeypatch.setattr(spike_recompute._Rebuild, '__init__', counting_init)
    hook = HOOKS.build(dict(type='SpikeRecomputeHook'))
    hook.before_run(SimpleNamespace(model=twin))
    loss1, grads1 = train_step(twin, data)
    assert not spike_recompute.is_recomputing()  # the block closed with the forward
    # every conv after a spiking layer read its map back from the neuron's u
    assert len(rebuilt) >= 20
    assert torch.equal(loss0, loss1)
    assert grads0.keys() == grads1.keys()
    for name in grads0:
        assert torch.equal(grads0[name], grads1[name]), name
    # eval / no-grad forwards do not enter the block; a failing forward leaves it closed
    twin.eval()
    with torch.no_grad():
        twin(**data, mode='tensor')
    assert not spike_recompute.is_recomputing()
    twin.train()
    with pytest.raises(Exception):
        twin(**dict(data, inputs=data['inputs'][:, :1]), mode='loss')
    assert not spike_recompute.is_recomputing()
    hook.after_run(None)
    rebuilt.clear()
    train_step(twin, data)
    assert rebuilt == []  # hooks removed


def test_hook_errors_on_a_model_without_spiking_layers(repo_root):
    ann = MODELS.build(tiny_yolo_cfg(repo_root, ann=True).model)
    with pytest.raises(RuntimeError, match='SpikeRecomputeHook.*no HoyerSpike layer'):
        HOOKS.build(dict(type='SpikeRecomputeHook')).before_run(SimpleNamespace(model=ann))
