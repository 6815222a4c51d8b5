"""NIR export with 8-bit integer weights: integers on every synaptic conv, one scale per
channel shared by the convs summed into one neuron, and parity in every consumer with the
PyTorch model quantized to the same weights (tiny YOLOv3 / SSD, hand-made rules)."""
import copy

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip('nir')
pytest.importorskip('snntorch')
pytest.importorskip('norse')

from mmdet_hoyer.deployment import ExportableDetector  # noqa: E402
from mmdet_hoyer.deployment.int8 import quantize_weights_  # noqa: E402
from mmdet_hoyer.deployment.nir_int8 import channel_factors, export_nir_int8  # noqa: E402
from mmdet_hoyer.models.layers import FoldedSpike  # noqa: E402

from test_nir_export import (assert_parity, make_rules, round_trip, run_all,  # noqa: E402
                             tiny_detector)

#: nodes the int8 graph adds, which hold scales rather than synaptic weights
SCALE_ROLES = ('dequantize', 'threshold_offset')


def synaptic_convs(export):
    return {k: n for k, n in export.graph.nodes.items()
            if hasattr(n, 'weight') and export.node_meta[k]['role'] not in SCALE_ROLES}


def assert_integer_weights(export):
    for name, node in synaptic_convs(export).items():
        assert np.array_equal(node.weight, np.round(node.weight)), name
        assert np.abs(node.weight).max() <= 127, name


def folded(m, conv, bn):
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (conv.weight * a[:, None, None, None]).detach()


def test_rules_graph_is_exact_against_the_quantized_model(tmp_path):
    m = make_rules()
    q = copy.deepcopy(m)
    x = torch.rand(2, 3, 16, 16)
    export, changes = export_nir_int8(q, lambda d, x: d.forward(x), x, ['o4', 'o5'])
    export = round_trip(export, tmp_path)
    assert set(changes) == {'c1', 'c2', 'c3', 'c4', 'c5'}
    assert_integer_weights(export)
    meta = export.node_meta
    # c1 and c2 sum into s2 (a membrane shortcut): one scale per channel, the larger need
    s1, s2 = np.array(meta['c1']['int8_scale']), np.array(meta['c2']['int8_scale'])
    assert np.array_equal(s1, s2)
    need = np.maximum(folded(m, m.c1, m.b1).abs().amax((1, 2, 3)).numpy(),
                      folded(m, m.c2, m.b2).abs().amax((1, 2, 3)).numpy()) / 127
    np.testing.assert_allclose(s1, need, rtol=1e-5)
    # each weight moved by at most half a step of its channel's scale
    for conv, bn, s in (('c1', 'b1', s1), ('c2', 'b2', s2)):
        moved = folded(q, getattr(q, conv), getattr(q, bn)) - \
            folded(m, getattr(m, conv), getattr(m, bn))
        step = torch.from_numpy(s).float()[:, None, None, None]
        assert (moved.abs() <= step / 2 + 1e-6).all(), conv
    # the concatenation's two parts share c4's scale; every spiking IF fires on v > 0
    assert meta['c4.in0']['int8_scale'] == meta['c4.in1']['int8_scale']
    for layer in ('s1', 's2', 's3', 's4'):
        assert not export.graph.nodes[export.spike_nodes[layer]].v_threshold.any(), layer
    # s1 and s2 share their sources (c1 feeds both): their thresholds become offset nodes
    assert {'s1.offset', 's2.offset'} <= set(export.graph.nodes)
    with torch.no_grad():
        ref, ref_float = q(x), m(x)
    for c, values in run_all(export, x).items():
        for name, r in zip(export.outputs, ref):
            assert torch.equal(values[name], r), (c, name)
    assert any(not torch.equal(a, b) for a, b in zip(ref, ref_float))  # weights did change


