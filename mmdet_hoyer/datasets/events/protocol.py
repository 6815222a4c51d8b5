"""The Gen1 / 1Mpx detection protocol: which labels count, and which boxes are scored.

Two sources define it and they differ; this module follows RVT's copy
(``utils/evaluation/prophesee/evaluation.py`` and ``scripts/genx/preprocess_dataset.py`` of
uzh-rpg/RVT), the evaluation behind RVT's published Gen1 / 1Mpx figures and the recent spiking
detectors compared against them:

* Prophesee's toolbox: ``src/io/box_filtering.py::filter_boxes`` *documents* "skip all boxes
  before 0.5s"; its ``src/psee_evaluator.py`` calls it with ``skip_ts=int(1e5)`` (0.1 s) and
  ``min_box_side = 20 if camera == 'GEN1' else 10`` (sides of 20 px on Gen1, 10 on 1Mpx).
* RVT: ``skip_ts=int(5e5)`` (0.5 s), sides of 10 px on Gen1 and 20 px on 1Mpx ("corrected values
  from the supplementary material"), diagonals of 30 / 60 px as the toolbox; labels are first
  cropped to the sensor (``crop_to_fov_filter``) and the 1Mpx set keeps classes 0-2.

Both skip by absolute time ("we assume the initial time of the video is always 0"), not from the
first box, and filter ground truth and detections with the same rule. Sizes are in the
sensor's pixels (RVT halves them on frames downsampled by 2; the metric here scores boxes in
sensor coordinates, which is the same).
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np


@dataclass(frozen=True)
class Camera:
    """One Prophesee detection set's sensor and evaluation constants."""
    name: str
    width: int
    height: int
    #: class names in ``class_id`` order, the classes the published mAP averages over
    classes: Tuple[str, ...]
    #: RVT ``evaluation.py``: ``min_box_diag = 60 if camera == 'gen4' else 30``
    min_box_diag: float
    #: RVT ``evaluation.py``: ``min_box_side = 20 if camera == 'gen4' else 10``
    min_box_side: float
    #: RVT ``evaluation.py``: ``half_sec_us = int(5e5)`` passed as ``filter_boxes``' skip_ts
    skip_us: int = 500_000


CAMERAS = {
    # Gen1 Automotive: ATIS 304x240, classes car (0) and pedestrian (1) (RVT evaluation.py)
    'gen1': Camera('gen1', 304, 240, ('car', 'pedestrian'), 30, 10),
    # 1 Megapixel Automotive: 1280x720, seven labelled classes of which the protocol keeps
    # pedestrian (0), two-wheeler (1), car (2) (RVT prophesee_remove_labels_filter_gen4)
    '1mpx': Camera('1mpx', 1280, 720, ('pedestrian', 'two-wheeler', 'car'), 60, 20),
}


def get_camera(name: str) -> Camera:
    """The :class:`Camera` called ``name`` ('gen1' or '1mpx'; RVT's 'gen4' is '1mpx')."""
    key = {'gen4': '1mpx'}.get(name.lower(), name.lower())
    if key not in CAMERAS:
        raise ValueError(f'camera={name!r}: expected one of {sorted(CAMERAS)} (or "gen4")')
    return CAMERAS[key]


def crop_to_sensor(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip boxes (fields ``x, y, w, h``) to the sensor and drop the empty ones, as RVT's
    ``crop_to_fov_filter`` (Gen1 and 1Mpx labels can reach outside the frame)."""
    x0 = np.clip(boxes['x'], 0, width - 1)
    y0 = np.clip(boxes['y'], 0, height - 1)
    x1 = np.clip(boxes['x'] + boxes['w'], 0, width - 1)
    y1 = np.clip(boxes['y'] + boxes['h'], 0, height - 1)
    out = boxes.copy()
    out['x'], out['y'], out['w'], out['h'] = x0, y0, x1 - x0, y1 - y0
    return out[(out['w'] > 0) & (out['h'] > 0)]


def size_mask(w: np.ndarray, h: np.ndarray, camera: Camera) -> np.ndarray:
    """Boxes the protocol scores by size: ``w² + h² >= min_box_diag²`` and both sides
    ``>= min_box_side`` (RVT ``prophesee_bbox_filter`` / the toolbox's ``filter_boxes``)."""
    w, h = np.asarray(w, np.float64), np.asarray(h, np.float64)
    return ((w ** 2 + h ** 2 >= camera.min_box_diag ** 2) & (w >= camera.min_box_side)
            & (h >= camera.min_box_side))


def time_mask(t: np.ndarray, camera: Camera) -> np.ndarray:
    """Labels late enough to be scored: ``t > skip_us`` (µs from the recording's start)."""
    return np.asarray(t) > camera.skip_us
