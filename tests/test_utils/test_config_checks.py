import pytest
from mmengine.config import Config

from mmdet_hoyer.utils import check_data_paths


def test_missing_data_root_names_field_and_layout(repo_root, tmp_path):
    cfg = Config.fromfile(f'{repo_root}/configs/yolov3_hoyer_vgg.py')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere') + '/'
    with pytest.raises(FileNotFoundError, match=r'train_dataloader\.dataset\.data_root.*COCO layout') as e:
        check_data_paths(cfg)
    # the config's own annotation file and image folder, and a page that exists
    msg = str(e.value)
    assert 'annotations/instances_train2017.json' in msg and '/train2017/' in msg
    assert 'README' not in msg and 'docs/guides/usage.md#datasets' in msg


@pytest.mark.parametrize('name', ['ssd300_hoyer_vgg_voc0712', 'yolov3_hoyer_vgg_voc0712'])
def test_missing_voc_root_names_the_wrapped_dataset_and_the_voc_layout(repo_root, tmp_path, name):
    cfg = Config.fromfile(f'{repo_root}/configs/{name}.py')
    root = str(tmp_path / 'VOCdevkit') + '/'
    for ds in cfg.train_dataloader.dataset.dataset.datasets:
        ds.data_root = root
    with pytest.raises(FileNotFoundError,
                       match=r'train_dataloader\.dataset\.dataset\.datasets\[0\]\.data_root: '
                             r'directory .*VOCdevkit/. does not exist.*VOC layout: '
                             r'<data_root>/VOC2007/\{JPEGImages'):
        check_data_paths(cfg)


def test_existing_demo_set_passes(repo_root, tiny_digits):
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = tiny_digits + '/'
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].ann_file = f'{tiny_digits}/annotations/instances_val.json'
    check_data_paths(cfg)
    cfg.val_evaluator.ann_file = f'{tiny_digits}/missing.json'
    with pytest.raises(FileNotFoundError, match='val_evaluator.ann_file'):
        check_data_paths(cfg)


def test_test_split_checks_its_evaluator_too(repo_root, tiny_digits):
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.test_dataloader.dataset.data_root = tiny_digits + '/'
    cfg.test_evaluator.ann_file = f'{tiny_digits}/nowhere.json'
    with pytest.raises(FileNotFoundError, match='test_evaluator.ann_file'):
        check_data_paths(cfg, splits=('test', ))


def train_cli(repo_root, tmp_path, config, *options):
    import subprocess
    import sys
    return subprocess.run(
        [sys.executable, f'{repo_root}/tools/train.py', f'{repo_root}/configs/{config}',
         '--work-dir', str(tmp_path), *(('--cfg-options', *options) if options else ())],
        capture_output=True, text=True, cwd=repo_root, timeout=300)


def test_train_cli_stops_with_the_message_not_a_traceback(repo_root, tmp_path):
    # a deliberate random start (init_cfg=None) passes the stage-1 check; the data does not
    proc = train_cli(repo_root, tmp_path, 'yolov3_hoyer_vgg.py', 'model.backbone.init_cfg=None',
                     f'train_dataloader.dataset.data_root={tmp_path}/missing/')
    assert proc.returncode != 0
    assert 'error: train_dataloader.dataset.data_root' in proc.stderr
    assert 'Traceback' not in proc.stderr


VGG_STAGE1 = 'work_dirs/cls_hoyer_vgg16_in1k/epoch_150.pth'


@pytest.mark.parametrize('config,checkpoint,command', [
    ('yolov3_hoyer_vgg.py', VGG_STAGE1,
     'bash tools/dist_train.sh configs/pretrain/cls_hoyer_vgg16_in1k.py 8'),
    ('ssd300_hoyer_vgg_voc0712.py', VGG_STAGE1, 'configs/pretrain/cls_hoyer_vgg16_in1k.py'),
    ('faster-rcnn_hoyer_r50-fpn.py', 'work_dirs/cls_hoyer_r50_in1k/epoch_400.pth',
     'configs/pretrain/cls_hoyer_r50_in1k.py 4'),
    ('yolov3_relu_vgg.py', 'work_dirs/relu_vgg16_in1k.pth',
     'tools/model_converters/torchvision2hoyer.py vgg16_bn-6c64b313.pth'),
])
def test_missing_stage1_checkpoint_names_the_stage1_command(repo_root, tmp_path, config,
                                                            checkpoint, command):
    """The spiking stage-1 variant (a local checkpoint instead of the default torchvision
    start), missing: before anything is built, which checkpoint, the command that writes it,
    and how to start from random weights on purpose."""
    proc = train_cli(repo_root, tmp_path, config, f'model.backbone.init_cfg.checkpoint={checkpoint}')
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith('error: model.backbone.init_cfg.checkpoint: checkpoint'), err
    assert command in err and '--cfg-options model.backbone.init_cfg=None' in err
    assert not any((tmp_path).iterdir())  # stopped before the runner made its work dir


