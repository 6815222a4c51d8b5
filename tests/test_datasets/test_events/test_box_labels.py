import numpy as np
import pytest

from mmdet_hoyer.datasets.events.box_labels import (BBOX_DTYPE, GEN1_BBOX_DTYPE, load_boxes,
                                                     save_boxes)
from mmdet_hoyer.datasets.events.dat_file import EventFileError


def boxes(n=4):
    b = np.zeros(n, BBOX_DTYPE)
    b['t'] = np.arange(n) * 50_000
    b['x'], b['y'], b['w'], b['h'] = 10, 20, 30, 40
    b['class_id'], b['track_id'], b['class_confidence'] = np.arange(n) % 2, np.arange(n), 1
    return b


@pytest.mark.parametrize('gen1_names', [True, False])
def test_both_field_namings_load_as_the_toolbox_format(tmp_path, gen1_names):
    path = str(tmp_path / 'rec_bbox.npy')
    save_boxes(path, boxes(), gen1_names=gen1_names)
    assert ('ts' in np.load(path).dtype.names) == gen1_names
    if gen1_names:
        assert np.load(path).dtype == GEN1_BBOX_DTYPE
    np.testing.assert_array_equal(load_boxes(path), boxes())


def test_bad_label_files_name_the_file(tmp_path):
    path = str(tmp_path / 'bad_bbox.npy')
    np.save(path, np.zeros((3, 4)))
    with pytest.raises(EventFileError, match='bad_bbox.npy: expected a 1-d structured array'):
        load_boxes(path)
    b = boxes()
    b['w'][1] = np.nan
    np.save(path, b)
    with pytest.raises(EventFileError, match='non-finite'):
        load_boxes(path)
    b = boxes()[::-1]
    np.save(path, b)
    with pytest.raises(EventFileError, match='time order'):
        load_boxes(path)
