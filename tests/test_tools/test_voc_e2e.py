"""A few iterations of the demo SSD and YOLOv3 on the VOC-layout copy: MMEngine's Runner trains
with VOCDataset and validates with VOCMetric (11-point and area mAP) and real NMS."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import shrink_demo_detector, tiny_options

W = 0.125


def voc_options(data_root: str, work_dir: str) -> dict:
    opts = {k: v for k, v in tiny_options(data_root, work_dir, 'unused').items()
            if not k.startswith(('model.', 'val_evaluator', 'test_evaluator', 'custom_hooks'))
            and 'data_root' not in k}
    voc = data_root + '/VOCdevkit/'
    opts.update({f'{s}_dataloader.dataset.data_root': voc for s in ('train', 'val', 'test')})
    opts.update({'model.backbone.widen_factor': W, 'train_cfg.max_epochs': 1,
                 'train_cfg.val_interval': 1, 'default_hooks.checkpoint.interval': 1,
                 'model.test_cfg.score_thr': 0.0})
    return opts


@pytest.mark.parametrize('name', ['ssd160_hoyer_vgg_digits-voc', 'yolov3_hoyer_vgg_digits-voc'])
def test_voc_training_and_vocmetric(repo_root, tiny_digits, tmp_path, name):
    cfg = Config.fromfile(f'{repo_root}/configs/demo/{name}.py')
    cfg.merge_from_dict(voc_options(tiny_digits, str(tmp_path)))
    cfg.model.backbone.init_cfg = None
    for hook in cfg.custom_hooks:  # a warm-up that fits the one epoch
        if hook['type'] == 'SpikeWarmupHook':
            hook.update(begin=0, end=1)
    shrink_demo_detector(cfg, W)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert len(runner.train_dataloader.dataset) == 24  # the VOC train list
    scalars = runner.message_hub.log_scalars
    assert 0 < scalars['train/loss_hoyer'].current() < float('inf')
    for key in ('val/pascal_voc/mAP', 'val/pascal_voc_area/mAP'):
        assert 0 <= scalars[key].current() <= 1, key
    assert 0 <= scalars['val/spike_rate'].current() < 1
