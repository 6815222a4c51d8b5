"""NIR export: each rewrite rule against PyTorch with values, the round trip through
nir.write/nir.read, and parity in snnTorch and Norse (and nirtorch's plain map) on tiny
untrained YOLOv3, SSD and HoyerResNet models whose BN statistics and running thresholds were
run to their running values first (non-zero firing)."""
import copy
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

pytest.importorskip('nir')
pytest.importorskip('snntorch')
pytest.importorskip('norse')
import nir  # noqa: E402

from mmdet.registry import MODELS  # noqa: E402
from mmdet_hoyer.deployment import ExportableDetector, fold_neurons  # noqa: E402
from mmdet_hoyer.deployment.nir_graph import export_nir  # noqa: E402
from mmdet_hoyer.deployment.nir_run import GraphRunner  # noqa: E402
from mmdet_hoyer.models.layers import FoldedSpike  # noqa: E402

from conftest import run_on_checkpoint, shrink_demo_detector  # noqa: E402

CONSUMERS = ('snntorch', 'norse', 'nirtorch')


def round_trip(export, tmp_path):
    path = str(tmp_path / 'g.nir')
    nir.write(path, export.graph)
    export.graph = nir.read(path)
    return export


def run_all(export, x):
    """Every node's output in each consumer."""
    return {c: GraphRunner(export, c)(x) for c in CONSUMERS}


# ---------------------------------------------------------------- rules on small modules
class Rules(nn.Module):
    """conv → BN → spike (two units summed as a membrane shortcut) → max pool (OR) →
    concatenation with a second branch → conv → spike; and conv → max pool (3×3/2, pad 1) →
    BN with negative-scale channels → spike (ResNet's stem: commuted as OR / AND)."""

    def __init__(self, c=6):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.s1, self.s2 = FoldedSpike(torch.tensor(0.3)), FoldedSpike(torch.tensor(0.5))
        self.pool = nn.MaxPool2d(2, 2)
        self.c3 = nn.Conv2d(3, c, 3, stride=2, padding=1)
        self.s3 = FoldedSpike(torch.tensor(0.2))
        self.c4 = nn.Conv2d(2 * c, c, 1)
        self.s4 = FoldedSpike(torch.tensor(0.4))
        self.c5 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.pool5 = nn.MaxPool2d(3, 2, padding=1)
        self.b5 = nn.BatchNorm2d(c)
        self.s5 = FoldedSpike(torch.tensor(0.1))

    def forward(self, x):
        z1 = self.b1(self.c1(x))
        o1 = self.s1(z1)
        o2 = self.s2(z1 + self.b2(self.c2(o1)))  # membrane shortcut: m2 = m1 + z2
        pooled = self.pool(o2)  # max of spikes: their OR
        branch = self.s3(self.c3(x))
        o4 = self.s4(self.c4(torch.cat([pooled, branch], 1)))  # split along input channels
        o5 = self.s5(self.b5(self.pool5(self.c5(x))))  # analog max pool → BN → neuron
        return o4, o5


def make_rules():
    torch.manual_seed(0)
    m = Rules()
    for bn in (m.b1, m.b2, m.b5):
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.normal_(0, 0.3)
        bn.running_mean.normal_(0, 0.3)
        bn.running_var.uniform_(0.2, 1.0)
    m.b5.weight.data[::2] *= -1  # negative-scale channels: the max pool becomes a min
    return m.eval()


