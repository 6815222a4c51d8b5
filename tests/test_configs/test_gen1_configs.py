"""The full-scale Gen1 configs: their networks read 10 event channels, train on files in Gen1's
layout and are scored under the Gen1 protocol; a missing data folder names the layout."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmdet_hoyer.utils import check_data_paths

CONFIGS = ['yolov3_hoyer_vgg_gen1', 'yolov3_relu_vgg_gen1', 'ssd300_hoyer_vgg_gen1',
           'ssd300_relu_vgg_gen1']


@pytest.fixture(scope='module')
def gen1_layout(tiny_events, tmp_path_factory):
    """The tiny simulated set in Gen1's train/ val/ test/ layout (test = val)."""
    root = tmp_path_factory.mktemp('gen1')
    for split, src in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        os.symlink(osp.join(tiny_events, src), root / split)
    return str(root)


@pytest.mark.parametrize('name', CONFIGS)
def test_full_gen1_config_trains_and_evaluates(repo_root, gen1_layout, tmp_path, name):
    cfg = Config.fromfile(f'{repo_root}/configs/{name}.py')
    ssd = name.startswith('ssd')
    train = 'train_dataloader.dataset.dataset' if ssd else 'train_dataloader.dataset'
    options = {'work_dir': str(tmp_path), f'{train}.data_root': gen1_layout,
               f'{train}.indices': 2, 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
               'default_hooks.checkpoint.interval': 1, 'model.test_cfg.score_thr': 0.0}
    for split in ('train', 'val', 'test'):
        options.update({f'{split}_dataloader.num_workers': 0,
                        f'{split}_dataloader.persistent_workers': False,
                        f'{split}_dataloader.batch_size': 2})
    for split in ('val', 'test'):
        options.update({f'{split}_dataloader.dataset.data_root': gen1_layout,
                        f'{split}_dataloader.dataset.indices': 2})
    cfg.merge_from_dict(options)
    if not ssd:
        cfg.model.test_cfg.conf_thr = 0.0
    check_data_paths(cfg)
    runner = Runner.from_cfg(cfg)
    first = next(m for m in runner.model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 10 and runner.model.bbox_head.num_classes == 2
    assert runner.val_evaluator.metrics[0].__class__.__name__ == 'PropheseeCocoMetric'
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert 0 < scalars['train/loss'].current() < float('inf')
    assert 0 <= scalars['val/coco/bbox_mAP'].current() <= 1


def test_missing_gen1_folder_names_the_layout_and_the_source(repo_root, tmp_path):
    cfg = Config.fromfile(f'{repo_root}/configs/yolov3_hoyer_vgg_gen1.py')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'gen1')
    with pytest.raises(FileNotFoundError) as e:
        check_data_paths(cfg)
    msg = str(e.value)
    assert 'train_dataloader.dataset.data_root' in msg and 'Prophesee layout' in msg
    assert '_td.dat' in msg and '_bbox.npy' in msg and 'docs/guides/events.md' in msg
    os.makedirs(tmp_path / 'gen1' / 'val')
    with pytest.raises(FileNotFoundError, match=r'data_prefix.events: folder .*train'):
        check_data_paths(cfg)


@pytest.mark.parametrize('backbone', [dict(type='HoyerVGG', depth=16, widen_factor=0.125),
                                      dict(type='HoyerSSDVGG', depth=16, widen_factor=0.125),
                                      dict(type='HoyerResNet', depth=50, widen_factor=0.125)])
def test_every_spiking_backbone_reads_event_channels(backbone):
    from mmdet.registry import MODELS
    model = MODELS.build(dict(backbone, in_channels=10)).eval()
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.in_channels == 10
    with torch.no_grad():
        outs = model(torch.rand(1, 10, 64, 64) * 3)
    assert all(torch.isfinite(o).all() for o in outs)
