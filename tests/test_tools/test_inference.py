"""MMDetection's inference API on our models: DetInferencer / init_detector agree with
tools/test.py on the trained tiny spiking YOLOv3, work on an ANN twin and on an arbitrary image
file; tools/image_demo.py and the detection figure write their pictures."""
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmdet_hoyer.models.layers import HoyerSpike

from conftest import (assert_same_detections, run_on_checkpoint, tool_env,  # noqa: E402
                      trained_checkpoint, trained_config_file)


@pytest.fixture(scope='module')
def config_file(trained, tmp_path_factory):
    return trained_config_file(trained, tmp_path_factory.mktemp('cfg') / 'tiny_yolov3.py')


def val_images(trained, n):
    root = trained['options']['test_dataloader.dataset.data_root']
    return [f'{root}val/{i:06d}.jpg' for i in range(n)]


def test_inferencer_matches_tools_test_predictions(trained, repo_root, config_file, tmp_path):
    from mmdet.apis import DetInferencer, inference_detector, init_detector
    out = tmp_path / 'preds.pkl'
    proc = run_on_checkpoint(trained, repo_root, 'tools/test.py',
                             ['--work-dir', str(tmp_path), '--out', str(out)],
                             ('model.', 'test_', 'val_evaluator'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, 'rb') as f:
        tested = {r['img_path']: r['pred_instances'] for r in pickle.load(f)}
    assert len(tested) == 8

    images = sorted(tested)
    inferencer = DetInferencer(model=config_file, weights=trained_checkpoint(trained),
                               device='cpu')
    # a batch is padded to its largest image and the padding's activations reach the border
    # of smaller images (a spike flips where a ReLU output moves by a rounding error): compare
    # like with like, tools/test.py's batch of 8 and single images
    result = inferencer(images, batch_size=len(images), return_datasamples=True,
                        no_save_pred=True)
    single = inferencer(images, batch_size=1, return_datasamples=True, no_save_pred=True)
    model = init_detector(config_file, trained_checkpoint(trained), device='cpu')
    for path, batched, alone in zip(images, result['predictions'], single['predictions']):
        expected = tested[path]
        assert len(expected['labels']) > 0
        # the same detections up to the order of tied scores
        assert_same_detections(batched.pred_instances, expected)
        direct = inference_detector(model, path).pred_instances
        assert len(direct.labels) > 0
        assert_same_detections(direct, alone.pred_instances)


def test_inferencer_on_an_arbitrary_image_and_the_ann_twin(trained, repo_root, config_file,
                                                          tmp_path):
    """A 200x90 file that is not in any dataset (other size and aspect ratio); then the ANN
    twin's config with its own (freshly initialised) checkpoint."""
    import cv2
    from mmdet.apis import DetInferencer
    from mmdet.registry import MODELS
    rng = np.random.default_rng(0)
    image = (rng.random((90, 200, 3)) * 255).astype(np.uint8)
    image[20:60, 30:60] = 255 - image[20:60, 30:60]
    path = str(tmp_path / 'street.png')
    cv2.imwrite(path, image)

    inferencer = DetInferencer(model=config_file, weights=trained_checkpoint(trained),
                               device='cpu')
    sample = inferencer(path, no_save_pred=True, return_datasamples=True)['predictions'][0]
    assert tuple(sample.metainfo['ori_shape']) == (90, 200)
    boxes = sample.pred_instances.bboxes.numpy()
    assert len(boxes) > 0 and np.isfinite(boxes).all()
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    # boxes are in the input file's pixels (YOLOv3 does not clip them): every centre lies in
    # the network's padded input frame mapped back to the file
    h, w = sample.metainfo['batch_input_shape']
    sx, sy = sample.metainfo['scale_factor']
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    assert ((centres >= 0) & (centres <= [w / sx, h / sy])).all()
    pred = inferencer(path, no_save_pred=True)['predictions'][0]
    assert all(0 <= s <= 1 for s in pred['scores'])
    np.testing.assert_allclose(np.array(pred['bboxes']), boxes, rtol=0, atol=1e-3)

    ann_cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_relu_vgg_digits.py')
    ann_cfg.merge_from_dict({k: v for k, v in trained['options'].items()
                             if k.startswith('model.') and 'init_cfg' not in k})
    ann_cfg.model.backbone.init_cfg = None
    ann = MODELS.build(ann_cfg.model)
    ann.init_weights()
    assert not any(isinstance(m, HoyerSpike) for m in ann.modules())
    ckpt = str(tmp_path / 'ann.pth')
    classes = ann_cfg.test_dataloader.dataset.metainfo['classes']
    torch.save({'state_dict': ann.state_dict(), 'meta': {'dataset_meta': {'classes': classes}}},
               ckpt)
    ann_inf = DetInferencer(model=ann_cfg, weights=ckpt, device='cpu')
    assert ann_inf.model.dataset_meta['classes'] == tuple(str(i) for i in range(10))
    pred = ann_inf(val_images(trained, 1)[0], no_save_pred=True)['predictions'][0]
    assert len(pred['bboxes']) == len(pred['labels']) == len(pred['scores']) > 0


def test_image_demo_writes_pictures_and_predictions(trained, repo_root, config_file, tmp_path):
    images = val_images(trained, 2)
    out = tmp_path / 'out'
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/image_demo.py', *images, config_file,
         '--weights', trained_checkpoint(trained), '--out-dir', str(out),
         '--pred-score-thr', '0.0'],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ('000000', '000001'):
        assert (out / 'vis' / f'{name}.jpg').stat().st_size > 1000
        pred = json.loads((out / 'preds' / f'{name}.json').read_text())
        assert len(pred['bboxes']) == len(pred['labels']) > 0
    n_spiking = sum(isinstance(m, HoyerSpike) for m in trained['runner'].model.modules())
    assert f'{n_spiking} spiking layers, firing rate' in proc.stdout

    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/image_demo.py', str(tmp_path / 'missing.jpg'),
         config_file, '--weights', trained_checkpoint(trained)],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=300)
    assert proc.returncode != 0 and 'inputs: no such file or directory' in proc.stderr

    # an unreadable image: named alone it is an error naming it; in a folder it is skipped
    broken = tmp_path / 'folder' / 'broken.jpg'
    broken.parent.mkdir()
    broken.write_bytes(b'not a jpeg')
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/image_demo.py', str(broken), config_file,
         '--weights', trained_checkpoint(trained)],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == \
        f'error: {broken}: not a readable image (the file could not be decoded)'
    import shutil
    shutil.copy(images[0], tmp_path / 'folder' / 'good.jpg')
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/image_demo.py', str(broken.parent), config_file,
         '--weights', trained_checkpoint(trained), '--out-dir', str(tmp_path / 'out2'),
         '--no-save-vis'],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'skipped 1 unreadable image(s)' in proc.stdout
    assert (tmp_path / 'out2' / 'preds' / 'good.json').exists()


def test_detection_figure_tool(trained, repo_root, tmp_path):
    out = tmp_path / 'fig.png'
    proc = run_on_checkpoint(trained, repo_root, 'tools/analysis_tools/detection_figure.py',
                             ['--num-images', '2', '--score-thr', '0.0', '--out', str(out)],
                             ('model.', 'test_'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.stat().st_size > 10000
    # ground truth + SNN panels, then one backbone and one neck spike map
    assert 'figure written to' in proc.stdout and '(2 images; spike maps of backbone.' in proc.stdout
    assert ', neck.' in proc.stdout
