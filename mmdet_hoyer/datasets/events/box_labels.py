"""Prophesee box labels (``<recording>_bbox.npy``): a structured array of boxes per timestamp.

Fields as the automotive dataset toolbox's ``BBOX_DTYPE`` (``src/io/box_loading.py``): ``t``
(µs), ``x``, ``y``, ``w``, ``h`` (float32, top-left corner and size in pixels), ``class_id``,
``track_id``, ``class_confidence``. Gen1's files use the older names ``ts`` and ``confidence``
(the toolbox's ``reformat_boxes`` maps them; its README: "ts has been renamed t ... confidence
is now class_confidence" for the 1Mpx set). :func:`load_boxes` accepts both and returns the
new names.
"""
import os
import os.path as osp

import numpy as np

from .dat_file import EventFileError

#: the toolbox's ``BBOX_DTYPE`` (new names)
BBOX_DTYPE = np.dtype({'names': ['t', 'x', 'y', 'w', 'h', 'class_id', 'track_id',
                                 'class_confidence'],
                       'formats': ['<i8', '<f4', '<f4', '<f4', '<f4', '<u4', '<u4', '<f4'],
                       'offsets': [0, 8, 12, 16, 20, 24, 28, 32], 'itemsize': 40})
#: Gen1's label files as released: ``ts`` uint64 µs and ``confidence``
GEN1_BBOX_DTYPE = np.dtype([('ts', '<u8'), ('x', '<f4'), ('y', '<f4'), ('w', '<f4'),
                            ('h', '<f4'), ('class_id', 'u1'), ('confidence', '<f4'),
                            ('track_id', '<u4')])
_OLD_NAMES = {'ts': 't', 'confidence': 'class_confidence'}
_REQUIRED = ('t', 'x', 'y', 'w', 'h', 'class_id')


def load_boxes(path: str) -> np.ndarray:
    """Read a ``_bbox.npy`` file as :data:`BBOX_DTYPE` (old field names mapped), checking the
    fields, finite non-negative sizes and time order; errors name the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such label file')
    try:
        boxes = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise EventFileError(f'{path}: not a numpy structured array of boxes ({e})') from None
    names = boxes.dtype.names or ()
    found = {_OLD_NAMES.get(n, n) for n in names}
    missing = [n for n in _REQUIRED if n not in found]
    if boxes.ndim != 1 or missing:
        raise EventFileError(
            f'{path}: expected a 1-d structured array with fields t (or ts), x, y, w, h, '
            f'class_id[, track_id, class_confidence (or confidence)]; missing {missing or "-"}, '
            f'got dtype {boxes.dtype} of shape {boxes.shape}')
    out = np.zeros(len(boxes), BBOX_DTYPE)
    for n in names:
        new = _OLD_NAMES.get(n, n)
        if new in BBOX_DTYPE.names:
            out[new] = boxes[n]
    geometry = np.stack([out[k] for k in ('x', 'y', 'w', 'h')]) if len(out) else np.zeros((4, 0))
    if not np.all(np.isfinite(geometry)) or np.any(out['w'] < 0) or np.any(out['h'] < 0):
        raise EventFileError(f'{path}: boxes with a non-finite coordinate or a negative size')
    if np.any(np.diff(out['t']) < 0):
        raise EventFileError(f'{path}: box timestamps are not in time order')
    return out


def save_boxes(path: str, boxes: np.ndarray, gen1_names: bool = True) -> None:
    """Write boxes (:data:`BBOX_DTYPE` fields) as a ``_bbox.npy`` file, with Gen1's field names
    (``ts``, ``confidence``) by default, the 1Mpx ones otherwise."""
    dtype = GEN1_BBOX_DTYPE if gen1_names else BBOX_DTYPE
    out = np.zeros(len(boxes), dtype)
    for n in dtype.names:
        out[n] = boxes[_OLD_NAMES.get(n, n)]
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    np.save(path, out)
