"""Every config under configs/ loads and builds its model; each demo config also runs one
forward at a tiny input size. A config that no longer resolves (a renamed base, a key its
MMDetection base dropped, a registered name that moved) fails here, not on a user's machine."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIGS = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                                            recursive=True)
                 if '_base_' not in osp.relpath(p, REPO).split(osp.sep))


def build(name: str):
    cfg = Config.fromfile(osp.join(REPO, name))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    cfg.model.get('backbone', {}).pop('init_cfg', None)  # no checkpoint is read here
    return cfg, MODELS.build(cfg.model)


def test_the_list_is_complete():
    """Full, demo and stage-1 configs are all collected (a glob gone wrong would test none)."""
    assert 'configs/yolov3_hoyer_vgg.py' in CONFIGS
    assert 'configs/demo/ssd160_hoyer_vgg_digits.py' in CONFIGS
    assert 'configs/pretrain/cls_hoyer_vgg16_in1k.py' in CONFIGS
    assert len(CONFIGS) >= 40


@pytest.mark.parametrize('name', [c for c in CONFIGS if not c.startswith('configs/demo/')])
def test_full_config_builds(name):
    _, model = build(name)
    assert sum(p.numel() for p in model.parameters()) > 1e6  # a full-size network


@pytest.mark.parametrize('name', [c for c in CONFIGS if c.startswith('configs/demo/')])
def test_demo_config_runs_one_forward(name):
    cfg, model = build(name)
    model.eval()
    channels = cfg.model.backbone.get('in_channels', 3)
    if 'cls_' in osp.basename(name):
        size = 32
    else:
        size = 160 if 'ssd160' in name else 64  # SSD's extra levels need its input size
    with torch.no_grad():
        out = model(torch.rand(1, channels, size, size) * 255, mode='tensor')
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    flat = []
    while outs:
        o = outs.pop()
        if isinstance(o, (list, tuple)):
            outs.extend(o)
        else:
            flat.append(o)
    assert flat and all(torch.isfinite(t).all() for t in flat)
