"""BoxCropsDataset: one labelled crop per box of the COCO json, clear errors."""
import json

import pytest
import torch

from mmdet.registry import DATASETS


def test_one_crop_per_box_with_coco_labels(tiny_digits):
    ds = DATASETS.build(dict(type='BoxCropsDataset', data_root=tiny_digits + '/',
                             ann_file='annotations/instances_train.json',
                             data_prefix=dict(img='train/'), crop_size=32))
    with open(f'{tiny_digits}/annotations/instances_train.json') as f:
        coco = json.load(f)
    assert len(ds) == len(coco['annotations'])
    names = {c['id']: c['name'] for c in coco['categories']}
    expected = sorted(int(names[a['category_id']]) for a in coco['annotations'])
    assert sorted(ds[i]['data_samples'] for i in range(len(ds))) == expected
    item = ds[0]
    assert item['inputs'].shape == (3, 32, 32) and item['inputs'].dtype == torch.uint8
    assert torch.equal(ds[0]['inputs'], ds[0]['inputs'])  # deterministic without jitter


def test_crop_is_centred_on_its_box(tiny_digits):
    ds = DATASETS.build(dict(type='BoxCropsDataset', data_root=tiny_digits + '/',
                             ann_file='annotations/instances_train.json',
                             data_prefix=dict(img='train/'), crop_size=16, context=1.0))
    iid, cx, cy, side, _ = ds.samples[0]
    img = ds.images[iid]
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    patch = img[y0:y0 + int(side), x0:x0 + int(side)].astype(float)
    # the crop's mean colour equals the box region's (same pixels, resampled)
    assert abs(ds.crop(0).astype(float).mean() - patch.mean()) < 12


def test_errors_name_the_field(tiny_digits, tmp_path):
    with pytest.raises(FileNotFoundError, match='ann_file'):
        DATASETS.build(dict(type='BoxCropsDataset', data_root=str(tmp_path),
                            ann_file='missing.json'))
    with pytest.raises(ValueError, match='classes'):
        DATASETS.build(dict(type='BoxCropsDataset', data_root=tiny_digits + '/',
                            ann_file='annotations/instances_train.json',
                            data_prefix=dict(img='train/'), classes=('cat', )))
    with pytest.raises(ValueError, match='jitter'):
        DATASETS.build(dict(type='BoxCropsDataset', data_root=tiny_digits + '/',
                            ann_file='annotations/instances_train.json', jitter=0.7))
