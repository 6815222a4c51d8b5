"""PropheseeDetDataset on files in the real Gen1 format (the simulated demo's)."""
import glob
import shutil

import numpy as np
import pytest

from mmdet_hoyer.datasets import PropheseeDetDataset
from mmdet_hoyer.datasets.events.box_labels import load_boxes, save_boxes
from mmdet_hoyer.datasets.events.dat_file import EventFileError

CLASSES = dict(classes=('digit', 'shape'))


def dataset(root, split='val', test_mode=True, **kw):
    return PropheseeDetDataset(data_root=root, data_prefix=dict(events=f'{split}/'),
                               metainfo=CLASSES, test_mode=test_mode, pipeline=[], **kw)


def test_one_sample_per_labelled_timestamp_with_the_protocol(tiny_events):
    labels = load_boxes(glob.glob(f'{tiny_events}/val/*_bbox.npy')[0])
    train_view = dataset(tiny_events, test_mode=False)
    test_view = dataset(tiny_events)
    ts_train = [d['timestamp'] for d in train_view]
    ts_test = [d['timestamp'] for d in test_view]
    assert ts_train == sorted(set(ts_train)) and set(ts_train) <= set(labels['t'].tolist())
    # test mode: the protocol's early labels (t <= 0.5 s) are not scored
    assert min(ts_test) > 500_000 and set(ts_test) == {t for t in ts_train if t > 500_000}
    sample = test_view[0]
    assert sample['img_path'].endswith('_td.dat') and (sample['width'], sample['height']) == (304, 240)
    at = labels[labels['t'] == sample['timestamp']]
    got = np.array([i['bbox'] for i in sample['instances']])
    want = np.stack([at['x'], at['y'], at['x'] + at['w'], at['y'] + at['h']], 1)
    # the demo's labels lie inside the sensor and pass the size rule unless they are small
    assert len(got) <= len(want) and all((want == g).all(1).any() for g in got)


def test_protocol_filters_small_boxes_in_every_split(tmp_path, tiny_events):
    root = str(tmp_path / 'set')
    shutil.copytree(tiny_events, root)
    label_file = glob.glob(f'{root}/val/*_bbox.npy')[0]
    boxes = load_boxes(label_file)
    boxes['w'][:] = 9.0  # every box one pixel too narrow for Gen1's 10 px sides
    save_boxes(label_file, boxes)
    with pytest.raises(ValueError, match='no labelled timestamp with a box left'):
        dataset(root)
    assert len(dataset(root, protocol_filters=False)) > 0


def test_bad_sets_are_clear_errors(tmp_path, tiny_events):
    with pytest.raises(FileNotFoundError, match=r'data_prefix.events: folder .*nowhere.*Expected'):
        dataset(str(tmp_path / 'nowhere'))
    root = str(tmp_path / 'set')
    shutil.copytree(tiny_events, root)
    label_file = glob.glob(f'{root}/val/*_bbox.npy')[0]
    boxes = load_boxes(label_file)
    boxes['class_id'][0] = 2
    save_boxes(label_file, boxes)
    with pytest.raises(EventFileError, match=r'_bbox.npy: class_id 2 but the dataset has 2'):
        dataset(root)
    boxes['class_id'][0] = 0
    boxes['t'] += 5_000_000  # labels of another, longer recording
    save_boxes(label_file, boxes)
    with pytest.raises(EventFileError, match='does not belong to this recording'):
        dataset(root)
    import os
    os.remove(label_file)
    with pytest.raises(FileNotFoundError, match='its label file .*_bbox.npy is missing'):
        dataset(root)
