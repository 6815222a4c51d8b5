import json
import os
import os.path as osp
import subprocess
import sys
from typing import Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmdet_hoyer  # noqa: F401  registers the plugin
from mmdet.utils import register_all_modules

register_all_modules(init_default_scope=True)
torch.set_num_threads(2)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:  # projects/ (research code outside the package) imports as projects.*
    sys.path.insert(0, REPO)


@pytest.fixture(scope='session')
def repo_root() -> str:
    return REPO


@pytest.fixture(scope='session')
def tiny_digits(tmp_path_factory) -> str:
    """A tiny generated digits detection set (24 train / 8 val images), made once per run."""
    from mmdet_hoyer.datasets import make_digits_detection
    root = str(tmp_path_factory.mktemp('digits_det'))
    make_digits_detection(root, num_train=24, num_val=8, seed=3)
    return root


def loader_options(data_root: str) -> dict:
    """--cfg-options for in-process loaders (no workers) reading the set at ``data_root``."""
    return {f'{split}_dataloader.{key}': value for split in ('train', 'val', 'test')
            for key, value in (('num_workers', 0), ('persistent_workers', False),
                               ('dataset.data_root', data_root + '/'))}


def yolov3_widths(model_cfg, w: float) -> dict:
    """Neck and head channels of a demo YOLOv3 layout at ``w`` of VGG16's widths: with
    ``tap_before_pool`` every level reads a conv5-wide map (conv4_3, conv5_3, pool5), else
    conv3_3 at stride 8; with ``backbone_skip`` the head reads the neck's map and the backbone's."""
    neck_in = ([int(512 * w)] * 3 if model_cfg.backbone.get('tap_before_pool', False)
               else [int(512 * w), int(512 * w), int(256 * w)])
    neck_out = [int(512 * w), int(256 * w), int(128 * w)]
    head_in = ([o + i for o, i in zip(neck_out, neck_in)]
               if model_cfg.neck.get('backbone_skip', False) else neck_out)
    return {'model.neck.in_channels': neck_in, 'model.neck.out_channels': neck_out,
            'model.bbox_head.in_channels': head_in,
            'model.bbox_head.out_channels': [int(1024 * w), int(512 * w), int(256 * w)]}


def shrink_demo_detector(cfg, w: float) -> None:
    """In place: a demo SSD or YOLOv3 config at ``w`` of the full VGG16 widths (backbone, neck
    and head agree); YOLOv3 keeps every candidate box (``conf_thr`` 0)."""
    cfg.model.backbone.widen_factor = w
    if cfg.model.bbox_head.type.endswith('SSDHead'):
        levels = [int(c * w) for c in (512, 1024, 512, 256, 256)]
        cfg.model.neck.in_channels, cfg.model.neck.out_channels = levels[:2], levels
        cfg.model.bbox_head.in_channels = levels
    else:
        cfg.merge_from_dict(yolov3_widths(cfg.model, w))
        cfg.model.test_cfg.conf_thr = 0.0


def tiny_options(data_root: str, work_dir: str, backbone_ckpt: str) -> dict:
    """--cfg-options that shrink configs/demo/yolov3_hoyer_vgg_digits.py to a 1/8-width model
    on the tiny set, 2 epochs, with every box kept so NMS and the metric run."""
    w = 0.125
    return {
        'work_dir': work_dir,
        'model.backbone.widen_factor': w,
        'model.backbone.init_cfg.checkpoint': backbone_ckpt,
        **yolov3_widths(Config.fromfile(f'{REPO}/configs/demo/yolov3_hoyer_vgg_digits.py').model,
                        w),
        # an untrained detector scores below the default thresholds: keep every box so NMS
        # and the metric run on real predictions
        'model.test_cfg.score_thr': 0.0,
        'model.test_cfg.conf_thr': 0.0,
        'train_dataloader.batch_size': 4,
        **loader_options(data_root),
        'val_evaluator.ann_file': f'{data_root}/annotations/instances_val.json',
        'test_evaluator.ann_file': f'{data_root}/annotations/instances_val.json',
        'train_cfg.max_epochs': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.logger.interval': 1,
        'custom_hooks.0.interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'randomness': dict(seed=0),
    }


