"""The demo configs train the full configs' network: their model dicts differ only in data
(input normalisation), input size, widths, classes, anchors, the stage-1 checkpoint and how many
detections are kept; any other difference (a switch on in one only) fails."""
import pytest
from mmengine.config import Config

#: the model keys a demo may change, and why
ALLOWED = {
    'data_preprocessor.mean': 'data: stage 1\'s input normalisation',
    'data_preprocessor.std': 'data: stage 1\'s input normalisation',
    'backbone.widen_factor': 'width',
    'backbone.init_cfg.checkpoint': 'the stage-1 checkpoint of that width',
    'neck.in_channels': 'width', 'neck.out_channels': 'width',
    'neck.level_strides': 'input size (SSD\'s extra levels at 160 px)',
    'neck.level_paddings': 'input size (SSD\'s extra levels at 160 px)',
    'bbox_head.in_channels': 'width', 'bbox_head.out_channels': 'width',
    'bbox_head.num_classes': 'classes',
    'bbox_head.anchor_generator': 'anchors (and SSD\'s input size)',
    'test_cfg.score_thr': 'detections kept (the demo has 2-5 objects an image)',
    'test_cfg.max_per_img': 'detections kept (the demo has 2-5 objects an image)',
}
PAIRS = [('yolov3_hoyer_vgg', 'yolov3_hoyer_vgg_digits'), ('yolov3_relu_vgg', 'yolov3_relu_vgg_digits'),
         ('ssd300_hoyer_vgg', 'ssd160_hoyer_vgg_digits'), ('ssd300_relu_vgg', 'ssd160_relu_vgg_digits')]


def flatten(d, prefix=''):
    out = {}
    for k, v in d.items():
        key = f'{prefix}{k}'
        if isinstance(v, dict) and key not in ALLOWED:
            out.update(flatten(v, key + '.'))
        else:
            out[key] = v
    return out


def model_differences(full: dict, demo: dict):
    a, b = flatten(full), flatten(demo)
    return sorted(k for k in set(a) | set(b) if a.get(k, '<missing>') != b.get(k, '<missing>'))


@pytest.mark.parametrize('full,demo', PAIRS)
def test_demo_changes_only_data_size_widths_classes_and_anchors(repo_root, full, demo):
    a = Config.fromfile(f'{repo_root}/configs/{full}.py').model.to_dict()
    b = Config.fromfile(f'{repo_root}/configs/demo/{demo}.py').model.to_dict()
    other = [k for k in model_differences(a, b) if k not in ALLOWED]
    assert not other, f'{demo} differs from {full} beyond data, size, widths, classes, anchors: {other}'


def test_the_comparison_catches_a_switch(repo_root):
    a = Config.fromfile(f'{repo_root}/configs/yolov3_hoyer_vgg.py').model.to_dict()
    b = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py').model.to_dict()
    b['neck']['backbone_skip'] = False
    b['backbone']['act_cfg']['mode'] = 'channel'
    assert {'neck.backbone_skip', 'backbone.act_cfg.mode'} <= set(model_differences(a, b))
