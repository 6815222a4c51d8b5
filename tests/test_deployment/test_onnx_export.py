"""ONNX export of spiking detectors, checked with onnxruntime: the tiny trained YOLOv3 through
the command-line tool, a tiny SSD in process, and the errors for layers that cannot go in."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmdet_hoyer.deployment import (ExportableDetector, ExportError, check_onnx,
                                    compare_spikes, export_onnx, preprocess_images,
                                    run_onnxruntime)
from mmdet_hoyer.models.layers import FoldedSpike, HoyerSpike, MultiStepLIF

from conftest import shrink_demo_detector, tool_env, trained_checkpoint  # noqa: E402

W = 0.125


def tiny_detector(repo_root, name, data_root=None):
    """A 1/8-width demo detector with random weights and a trained-looking eval state: random
    BN statistics, thresholds θ and running extrema (so spikes are neither all 0 nor all 1)."""
    from mmdet.apis import init_detector
    cfg = Config.fromfile(f'{repo_root}/configs/demo/{name}.py')
    cfg.model.backbone.init_cfg = None
    shrink_demo_detector(cfg, W)
    cfg.model.test_cfg.score_thr = 0.0  # keep every box: NMS runs on real candidates
    if data_root:
        cfg.test_dataloader.dataset.data_root = data_root + '/'
    torch.manual_seed(0)
    model = init_detector(cfg, None, device='cpu')
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
            if isinstance(m, HoyerSpike):
                m.threshold.fill_(float(torch.empty(()).uniform_(0.5, 1.5, generator=g)))
                m.running_extremum.uniform_(0.2, 0.8, generator=g)
    return model.eval()


def test_ssd_export_matches_pytorch(repo_root, tiny_digits, tmp_path):
    model = tiny_detector(repo_root, 'ssd160_hoyer_vgg_digits', tiny_digits)
    images = [f'{tiny_digits}/val/{i:06d}.jpg' for i in range(3)]
    inputs, samples = preprocess_images(model, images)
    wrapper = ExportableDetector(model)
    n_spiking = sum(isinstance(m, HoyerSpike) for m in model.modules())
    assert len(wrapper.spiking_layers) == n_spiking > 0
    # the original model keeps its neurons; the copy has folded ones
    assert sum(isinstance(m, FoldedSpike) for m in wrapper.modules()) == n_spiking
    assert sum(isinstance(m, HoyerSpike) for m in model.modules()) == n_spiking
    path = str(tmp_path / 'ssd.onnx')
    names = export_onnx(wrapper, inputs, path, metadata={'classes': 'x'})
    assert names[:2] == ['cls_scores.0', 'cls_scores.1'] and 'bbox_preds.0' in names
    assert len([n for n in names if n.startswith('spikes/')]) == n_spiking

    report = check_onnx(model, wrapper, path, inputs, samples)
    assert report['ok'], report
    spikes = report['spikes']
    assert spikes['binary'] and spikes['num_layers'] == n_spiking
    assert 0.01 < spikes['firing_rate'] < 0.99 and spikes['non_tie_mismatches'] == 0
    assert report['detections']['same'] and all(c > 0 for c in report['detections']['counts'])
    free = report['free_running']  # end to end, detections differ only where spikes flipped
    assert all(same or flipped for same, flipped in
               zip(free['detections']['same_images'], free['flipped_images']))

    # the check can fail: a graph whose layer computes something else (here: a threshold off
    # by 0.05 in PyTorch's copy, as a wrong fold would be) is caught layer by layer
    layer = wrapper.detector.get_submodule(wrapper.spiking_layers[3])
    layer.firing_threshold += 0.05
    bad = check_onnx(model, wrapper, path, inputs, samples)
    assert not bad['ok'] and bad['spikes']['non_tie_mismatches'] > 0
    assert bad['spikes']['layers'][3]['non_tie_mismatches'] > 0
    assert all(x['non_tie_mismatches'] == 0 for x in bad['spikes']['layers'][:3])

    import onnx
    graph = onnx.load(path)
    ops = [n.op_type for n in graph.graph.node]
    # each neuron: compare + cast with its folded threshold as a constant, no division
    assert ops.count('GreaterOrEqual') == n_spiking and ops.count('Cast') >= n_spiking
    assert 'Div' not in ops
    assert {p.key: p.value for p in graph.metadata_props}['classes'] == 'x'


@pytest.mark.parametrize('with_spikes', [True, False])
def test_ann_twin_and_head_only_exports(repo_root, tiny_digits, tmp_path, with_spikes):
    """The ANN twin (no spiking layer) and a spiking model exported without its spike maps:
    nothing to check layer by layer, so the check is end to end."""
    name = 'yolov3_relu_vgg_digits' if with_spikes else 'yolov3_hoyer_vgg_digits'
    model = tiny_detector(repo_root, name, tiny_digits)
    inputs, samples = preprocess_images(model, [f'{tiny_digits}/val/000000.jpg'])
    wrapper = ExportableDetector(model, with_spikes=with_spikes)
    path = str(tmp_path / 'm.onnx')
    names = export_onnx(wrapper, inputs, path)
    assert names == ['pred_maps.0', 'pred_maps.1', 'pred_maps.2']
    report = check_onnx(model, wrapper, path, inputs, samples)
    assert report['ok'] and report['free_running']['detections']['same']
    if with_spikes:  # the ANN
        assert report['spikes']['num_layers'] == 0 and wrapper.spiking_layers == []
    else:
        assert report['spikes'] is None and len(wrapper.spiking_layers) > 0


def test_compare_spikes_tells_ties_from_errors():
    z = torch.tensor([[[[0.5, 0.50001, 0.9, 0.1]]]])
    thr = torch.tensor(0.5)
    pytorch = (z >= thr).float()  # 1, 1, 1, 0
    onnx = np.array([[[[0.0, 1.0, 1.0, 1.0]]]], dtype=np.float32)  # first: tie, last: error
    r = compare_spikes([onnx], [pytorch], [z], [thr], ['x'])
    assert r['mismatches'] == 2 and r['non_tie_mismatches'] == 1
    assert r['binary'] and r['firing_rate'] == 0.75
    r = compare_spikes([onnx * 0.5], [pytorch], [z], [thr], ['x'])
    assert not r['binary']


def test_yolov3_export_tool_on_the_trained_checkpoint(trained, repo_root, tmp_path):
    """The command-line tool on the trained tiny YOLOv3 (traced and checked on the first two val
    images, evaluated on all eight), then the graph at another batch size (the batch dimension
    is dynamic) against PyTorch."""
    from mmdet.apis import init_detector

    from conftest import trained_config_file  # noqa: E402
    config = trained_config_file(trained, tmp_path / 'tiny_yolov3.py')
    ckpt = trained_checkpoint(trained)
    out, report_path = tmp_path / 'yolo.onnx', tmp_path / 'report.json'
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/deployment/export_onnx.py', config, ckpt,
         '--out', str(out), '--num-images', '2', '--report', str(report_path), '--eval'],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    n_spiking = sum(isinstance(m, HoyerSpike) for m in trained['runner'].model.modules())
    assert report['ok'] and report['input_shape'] == [2, 3, 128, 128]
    assert report['spikes']['num_layers'] == n_spiking and report['spikes']['binary']
    assert report['detections']['same']
    assert f'{n_spiking} spiking layers' in proc.stdout and 'check: passed' in proc.stdout
    assert f"firing rate {report['spikes']['firing_rate']:.4f}" in proc.stdout
    # --eval: CocoMetric on the ONNX predictions of the 8 val images, against the PyTorch
    # model's validation. Not bit-equal in general: a pre-activation on a threshold may fire in
    # one runtime only (see mmdet_hoyer/deployment/onnx_check.py), hence the tolerance
    onnx_eval = report['eval']
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50'):
        assert onnx_eval[key] == pytest.approx(trained['metrics'][key], abs=0.02), key
    assert onnx_eval['spike_rate'] == pytest.approx(trained['metrics']['spike_rate'], abs=2e-3)

    model = init_detector(config, ckpt, device='cpu')
    images = [f"{trained['options']['test_dataloader.dataset.data_root']}val/{i:06d}.jpg"
              for i in range(5)]
    inputs, _ = preprocess_images(model, images)
    wrapper = ExportableDetector(model)
    with torch.no_grad():
        expected = wrapper(inputs)
    got = run_onnxruntime(str(out), inputs)  # batch 5, exported at batch 2
    assert len(got) == len(expected)
    for o, e in zip(got, expected):
        np.testing.assert_allclose(o, e.numpy(), rtol=1e-3, atol=1e-4)


def test_layers_that_cannot_be_exported_are_named(repo_root):
    model = tiny_detector(repo_root, 'yolov3_hoyer_vgg_digits')
    model.backbone.stages[1][0].act = MultiStepLIF(time_steps=2)
    with pytest.raises(ExportError, match=r'backbone\.stages\.1\.0\.act \(MultiStepLIF\)'):
        ExportableDetector(model)


class DataDependent(nn.Module):
    """Python control flow on a tensor's value: not traceable into a static graph."""

    def forward(self, x):
        return x * 2 if float(x.sum()) > 0 else x