class Chain(nn.Module):
    """conv → BN → spike twice, no shortcut, then a conv output."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.s1, self.s2 = FoldedSpike(torch.tensor(0.3)), FoldedSpike(torch.tensor(0.4))
        self.head = nn.Conv2d(8, 5, 1)

    def forward(self, x):
        return self.head(self.s2(self.b2(self.c2(self.s1(self.b1(self.c1(x)))))))


def test_without_shortcuts_the_scales_are_int8_evals_per_conv_scales(tmp_path):
    """Per-channel quantization commutes with BN's per-channel scale, so a network without
    membrane sums gets exactly what int8_eval.py (quantize_weights_) evaluates."""
    torch.manual_seed(0)
    m = Chain()
    for bn in (m.b1, m.b2):
        bn.weight.data.uniform_(-1.5, 1.5)  # negative scales too
        bn.running_var.uniform_(0.2, 1.0)
    m.eval()
    graph_model, hook_model = copy.deepcopy(m), copy.deepcopy(m)
    x = torch.rand(2, 3, 12, 12)
    export, _ = export_nir_int8(graph_model, lambda d, x: d.forward(x), x, ['out'])
    quantize_weights_(hook_model)
    for name in ('c1', 'c2', 'head'):
        torch.testing.assert_close(getattr(graph_model, name).weight,
                                   getattr(hook_model, name).weight, rtol=1e-5, atol=1e-7)
    # the head's output leaves the graph through its dequantize node
    assert export.node_meta['out.dequantize']['role'] == 'dequantize'
    export = round_trip(export, tmp_path)
    assert_integer_weights(export)
    with torch.no_grad():
        ref = graph_model(x)
    for c, values in run_all(export, x).items():
        torch.testing.assert_close(values['out'], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name,backbone', [
    ('ssd160_hoyer_vgg_digits', dict(widening_shortcut=True)),
    ('yolov3_hoyer_vgg_digits', dict(pool_on='pre_activation')),
])
def test_tiny_detectors_int8_parity_in_every_consumer(repo_root, tmp_path, name, backbone):
    """Membrane streams across every stage (padded where the width grows), and analog max
    pools on the host (which divides its result by the scale of what it sums with)."""
    model = tiny_detector(repo_root, name, **backbone)
    x = torch.rand(2, 3, *((128, 128) if 'yolov3' in name else (160, 160)))
    wrapper = ExportableDetector(model)
    with torch.no_grad():
        wrapper(x)
    n = sum(wrapper.levels)
    export, _ = export_nir_int8(wrapper.detector, lambda d, x: d(x, mode='tensor'), x,
                                wrapper.output_names[:n])
    with torch.no_grad():
        ref = wrapper(x)
    export = round_trip(export, tmp_path)
    assert_integer_weights(export)
    if 'ssd' in name:  # the stream's scale passes through each channel padding unchanged
        pads = [k for k, v in export.node_meta.items() if v['role'] == 'pad_channels']
        w = export.graph.nodes[pads[0]].weight
        c = w.shape[1]
        assert np.array_equal(w[:c, :, 0, 0], np.eye(c)) and not w[c:].any()
    else:
        assert any('divided by the int8 scale' in h.reason for h in export.host_ops)
    assert_parity(wrapper, ref, n, export, x)


def test_channel_factors_and_bad_bits():
    w = np.zeros((3, 2, 2, 2))
    w[0, 0], w[1, 1] = 0.25, -2.0  # channel 2: padding, reads nothing
    np.testing.assert_array_equal(channel_factors(w), [0.25, -2.0, 0.0])
    w[1, 1, 0, 0] = 1.0  # unequal weights: not a pass-on conv
    assert channel_factors(w) is None
    with pytest.raises(ValueError, match='bits must be in'):
        export_nir_int8(Chain().eval(), lambda d, x: d(x), torch.rand(1, 3, 8, 8), ['out'],
                        bits=12)


def test_export_tool_writes_integer_weights(trained, repo_root, tmp_path):
    """``export_nir.py --int8-weights`` on the trained tiny checkpoint: the written graph
    holds integers, every consumer is exact against the quantized PyTorch model, and
    ``--eval`` scores the int8 graph with the config's metric."""
    import json

    import nir

    from conftest import run_on_checkpoint
    report = tmp_path / 'nir.json'
    proc = run_on_checkpoint(trained, repo_root, 'tools/deployment/export_nir.py',
                             ['--out', str(tmp_path / 'm.nir'), '--int8-weights', '--eval',
                              '--consumers', 'snntorch', 'norse', '--report', str(report)],
                             ('model.', 'test_', 'val_evaluator'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'int8 weights:' in proc.stdout and 'check: passed' in proc.stdout
    with open(report) as f:
        r = json.load(f)
    assert r['int8_weights'] and all(c['ok'] for c in r['consumers'].values())
    assert 0.0 <= r['eval']['coco/bbox_mAP'] <= 1.0
    graph = nir.read(str(tmp_path / 'm.nir'))
    assert 'int8_weights' in graph.metadata
    weights = [n.weight for k, n in graph.nodes.items() if hasattr(n, 'weight') and
               not k.endswith(('.dequantize', '.offset'))]
    assert weights and all(np.array_equal(w, np.round(w)) for w in weights)
