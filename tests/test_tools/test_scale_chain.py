"""The full-scale two-stage recipe end to end, at tiny sizes.

Stage 1 runs ``configs/pretrain/cls_hoyer_vgg16_in1k.py`` (MMPretrain's ImageNet dataset and
pipeline, ImageClassifier, Accuracy) on an ImageNet-layout folder of demo crops; stage 2 runs
the full-scale ``configs/yolov3_hoyer_vgg.py`` (COCO layout) and
``configs/yolov3_hoyer_vgg_voc0712.py`` (VOC07+12 layout): each loads that checkpoint with no
missing or unexpected backbone key, trains two iterations and is evaluated by
``tools/test.py`` with MMDetection's metric. ``--cfg-options`` change only data paths, batch
sizes, workers and iterations (dataset ``indices``, one epoch); the networks, input sizes,
pipelines and 80/20-class heads are the full configs'. The tiny detection sets name their ten
classes with COCO's and VOC's first ten category names so the packaged metainfo applies. The
ResNet-50 stage 1 and the Faster R-CNN/SSD backbones are checked for loading likewise.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmdet.datasets import CocoDataset
from mmdet.registry import MODELS
from mmdet_hoyer.datasets import coco_to_voc

from conftest import tool_env

COCO_NAMES = CocoDataset.METAINFO['classes']  # all 80: CocoMetric maps labels through them
VOC_NAMES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair',
             'cow')


def renamed(src: str, dst: str, names) -> str:
    """The digits json with categories 1..N named ``names`` (digit d is category d + 1)."""
    with open(src) as f:
        coco = json.load(f)
    coco['categories'] = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    with open(dst, 'w') as f:
        json.dump(coco, f)
    return dst


@pytest.fixture(scope='module')
def layouts(tiny_digits, tmp_path_factory):
    """The tiny digits set in COCO 2017's and VOC07+12's layouts (standard class names)."""
    root = tmp_path_factory.mktemp('layouts')
    coco = root / 'coco'
    (coco / 'annotations').mkdir(parents=True)
    for split in ('train', 'val'):
        os.symlink(osp.join(tiny_digits, split), coco / f'{split}2017')
        renamed(f'{tiny_digits}/annotations/instances_{split}.json',
                str(coco / 'annotations' / f'instances_{split}2017.json'), COCO_NAMES)
    voc = root / 'voc'
    voc.mkdir()
    os.symlink(osp.join(tiny_digits, 'train'), voc / 'trainval')
    os.symlink(osp.join(tiny_digits, 'val'), voc / 'test')
    jsons = {s: renamed(f'{tiny_digits}/annotations/instances_{src}.json',
                        str(voc / f'{s}.json'), VOC_NAMES)
             for s, src in (('trainval', 'train'), ('test', 'val'))}
    coco_to_voc(str(voc), jsons, year='2007')
    coco_to_voc(str(voc), {'trainval': jsons['trainval']}, year='2012')
    return dict(imagenet=osp.join(tiny_digits, 'crops'), coco=str(coco),
                voc=str(voc / 'VOCdevkit'))


def opt(key, value) -> str:
    return f'{key}={json.dumps(value) if not isinstance(value, str) else value}'


def loaders(data_root: str, train_samples: int, batch: int, train_key: str = 'dataset') -> list:
    """Data root, batch, no workers and ``indices`` (the first N samples) of every loader."""
    out = []
    for split in ('train', 'val', 'test'):
        out += [opt(f'{split}_dataloader.num_workers', 0),
                opt(f'{split}_dataloader.persistent_workers', False),
                opt(f'{split}_dataloader.batch_size', batch)]
    out += [opt(f'train_dataloader.{train_key}.data_root', data_root),
            opt(f'train_dataloader.{train_key}.indices', train_samples)]
    for split in ('val', 'test'):
        out += [opt(f'{split}_dataloader.dataset.data_root', data_root),
                opt(f'{split}_dataloader.dataset.indices', 4)]
    return out


def run(repo_root, script, *args):
    proc = subprocess.run([sys.executable, f'{repo_root}/{script}', *map(str, args)],
                          capture_output=True, text=True, env=tool_env(repo_root),
                          cwd=repo_root, timeout=1200)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-4000:])
    return proc.stdout + proc.stderr


def stage1(repo_root, config, imagenet, work_dir):
    log = run(repo_root, 'tools/train.py', config, '--work-dir', work_dir, '--cfg-options',
              *loaders(imagenet + '/', 4, 2), opt('train_cfg.max_epochs', 1),
              opt('train_cfg.val_interval', 1))
    assert 'accuracy/top1' in log and 'loss_hoyer' in log
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    return ckpt


def assert_backbone_loads(config: str, ckpt: str, options=None, absent=()) -> None:
    """The config's backbone built with its own init_cfg pointed at ``ckpt``: every backbone
    tensor comes from the checkpoint (except the ``absent`` prefixes), nothing is left over."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(options or {}, **{'model.backbone.init_cfg.checkpoint': ckpt}))
    backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    loaded = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    own = {k for k in backbone.state_dict() if not k.startswith(tuple(absent))}
    assert set(loaded) == own, (sorted(own - set(loaded))[:5], sorted(set(loaded) - own)[:5])
    for k, v in loaded.items():
        assert torch.equal(backbone.state_dict()[k], v), k


