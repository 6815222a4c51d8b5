"""The VOC-layout copy of the demo set: parses with MMDetection's VOCDataset, same images and
boxes as the COCO copy (VOC's 1-based inclusive convention)."""
import json
import os.path as osp

import pytest

from mmdet.datasets import VOCDataset
from mmdet_hoyer.datasets import DIGITS_CLASSES, coco_to_voc


@pytest.mark.parametrize('split', ['train', 'val'])
def test_voc_copy_parses_with_the_same_boxes(tiny_digits, split):
    ds = VOCDataset(data_root=osp.join(tiny_digits, 'VOCdevkit') + '/',
                    ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
                    data_prefix=dict(sub_data_root='VOC2007/'),
                    metainfo=dict(classes=DIGITS_CLASSES), test_mode=True,
                    pipeline=[dict(type='LoadImageFromFile'),
                              dict(type='LoadAnnotations', with_bbox=True)])
    with open(osp.join(tiny_digits, f'annotations/instances_{split}.json')) as f:
        coco = json.load(f)
    assert len(ds) == len(coco['images']) == {'train': 24, 'val': 8}[split]
    assert ds.metainfo['dataset_type'] == 'VOC2007'
    by_image = {}
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        by_image.setdefault(a['image_id'], []).append((a['category_id'] - 1, x, y, x + w - 1, y + h - 1))
    n = 0
    for i in range(len(ds)):
        item = ds[i]
        info = ds.get_data_info(i)
        image_id = int(info['img_id'].split('_')[-1]) + 1
        coco_img = coco['images'][image_id - 1]
        assert item['img'].shape[:2] == (coco_img['height'], coco_img['width'])
        got = sorted((int(lbl), *map(float, box)) for lbl, box in
                     zip(item['gt_bboxes_labels'], item['gt_bboxes'].numpy()))
        assert got == sorted(by_image.get(image_id, []))
        n += len(got)
    assert n == len(coco['annotations'])


def test_boxes_off_the_pixel_grid_are_refused(tmp_path):
    root = tmp_path / 'd'
    (root / 'train').mkdir(parents=True)
    ann = root / 'a.json'
    ann.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='x.jpg', width=10, height=10)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[1.5, 2, 3, 4])],
        categories=[dict(id=1, name='0')])))
    with pytest.raises(ValueError, match='integer pixel grid'):
        coco_to_voc(str(root), {'train': str(ann)})
