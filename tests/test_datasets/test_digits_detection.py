import json
import os.path as osp

import numpy as np
import pytest

from mmdet.datasets import CocoDataset
from mmdet_hoyer.datasets import DIGITS_CLASSES, make_digits_detection


def test_coco_files_parse_with_mmdetection(tiny_digits):
    ds = CocoDataset(data_root=tiny_digits + '/', ann_file='annotations/instances_train.json',
                     data_prefix=dict(img='train/'), metainfo=dict(classes=DIGITS_CLASSES),
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='LoadAnnotations', with_bbox=True)])
    assert len(ds) == 24
    with open(osp.join(tiny_digits, 'annotations/instances_train.json')) as f:
        coco = json.load(f)
    assert len(coco['categories']) == 10
    n_boxes = 0
    for i in range(len(ds)):
        item = ds[i]
        h, w = item['img'].shape[:2]
        assert 128 <= h <= 160 and 128 <= w <= 160
        boxes = item['gt_bboxes'].numpy()
        assert 2 <= len(boxes) <= 5
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
        n_boxes += len(boxes)
    assert n_boxes == len(coco['annotations'])
    labels = {a['category_id'] for a in coco['annotations']}
    assert len(labels) >= 5  # several classes appear even in a tiny set


def test_generation_is_deterministic_and_seed_dependent(tmp_path):
    a = make_digits_detection(str(tmp_path / 'a'), num_train=3, num_val=2, seed=1)
    b = make_digits_detection(str(tmp_path / 'b'), num_train=3, num_val=2, seed=1)
    c = make_digits_detection(str(tmp_path / 'c'), num_train=3, num_val=2, seed=2)
    load = lambda p: json.load(open(p))['annotations']  # noqa: E731
    assert load(a['train']) == load(b['train'])
    assert load(a['train']) != load(c['train'])
    import cv2
    img_a = cv2.imread(str(tmp_path / 'a/train/000000.jpg'))
    img_b = cv2.imread(str(tmp_path / 'b/train/000000.jpg'))
    assert np.array_equal(img_a, img_b)


def test_bad_arguments_name_the_field(tmp_path):
    with pytest.raises(ValueError, match='num_train'):
        make_digits_detection(str(tmp_path), num_train=0)
    with pytest.raises(ValueError, match='digit_range'):
        make_digits_detection(str(tmp_path), digit_range=(20, 200))