@pytest.fixture(scope='module')
def vgg_stage1(repo_root, layouts, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('cls_vgg16'))
    return stage1(repo_root, f'{repo_root}/configs/pretrain/cls_hoyer_vgg16_in1k.py',
                  layouts['imagenet'], work_dir)


def test_stage1_checkpoint_loads_into_both_vgg_detectors(repo_root, vgg_stage1):
    state = torch.load(vgg_stage1, map_location='cpu')['state_dict']
    assert state['head.fc.weight'].shape == (1000, 512)  # the full-scale classifier
    assert any(k.endswith('act.running_extremum') for k in state)
    assert_backbone_loads(f'{repo_root}/configs/yolov3_hoyer_vgg.py', vgg_stage1)
    # SSD: stages 0-4 from stage 1, fc6/fc7 (stage 5) start from random weights
    assert_backbone_loads(f'{repo_root}/configs/ssd300_hoyer_vgg.py', vgg_stage1,
                          absent=('stages.5.', ))


@pytest.mark.parametrize('config,layout', [('yolov3_hoyer_vgg.py', 'coco'),
                                           ('yolov3_hoyer_vgg_voc0712.py', 'voc')])
def test_full_detector_trains_from_stage1_and_evaluates(repo_root, layouts, vgg_stage1,
                                                        tmp_path, config, layout):
    work_dir = str(tmp_path / 'det')
    root = layouts[layout] + '/'
    if layout == 'coco':
        data = loaders(root, 4, 2) + [
            opt('val_evaluator.ann_file', root + 'annotations/instances_val2017.json'),
            opt('test_evaluator.ann_file', root + 'annotations/instances_val2017.json')]
    else:  # RepeatDataset(times=3) of VOC2007 + VOC2012 trainval: once, 2 images of each
        data = loaders(root, 2, 2, train_key='dataset.dataset.datasets.0') + [
            opt('train_dataloader.dataset.times', 1),
            opt('train_dataloader.dataset.dataset.datasets.1.data_root', root),
            opt('train_dataloader.dataset.dataset.datasets.1.indices', 2)]
    common = data + [opt('model.backbone.init_cfg.checkpoint', vgg_stage1)]
    run(repo_root, 'tools/train.py', f'{repo_root}/configs/{config}', '--work-dir', work_dir,
        '--cfg-options', *common, opt('train_cfg.max_epochs', 1))
    log = ''.join(open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))
    assert f'PretrainedInit: load from {vgg_stage1}' in log
    assert 'do not match exactly' not in log  # no missing or unexpected key: stage 1 whole
    assert 'Epoch(train) [1][2/2]' in log and 'loss_hoyer' in log  # two iterations
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    # an untrained detector scores below the configs' thresholds: keep every candidate so NMS
    # and the metric run on real predictions (evaluation settings only, not the network)
    keep_all = [opt('model.test_cfg.score_thr', 0.0)] + (
        [opt('model.test_cfg.conf_thr', 0.0)] if 'yolov3' in config else [])
    run(repo_root, 'tools/test.py', f'{repo_root}/configs/{config}', ckpt, '--work-dir',
        work_dir, '--cfg-options', *common, *keep_all)
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)
    key = 'coco/bbox_mAP' if layout == 'coco' else 'pascal_voc/mAP'
    assert key in metrics and 0 <= metrics[key] <= 1, metrics
    assert 0 < metrics['spike_rate'] < 1