def test_a_layer_that_fails_to_trace_is_named(repo_root, tmp_path):
    model = tiny_detector(repo_root, 'yolov3_hoyer_vgg_digits')
    model.neck.detect2.conv3.conv = nn.Sequential(model.neck.detect2.conv3.conv, DataDependent())
    wrapper = ExportableDetector(model)
    with pytest.raises(ExportError, match=r"layer 'neck\.detect2\.conv3\.conv\.1' "
                                          r'\(DataDependent\)'):
        export_onnx(wrapper, torch.randn(1, 3, 128, 128), str(tmp_path / 'x.onnx'))


def test_two_stage_detectors_are_refused(repo_root):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(f'{repo_root}/configs/faster-rcnn_hoyer_r50-fpn.py')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    with pytest.raises(ExportError, match='single-stage'):
        ExportableDetector(model)


def test_detections_tied_at_the_cut_count_as_the_same():
    """max_per_img picks among equal scores by float noise: boxes tied at the last kept score
    may differ between two runs; a box above the cut may not."""
    from mmengine.structures import InstanceData

    from mmdet_hoyer.deployment import compare_detections

    def dets(boxes, scores, labels):
        return InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32),
                            scores=torch.tensor(scores), labels=torch.tensor(labels))

    a = dets([[0, 0, 5, 5], [1, 1, 6, 6], [2, 2, 7, 7]], [0.9, 0.2, 0.2], [0, 1, 2])
    tied = dets([[0, 0, 5, 5], [3, 3, 8, 8], [1, 1, 6, 6]], [0.9, 0.2 + 1e-7, 0.2], [0, 3, 1])
    r = compare_detections([a], [tied])
    assert r['same'] and r['tied_images'] == [0]
    moved = dets([[0, 0, 9, 9], [1, 1, 6, 6], [2, 2, 7, 7]], [0.9, 0.2, 0.2], [0, 1, 2])
    assert not compare_detections([a], [moved])['same']
    assert compare_detections([a], [a]) == dict(compare_detections([a], [a]), tied_images=[])
