"""The protocol's constants and filters, each checked on boxes at its edges."""
import numpy as np
import pytest

from mmdet_hoyer.datasets.events.box_labels import BBOX_DTYPE
from mmdet_hoyer.datasets.events.protocol import (crop_to_sensor, get_camera, size_mask,
                                                   time_mask)


def test_gen1_and_1mpx_constants_are_rvts():
    gen1, mpx = get_camera('gen1'), get_camera('1mpx')
    assert (gen1.width, gen1.height, gen1.min_box_diag, gen1.min_box_side, gen1.skip_us) == \
        (304, 240, 30, 10, 500_000)
    assert (mpx.width, mpx.height, mpx.min_box_diag, mpx.min_box_side) == (1280, 720, 60, 20)
    assert gen1.classes == ('car', 'pedestrian')
    assert get_camera('gen4') is mpx
    with pytest.raises(ValueError, match="camera='gen2'"):
        get_camera('gen2')


def test_size_rule_on_gen1_edges():
    cam = get_camera('gen1')
    w = np.array([10, 9.9, 22, 21, 30, 29.9])
    h = np.array([29, 40, 21, 21, 10, 40])
    # 10x29: diag 30.7 ok; 9.9 side too small; 22x21: diag 30.4 ok; 21x21: diag 29.7 too small;
    # 30x10 ok; 29.9 wide but 40 high ok
    assert size_mask(w, h, cam).tolist() == [True, False, True, False, True, True]


def test_early_labels_are_skipped_by_absolute_time():
    cam = get_camera('gen1')
    assert time_mask(np.array([0, 100_000, 500_000, 500_001]), cam).tolist() == \
        [False, False, False, True]


def test_crop_to_sensor_as_rvt():
    b = np.zeros(3, BBOX_DTYPE)
    b['x'], b['y'], b['w'], b['h'] = [-10, 300, 310], [5, 230, 5], [30, 20, 5], [10, 20, 5]
    out = crop_to_sensor(b, 304, 240)
    assert out['x'].tolist() == [0, 300] and out['w'].tolist() == [20, 3]
    assert out['y'].tolist() == [5, 230] and out['h'].tolist() == [10, 9]