def tiny_demo_config(data_root: str, work_dir: str, options: Optional[dict] = None,
                     config: Optional[str] = None) -> Config:
    """``config`` (default the demo YOLOv3) shrunk by :func:`tiny_options`, from random
    weights, with ``options`` merged after them."""
    cfg = Config.fromfile(config or f'{REPO}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.merge_from_dict({**tiny_options(data_root, work_dir, 'unused'), **(options or {})})
    cfg.model.backbone.init_cfg = None
    return cfg


W = 0.125
CLS_ITERS = 30


def cls_options(data_root: str, work_dir: str) -> dict:
    """--cfg-options for the demo's stage 1 (MMPretrain ImageClassifier) on the tiny set's box
    crops (ImageNet layout, written by make_digits_detection), 1/8 width."""
    return {
        'work_dir': work_dir,
        'model.backbone.widen_factor': W,
        'model.head.in_channels': int(512 * W),
        'train_dataloader.batch_size': 16,
        **loader_options(data_root + '/crops'),
        # long enough for BN running statistics (momentum 0.1) to leave their initial values:
        # after only a handful of iterations the eval-mode network is (almost) silent
        'train_cfg.max_iters': CLS_ITERS,
        'train_cfg.val_interval': CLS_ITERS,
        'param_scheduler.0.end': CLS_ITERS,
        'default_hooks.checkpoint.interval': CLS_ITERS,
        'default_hooks.logger.interval': 1,
        'custom_hooks.0.interval': 2,
        'randomness': dict(seed=0),
    }


@pytest.fixture(scope='session')
def pretrained(tiny_digits, repo_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('work_cls'))
    cfg = Config.fromfile(f'{repo_root}/configs/demo/cls_hoyer_vgg16_digits.py')
    cfg.merge_from_dict(cls_options(tiny_digits, work_dir))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return dict(runner=runner, checkpoint=osp.join(work_dir, f'iter_{CLS_ITERS}.pth'))


@pytest.fixture(scope='session')
def trained(tiny_digits, repo_root, tmp_path_factory, pretrained):
    work_dir = str(tmp_path_factory.mktemp('work'))
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    options = tiny_options(tiny_digits, work_dir, pretrained['checkpoint'])
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    val_metrics = runner.val()
    return dict(runner=runner, work_dir=work_dir, options=options, metrics=val_metrics)


def tool_env(repo_root):
    """The environment for running the repository's tools as subprocesses."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [repo_root] + [p for p in [os.environ.get('PYTHONPATH')] if p]))


def run_on_checkpoint(trained, repo_root, script, args, prefixes):
    """Run ``script`` (relative to the repo) on the trained tiny checkpoint with the demo config,
    passing the trained run's options that start with ``prefixes`` as --cfg-options."""
    with open(osp.join(trained['work_dir'], 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    opts = [f'{k}={json.dumps(v) if not isinstance(v, str) else v}'
            for k, v in trained['options'].items() if k.startswith(tuple(prefixes))]
    return subprocess.run(
        [sys.executable, f'{repo_root}/{script}',
         f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py', ckpt, *args,
         '--cfg-options', *opts],
        capture_output=True, text=True, env=tool_env(repo_root), cwd=repo_root, timeout=600)


def trained_config_file(trained, path) -> str:
    """The demo YOLOv3 config merged with the tiny run's options, written to ``path`` (for
    tools that take a config file and no --cfg-options, e.g. MMDetection's DetInferencer)."""
    cfg = Config.fromfile(f'{REPO}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.merge_from_dict(trained['options'])
    cfg.dump(str(path))
    return str(path)


def trained_checkpoint(trained) -> str:
    with open(osp.join(trained['work_dir'], 'last_checkpoint')) as f:
        return f.read().strip()



def match_detections(got, expected, box_atol: float = 1e-3, score_rtol: float = 1e-5):
    """Match ``expected``'s detections one to one with ``got``'s (InstanceData or dicts of
    labels/bboxes/scores): same label, box within ``box_atol`` px, score within ``score_rtol``
    of it. Returns (number matched, scores of the unmatched expected detections)."""
    def fields(d):
        return [(d[k] if isinstance(d, dict) else getattr(d, k)).cpu()
                for k in ('labels', 'bboxes', 'scores')]
    g_labels, g_boxes, g_scores = fields(got)
    e_labels, e_boxes, e_scores = fields(expected)
    used = torch.zeros(len(g_scores), dtype=torch.bool)
    matched, missing = 0, []
    for label, box, score in zip(e_labels, e_boxes, e_scores):
        hit = (~used & (g_labels == label) & ((g_boxes - box).abs().amax(1) <= box_atol)
               & ((g_scores - score).abs() <= score_rtol * score)).nonzero()
        if len(hit):
            used[hit[0, 0]] = True
            matched += 1
        else:
            missing.append(float(score))
    return matched, missing


def assert_same_detections(got, expected, box_atol: float = 1e-3,
                           score_rtol: float = 1e-5) -> None:
    """``got`` and ``expected`` hold the same detections up to the order of equal scores: NMS
    sorts by score, so detections whose scores tie (a briefly trained detector scores many
    boxes alike) come in either order, and one tied with the last kept box (``max_per_img``)
    may be replaced by its twin. Every expected detection is matched (:func:`match_detections`)
    except ones tied with the lowest kept score."""
    e_scores = (expected['scores'] if isinstance(expected, dict) else expected.scores).cpu()
    g_scores = (got['scores'] if isinstance(got, dict) else got.scores).cpu()
    assert len(g_scores) == len(e_scores), (len(g_scores), len(e_scores))
    _, missing = match_detections(got, expected, box_atol, score_rtol)
    floor = float(e_scores.min()) * (1 + score_rtol) if len(e_scores) else 0.0
    assert all(s <= floor for s in missing), (
        f'{len(missing)} of {len(e_scores)} detections missing, scores {missing[:5]}; '
        f'only ties with the lowest kept score {floor:.6g} may be')


@pytest.fixture(scope='session')
def tiny_events(tmp_path_factory) -> str:
    """A tiny simulated Gen1-format set (2 train / 1 val recordings of 0.8 s, labels every
    50 ms), made once per run."""
    from mmdet_hoyer.datasets.events.moving_shapes import DemoConfig, make_event_demo
    root = str(tmp_path_factory.mktemp('events_demo'))
    make_event_demo(root, {'train': 2, 'val': 1}, DemoConfig(duration_us=800_000), seed=5)
    return root