@pytest.mark.parametrize('config,arch', [('yolov3_hoyer_vgg.py', 'vgg16_bn'),
                                         ('ssd300_relu_vgg.py', 'vgg16_bn'),
                                         ('retinanet_hoyer_r50-fpn.py', 'resnet50')])
def test_default_torchvision_start_offline_names_the_file_and_the_folder(
        repo_root, tmp_path, monkeypatch, config, arch):
    """The full configs' default start (torchvision2hoyer://) with an empty hub cache and no
    network: the check before training names the field, the file and torch's hub folder."""
    import torch
    from mmdet_hoyer.utils import check_pretrained_paths
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))

    def offline(*args, **kwargs):
        raise OSError('no network')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    cfg = Config.fromfile(f'{repo_root}/configs/{config}')
    assert cfg.model.backbone.init_cfg.checkpoint == f'torchvision2hoyer://{arch}'
    with pytest.raises(FileNotFoundError) as e:
        check_pretrained_paths(cfg)
    msg = str(e.value)
    assert msg.startswith('model.backbone.init_cfg.checkpoint: torchvision2hoyer://')
    assert str(tmp_path / 'torch' / 'hub' / 'checkpoints') in msg
    assert ('vgg16_bn-6c64b313.pth' if arch == 'vgg16_bn' else 'resnet50-0676ba61.pth') in msg


def test_missing_torchvision_weights_of_start_d_name_the_converter(repo_root, tmp_path):
    proc = train_cli(repo_root, tmp_path, 'pretrain/cls_hoyer_vgg16_from-relu_in1k.py')
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    err = proc.stderr.strip().splitlines()[-1]
    assert err.startswith("error: model.init_cfg.checkpoint: checkpoint 'work_dirs/relu_vgg16"), err
    assert 'tools/model_converters/torchvision2hoyer.py vgg16_bn-6c64b313.pth' in err
    assert '--cfg-options model.init_cfg=None' in err


def test_missing_pretrained_backbone_is_named(repo_root, tmp_path):
    from mmdet_hoyer.utils import check_pretrained_paths
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'none.pth')
    with pytest.raises(FileNotFoundError,
                       match=r'model\.backbone\.init_cfg\.checkpoint.*none\.pth.*make demo'):
        check_pretrained_paths(cfg)
    (tmp_path / 'none.pth').write_bytes(b'')
    check_pretrained_paths(cfg)
    cfg.load_from = str(tmp_path / 'gone.pth')
    with pytest.raises(FileNotFoundError, match='load_from'):
        check_pretrained_paths(cfg)


def test_missing_distillation_teacher_is_named(repo_root, tmp_path):
    from mmdet_hoyer.utils import check_pretrained_paths
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_distill_digits.py')
    cfg.model.backbone.init_cfg = None
    k = [h.type for h in cfg.custom_hooks].index('TeacherDistillHook')
    cfg.custom_hooks[k].teacher_checkpoint = str(tmp_path / 'ann.pth')
    with pytest.raises(FileNotFoundError,
                       match=rf'custom_hooks\.{k}\.teacher_checkpoint.*ann\.pth.*make demo-ann'):
        check_pretrained_paths(cfg)
    (tmp_path / 'ann.pth').write_bytes(b'')
    cfg.custom_hooks[k].teacher_config = f'{repo_root}/configs/demo/yolov3_relu_vgg_digits.py'
    check_pretrained_paths(cfg)
    cfg.custom_hooks[k].teacher_config = str(tmp_path / 'ann.py')
    with pytest.raises(FileNotFoundError, match=rf'custom_hooks\.{k}\.teacher_config'):
        check_pretrained_paths(cfg)


def test_amp_without_cuda_is_a_clear_error(repo_root, tmp_path):
    import subprocess
    import sys

    import os
    # hide any GPU: the check is about machines without CUDA, and runs everywhere
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/train.py', f'{repo_root}/configs/yolov3_hoyer_vgg.py',
         '--amp', '--work-dir', str(tmp_path)], capture_output=True, text=True, cwd=repo_root,
        timeout=300, env=dict(os.environ, CUDA_VISIBLE_DEVICES=''))
    assert proc.returncode != 0 and 'error: --amp' in proc.stderr and 'CUDA' in proc.stderr
    assert 'Traceback' not in proc.stderr