def test_resnet50_stage1_loads_into_faster_rcnn(repo_root, layouts, tmp_path):
    ckpt = stage1(repo_root, f'{repo_root}/configs/pretrain/cls_hoyer_r50_in1k.py',
                  layouts['imagenet'], str(tmp_path / 'cls_r50'))
    for name in ('faster-rcnn_hoyer_r50-fpn.py', 'retinanet_hoyer_r50-fpn.py'):
        assert_backbone_loads(f'{repo_root}/configs/{name}', ckpt)


def test_stage1_from_torchvision_weights(repo_root, layouts, tmp_path):
    """Start (d): torchvision's vgg16_bn (random here) converted by torchvision2hoyer, then
    fine-tuned as an SNN by cls_hoyer_vgg16_from-relu_in1k.py: every backbone tensor the ANN
    has starts from it (θ and the running thresholds at 1), and the run trains and validates."""
    import torchvision
    from mmdet_hoyer.utils.torchvision_convert import convert, stage1_checkpoint
    torch.manual_seed(0)
    tensors, report = convert(torchvision.models.vgg16_bn().state_dict(), 'vgg16_bn')
    relu = str(tmp_path / 'relu_vgg16_in1k.pth')
    torch.save(stage1_checkpoint(tensors, report), relu)
    config = f'{repo_root}/configs/pretrain/cls_hoyer_vgg16_from-relu_in1k.py'

    cfg = Config.fromfile(config)
    cfg.model.init_cfg.checkpoint = relu
    import mmpretrain.models  # noqa: F401  (registers ImageClassifier)
    from mmengine.registry import MODELS as ROOT
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    classifier = ROOT.build(cfg.model)
    classifier.init_weights()
    state = classifier.state_dict()
    for key, value in tensors.items():
        assert torch.equal(state[key], value), key
    assert all(float(v) == 1.0 for k, v in state.items() if k.endswith('act.threshold'))

    work_dir = str(tmp_path / 'cls')
    log = run(repo_root, 'tools/train.py', config, '--work-dir', work_dir, '--cfg-options',
              *loaders(layouts['imagenet'] + '/', 4, 2), opt('train_cfg.max_epochs', 1),
              opt('train_cfg.val_interval', 1), opt('model.init_cfg.checkpoint', relu))
    assert 'accuracy/top1' in log and 'loss_hoyer' in log
    log = ''.join(open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))
    assert f'load from {relu}' in log


def test_full_detector_trains_from_its_default_torchvision_start(repo_root, layouts, tmp_path,
                                                                monkeypatch):
    """The full YOLOv3's default start, torchvision's vgg16_bn converted on load
    (torchvision2hoyer://), read from torch's hub cache (random weights in a temporary
    TORCH_HOME here, no network): it loads, trains two iterations and is scored by CocoMetric."""
    import torchvision
    from mmdet_hoyer.utils.torchvision_checkpoint import cached_file
    cfg = Config.fromfile(f'{repo_root}/configs/yolov3_hoyer_vgg.py')
    assert cfg.model.backbone.init_cfg.checkpoint == 'torchvision2hoyer://vgg16_bn'
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    path = cached_file('vgg16_bn')
    os.makedirs(osp.dirname(path))
    torch.manual_seed(0)
    torch.save(torchvision.models.vgg16_bn().state_dict(), path)
    work_dir = str(tmp_path / 'det')
    root = layouts['coco'] + '/'
    common = loaders(root, 4, 2) + [
        opt('val_evaluator.ann_file', root + 'annotations/instances_val2017.json'),
        opt('test_evaluator.ann_file', root + 'annotations/instances_val2017.json')]
    log = run(repo_root, 'tools/train.py', f'{repo_root}/configs/yolov3_hoyer_vgg.py',
              '--work-dir', work_dir, '--cfg-options', *common, opt('train_cfg.max_epochs', 1))
    log += ''.join(open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))
    assert 'load from torchvision2hoyer://vgg16_bn' in log
    assert 'Epoch(train) [1][2/2]' in log and 'loss_hoyer' in log
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    run(repo_root, 'tools/test.py', f'{repo_root}/configs/yolov3_hoyer_vgg.py', ckpt,
        '--work-dir', work_dir, '--cfg-options', *common, opt('model.test_cfg.score_thr', 0.0),
        opt('model.test_cfg.conf_thr', 0.0))
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)
    assert 0 <= metrics['coco/bbox_mAP'] <= 1 and 0 < metrics['spike_rate'] < 1