def test_each_rule_is_exact_in_every_consumer(tmp_path):
    m = make_rules()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        ref = m(x)
    export = round_trip(export_nir(m, lambda d, x: d.forward(x), x, ['o4', 'o5']), tmp_path)
    metas = export.node_meta
    roles = [v['role'] for v in metas.values()]
    assert not export.host_ops
    # BN folded into the conv before it; the membrane sum is two edges into one IF
    assert metas['c1']['folded_bn'] == 'b1' and 'bn' not in roles
    sources = [s for s, d in export.graph.edges if d == export.spike_nodes['s2']]
    assert len(sources) == 2
    # the OR of the pooled spikes; the concatenation split into two convs into one neuron
    assert export.pool_nodes == {'pool': 'pool'}
    assert {'c4.in0', 'c4.in1'} <= set(export.graph.nodes)
    # the commuted pool: the window sum − 1 (OR) where BN's scale is positive, the sum − the
    # window's positions inside the map (AND) where it is negative, one threshold −0.5
    assert np.all(export.graph.nodes[export.spike_nodes['s5']].v_threshold == -0.5)
    assert list(export.graph.nodes['pool5.sum'].bias) == [0.0, -1.0] * 3
    count = torch.nn.functional.conv2d(torch.ones(1, 1, 16, 16), torch.from_numpy(
        export.graph.nodes['pool5.count'].weight), stride=2, padding=1)[0]
    assert count[0, 0, 0] == -4 and count[0, 1, 1] == -9 and count[1].abs().sum() == 0
    for c, values in run_all(export, x).items():
        for name, r in zip(export.outputs, ref):
            assert torch.equal(values[name], r), (c, name)
        assert 0.05 < float(values[export.spike_nodes['s5']].mean()) < 0.95, c


def test_threshold_tie_fires_exactly_as_pytorch(tmp_path):
    """NIR fires on v > θ, the project on z ≥ T: θ is the float32 just below T."""
    t = torch.tensor(0.7)

    class One(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 1, bias=False)
            self.conv.weight.data.fill_(1.0)
            self.spike = FoldedSpike(t)

        def forward(self, x):
            return self.spike(self.conv(x))

    m = One().eval()
    below = torch.nextafter(t, torch.tensor(-1.0))
    above = torch.nextafter(t, torch.tensor(2.0))
    x = torch.stack([t, below, above, torch.tensor(0.0)]).reshape(1, 1, 2, 2)
    export = round_trip(export_nir(m, lambda d, x: d.forward(x), x, ['out']), tmp_path)
    assert np.all(export.graph.nodes['spike'].v_threshold == below.item())
    for c, values in run_all(export, x).items():
        assert values['out'].flatten().tolist() == [1.0, 0.0, 1.0, 0.0], c


# ---------------------------------------------------------------- tiny detectors
def warmed(model, size, n=30):
    """BN statistics and running thresholds run to their running values (training-mode
    forwards), then eval."""
    model.train()
    with torch.no_grad():
        for _ in range(n):
            model.extract_feat(torch.rand(4, 3, *size))
    return model.eval()


def tiny_detector(repo_root, name, pool_on='spikes', **backbone):
    cfg = Config.fromfile(f'{repo_root}/configs/demo/{name}.py')
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.pool_on = pool_on
    cfg.model.backbone.update(backbone)
    shrink_demo_detector(cfg, 0.125)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return warmed(model, (128, 128) if 'yolov3' in name else (160, 160))


def export_detector(model, x, tmp_path):
    wrapper = ExportableDetector(model)
    with torch.no_grad():
        ref = wrapper(x)
    n = sum(wrapper.levels)
    export = export_nir(wrapper.detector, lambda d, x: d(x, mode='tensor'), x,
                        wrapper.output_names[:n])
    return wrapper, ref, n, round_trip(export, tmp_path)


def assert_parity(wrapper, ref, n, export, x):
    rates = []
    for c, values in run_all(export, x).items():
        for name, r in zip(export.outputs, ref[:n]):
            torch.testing.assert_close(values[name], r, rtol=1e-4, atol=1e-4)
        for layer, r in zip(wrapper.spiking_layers, ref[n:]):
            assert torch.equal(values[export.spike_nodes[layer]], r), (c, layer)
        rates.append(float(sum(r.sum() for r in ref[n:]) / sum(r.numel() for r in ref[n:])))
    assert rates[0] > 0.05  # the thresholds run to their running values: the layers fire


