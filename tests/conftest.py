import os.path as osp

import pytest
import torch

import mmdet_hoyer  # noqa: F401  registers the plugin
from mmdet.utils import register_all_modules

register_all_modules(init_default_scope=True)
torch.set_num_threads(2)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


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


def tiny_options(data_root: str, work_dir: str, backbone_ckpt: str) -> dict:
    """--cfg-options that shrink configs/demo/yolov3_hoyer_vgg_digits.py to a 1/8-width model
    on the tiny set, 2 epochs, with every box kept so NMS and the metric run."""
    w = 0.125
    return {
        'work_dir': work_dir,
        'model.backbone.widen_factor': w,
        'model.backbone.init_cfg.checkpoint': backbone_ckpt,
        'model.neck.in_channels': [int(512 * w), int(512 * w), int(256 * w)],
        'model.neck.out_channels': [int(512 * w), int(256 * w), int(128 * w)],
        'model.bbox_head.in_channels': [int(512 * w), int(256 * w), int(128 * w)],
        'model.bbox_head.out_channels': [int(1024 * w), int(512 * w), int(256 * w)],
        # an untrained detector scores below the default thresholds: keep every box so NMS
        # and the metric run on real predictions
        'model.test_cfg.score_thr': 0.0,
        'model.test_cfg.conf_thr': 0.0,
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': data_root + '/',
        'val_dataloader.dataset.data_root': data_root + '/',
        'test_dataloader.dataset.data_root': data_root + '/',
        'val_evaluator.ann_file': f'{data_root}/annotations/instances_val.json',
        'test_evaluator.ann_file': f'{data_root}/annotations/instances_val.json',
        'train_cfg.max_epochs': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.logger.interval': 1,
        'custom_hooks.0.interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'randomness': dict(seed=0),
    }
