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