@pytest.mark.parametrize('name', ['yolov3_hoyer_vgg_digits', 'ssd160_hoyer_vgg_digits'])
def test_tiny_detectors_with_spike_pooling_run_in_every_consumer(repo_root, tmp_path, name):
    model = tiny_detector(repo_root, name)
    x = torch.rand(2, 3, *((128, 128) if 'yolov3' in name else (160, 160)))
    wrapper, ref, n, export = export_detector(model, x, tmp_path)
    assert len(export.spike_nodes) == len(wrapper.spiking_layers)
    hosted = sorted(h.op.split('(')[0] for h in export.host_ops)
    # YOLOv3's neck upsamples twice (no NIR node for it); everything else is in the graph
    assert hosted == (['interpolate', 'interpolate'] if 'yolov3' in name else [])
    assert_parity(wrapper, ref, n, export, x)


def test_widening_shortcut_pads_channels_in_the_graph(repo_root, tmp_path):
    """The SSD with membrane streams across every stage boundary (zero-padded where the width
    grows, conv5_3 into fc6 included) and spike pooling is still one exact graph: each channel
    padding is a 1×1 conv that embeds the channels."""
    model = tiny_detector(repo_root, 'ssd160_hoyer_vgg_digits', widening_shortcut=True)
    x = torch.rand(2, 3, 160, 160)
    wrapper, ref, n, export = export_detector(model, x, tmp_path)
    assert not export.host_ops
    pads = [k for k, v in export.node_meta.items() if v['role'] == 'pad_channels']
    assert len(pads) == 4  # stages 1, 2, 3 and fc6
    w = export.graph.nodes[pads[0]].weight
    c = w.shape[1]
    assert w.shape[0] > c and np.array_equal(w[:c, :, 0, 0], np.eye(c)) and not w[c:].any()
    assert_parity(wrapper, ref, n, export, x)


def test_operations_count_the_consumers_spikes(repo_root, tmp_path):
    """The graph's synaptic operations equal spike_stats' count with PyTorch's spiking layers
    forced to the consumer's spikes, also where a spike differs (a threshold tie: here one
    flipped by hand), which the free-running count would charge to every later layer."""
    from mmdet_hoyer.deployment.nir_check import (compare_operations, graph_operations,
                                                  torch_operations)
    model = tiny_detector(repo_root, 'yolov3_hoyer_vgg_digits')
    x = torch.rand(2, 3, 128, 128)
    wrapper, _, _, export = export_detector(model, x, tmp_path)
    values = GraphRunner(export, 'snntorch')(x)
    layer = wrapper.spiking_layers[4]  # stage 2, conv 0: read by conv 1 (no pool between)
    node = export.spike_nodes[layer]
    values[node] = values[node].clone()
    values[node].view(-1)[0] = 1 - values[node].view(-1)[0]  # one spike as a tie would flip
    graph_ops = graph_operations(export, values, x.shape[0])
    forced = [values[export.spike_nodes[n]] for n in wrapper.spiking_layers]
    same = compare_operations(graph_ops, torch_operations(wrapper, x, forced))
    assert same['ok'] and same['max_rel_diff'] < 1e-6, same['max_rel_diff']
    free = compare_operations(graph_ops, torch_operations(wrapper, x))
    assert free['max_rel_diff'] > 0  # the flipped spike's fan-out


def test_default_pooling_lists_what_it_cannot_export(repo_root, tmp_path):
    model = tiny_detector(repo_root, 'yolov3_hoyer_vgg_digits', pool_on='pre_activation')
    x = torch.rand(2, 3, 128, 128)
    wrapper, ref, n, export = export_detector(model, x, tmp_path)
    pools = [h for h in export.host_ops if 'MaxPool2d' in h.op]
    # each of stages 1-3's pool of its last conv and of the membrane stream: max of analog
    # sums; the demo reads conv4_3 / conv5_3 before their pools (tap_before_pool), which pool
    # spikes (pool4 at conv5_1's input, pool5 in the sixth stage) and stay in the graph
    assert len(pools) == 6 and all("pool_on='spikes'" in h.reason for h in pools)
    assert_parity(wrapper, ref, n, export, x)  # exact, with those pools on the host


