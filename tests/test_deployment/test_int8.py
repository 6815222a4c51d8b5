"""int8 post-training quantization: the quantize → dequantize bound, the integer threshold's
equivalence with the float spike on hand-made layers, activation fake quantization and the
test-time hook."""
import pytest
import torch
from torch import nn

from mmdet_hoyer.deployment.int8 import (activation_quantizer, dequantize_per_channel,
                                         fake_quantize_tensor, integer_threshold,
                                         quantize_per_channel, quantize_weights_)


def test_quantize_dequantize_is_within_half_a_step_per_channel():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(6, 4, 3, 3, generator=g) * torch.tensor([1e-3, 0.1, 1, 10, 0, 3]).reshape(
        -1, 1, 1, 1)
    q, s = quantize_per_channel(w)
    assert q.dtype == torch.int8 and q.abs().max() <= 127
    assert s.shape == (6, ) and s[4] == 1.0  # an all-zero channel: scale 1, q 0
    err = (dequantize_per_channel(q, s) - w).abs().reshape(6, -1).amax(1)
    assert bool((err <= s / 2 + 1e-12).all())
    # each nonzero channel's largest weight is exactly ±127 steps
    nz = [0, 1, 2, 3, 5]
    assert torch.equal(q.reshape(6, -1).abs().amax(1)[nz], torch.full((5, ), 127, dtype=torch.int8))
    with pytest.raises(ValueError, match='bits must be in'):
        quantize_per_channel(w, bits=1)


def test_quantization_commutes_with_a_positive_per_channel_scale():
    """Quantizing before BatchNorm = quantizing the BN-folded conv (module docstring)."""
    g = torch.Generator().manual_seed(1)
    w = torch.randn(5, 3, 3, 3, generator=g)
    a = torch.rand(5, generator=g) * 3 + 0.1
    q, s = quantize_per_channel(w)
    qf, sf = quantize_per_channel(w * a.reshape(-1, 1, 1, 1))
    assert torch.equal(q, qf)
    torch.testing.assert_close(sf, s * a)


def test_integer_threshold_fires_exactly_where_the_float_neuron_does():
    """A 1×1 conv on binary spikes, BN folded: a·Σq·x + b ≥ T  ⇔  Σq·x ≥ ceil((T − b)/a)."""
    g = torch.Generator().manual_seed(2)
    conv = nn.Conv2d(16, 4, 1, bias=False)
    with torch.no_grad():
        conv.weight.normal_(generator=g)
    q, s = quantize_per_channel(conv.weight)
    gamma, beta = torch.rand(4, generator=g) + 0.5, torch.randn(4, generator=g)
    a, b = (s * gamma).double(), beta.double()
    t = torch.full((4, ), 0.3, dtype=torch.float64)
    k = integer_threshold(t, b, a)
    x = (torch.rand(200, 16, 1, 1, generator=g) < 0.3).double()
    acc = torch.einsum('ncij,oc->no', x, q.reshape(4, 16).double())  # integers
    fires_float = (a * acc + b) >= t
    fires_int = acc >= k
    assert torch.equal(fires_float, fires_int)
    assert bool((acc == acc.round()).all())
    with pytest.raises(ValueError, match='scales must be > 0'):
        integer_threshold(t, b, -a)


def test_activation_fake_quantization_levels_and_binary_maps_untouched():
    x = torch.linspace(0, 2, 1001)
    y = fake_quantize_tensor(x, 0.0, 2.0)
    assert len(torch.unique(y)) <= 256 and (y - x).abs().max() <= 2 / 255 / 2 + 1e-6
    ys = fake_quantize_tensor(x - 1, -1.0, 1.0)
    assert len(torch.unique(ys)) <= 255 and (ys - (x - 1)).abs().max() <= 1 / 127 / 2 + 1e-6
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Conv2d(2, 2, 1))
    with torch.no_grad():  # the ReLU passes the image on (a dead ReLU would hide the rounding)
        net[0].weight.fill_(1.0)
        net[0].bias.zero_()
    quantizer = activation_quantizer(net, bits=2)
    with pytest.raises(RuntimeError, match='calibrate'), quantizer.quantizing():
        pass
    img = torch.rand(1, 1, 8, 8)
    with torch.no_grad(), quantizer.calibrating():
        ref = net(img)
    with torch.no_grad(), quantizer.quantizing():
        coarse = net(img)
    assert not torch.allclose(ref, coarse)  # 2-bit inputs change the output
    with torch.no_grad():
        assert torch.equal(net(img), ref)  # hooks gone after the block
    spikes = (torch.rand(1, 2, 8, 8) > 0.5).float()
    conv = nn.Conv2d(2, 2, 1)
    q = activation_quantizer(conv, bits=2)
    with torch.no_grad(), q.calibrating():
        ref = conv(spikes)
    with torch.no_grad(), q.quantizing():
        assert torch.equal(conv(spikes), ref)


def test_quantize_weights_changes_every_dense_layer_within_half_a_step():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Linear(4, 5))
    before = [m.weight.detach().clone() for m in net]
    changes = quantize_weights_(net)
    assert list(changes) == ['0', '1']
    for m, w in zip(net, before):
        step = w.reshape(w.shape[0], -1).abs().amax(1) / 127
        diff = (m.weight - w).abs().reshape(w.shape[0], -1).amax(1)
        assert bool((diff <= step / 2 + 1e-7).all())
        assert len(torch.unique(torch.round(m.weight.reshape(w.shape[0], -1)[0] / step[0]))) <= 255


@pytest.mark.parametrize('activations', [False, True])
def test_int8_eval_runs_the_real_test_loop_on_the_trained_checkpoint(trained, repo_root,
                                                                     tmp_path, activations):
    """tools/analysis_tools/int8_eval.py: Int8QuantizeHook in MMDetection's runner, the config's
    CocoMetric on the quantized model; with --activations the ranges come from training images."""
    import json
    import os.path as osp

    from conftest import run_on_checkpoint
    work = tmp_path / 'int8'
    args = ['--work-dir', str(work)] + (['--activations', '--calib-images', '8']
                                        if activations else [])
    proc = run_on_checkpoint(trained, repo_root, 'tools/analysis_tools/int8_eval.py', args,
                             ('model.', 'test_', 'train_dataloader', 'val_'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.load(open(osp.join(work, 'int8_metrics.json')))
    assert result['quantization']['activations'] is activations
    assert 0.0 <= result['metrics']['coco/bbox_mAP'] <= 1.0
    assert 0.0 < result['metrics']['spike_rate'] < 1.0  # the spiking layers still spike
    log = proc.stdout + proc.stderr
    assert 'conv/linear weights quantized to 8 bits' in log
    assert ('calibrated on 8 training images' in log) is activations


def test_hook_refuses_bad_settings():
    from mmdet_hoyer.engine.hooks import Int8QuantizeHook
    with pytest.raises(ValueError, match='calib_images'):
        Int8QuantizeHook(calib_images=0)
    with pytest.raises(ValueError, match='bits'):
        Int8QuantizeHook(bits=16)