def test_hoyer_resnet_backbone_and_neck(repo_root, tmp_path):
    """Faster R-CNN's HoyerResNet + spiking FPN as far as NIR goes: the stem's analog max
    pool commutes with the BN and neurons after it; FPN's upsampling stays on the host."""
    cfg = Config.fromfile(f'{repo_root}/configs/faster-rcnn_hoyer_r50-fpn.py')
    cfg.model.backbone.update(init_cfg=None, widen_factor=0.125)  # ResNet-50 at 1/8 width
    cfg.model.neck.update(in_channels=[32, 64, 128, 256], out_channels=16)
    cfg.model.rpn_head.in_channels = cfg.model.roi_head.bbox_roi_extractor.out_channels = 16
    cfg.model.roi_head.bbox_head.in_channels = 16
    torch.manual_seed(0)
    det = MODELS.build(cfg.model)
    det.init_weights()
    for m in det.backbone.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data[::3] *= -1  # some negative-scale channels
    det = copy.deepcopy(warmed(det, (96, 96)))
    names = fold_neurons(det)
    x = torch.rand(2, 3, 96, 96)
    spikes = {}
    for name in names:
        det.get_submodule(name).register_forward_hook(
            lambda m, a, o, name=name: spikes.__setitem__(name, o))
    with torch.no_grad():
        feats = det.extract_feat(x)
    export = round_trip(export_nir(det, lambda d, x: d.extract_feat(x), x,
                                   [f'feats.{i}' for i in range(len(feats))]), tmp_path)
    assert all(h.op.startswith('interpolate') for h in export.host_ops)
    assert any(v['role'] == 'spike_pooled' for v in export.node_meta.values())
    for c, values in run_all(export, x).items():
        for i, f in enumerate(feats):
            torch.testing.assert_close(values[f'feats.{i}'], f, rtol=1e-4, atol=1e-4)
        for name in names:
            assert torch.equal(values[export.spike_nodes[name]], spikes[name]), (c, name)


def test_export_tool_on_the_trained_tiny_checkpoint(trained, repo_root, tmp_path):
    """The CLI: graph written, both consumers exact layer by layer, the same boxes, the graph's
    operation count equal to spike_stats.py's, and --eval's metric equal to PyTorch's."""
    report = tmp_path / 'nir.json'
    proc = run_on_checkpoint(trained, repo_root, 'tools/deployment/export_nir.py',
                             ['--out', str(tmp_path / 'm.nir'), '--num-images', '3', '--eval',
                              '--report', str(report)],
                             ('model.', 'test_', 'val_evaluator'))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'NOT EXPORTED interpolate' in proc.stdout and 'check: passed' in proc.stdout
    with open(report) as f:
        r = json.load(f)
    for c in ('snntorch', 'norse'):
        assert r['consumers'][c]['ok'] and r['consumers'][c]['spikes']['non_tie_mismatches'] == 0
        assert r['consumers'][c]['detections']['same']
    ops = r['operations']
    assert ops['ok'] and ops['graph']['acs'] == pytest.approx(ops['torch']['acs'], rel=1e-6)
    assert ops['graph']['macs'] == pytest.approx(ops['torch']['macs'], rel=1e-6)
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50'):
        assert r['eval'][key] == pytest.approx(trained['metrics'][key], abs=1e-3), key
    assert osp.isfile(tmp_path / 'm.nir') and nir.read(str(tmp_path / 'm.nir')).nodes
    # a wrong output name is a clear error
    proc = subprocess.run([sys.executable, f'{repo_root}/tools/deployment/export_nir.py',
                           'c.py', 'x.pth', '--out', 'm.onnx'], capture_output=True, text=True,
                          cwd=repo_root)
    assert proc.returncode != 0 and '.nir' in proc.stderr and 'Traceback' not in proc.stderr
