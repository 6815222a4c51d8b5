"""Prophesee's automotive event-camera detection sets (Gen1, 1Mpx) as an MMDetection dataset."""
import glob
import os.path as osp
from typing import List

import numpy as np

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from .events.box_labels import load_boxes
from .events.dat_file import DatFile, EventFileError
from .events.protocol import crop_to_sensor, get_camera, size_mask, time_mask

#: what a user must put where (the missing-data error prints it)
LAYOUT = ('<data_root>/{train,val,test}/<recording>_td.dat with <recording>_bbox.npy beside each '
          '(the layout of Prophesee\'s Gen1 and 1 Megapixel automotive archives, extracted; '
          'Gen1: https://www.prophesee.ai/2020/01/24/prophesee-gen1-automotive-detection-dataset/'
          ', docs/guides/events.md)')


@DATASETS.register_module()
class PropheseeDetDataset(BaseDetDataset):
    """One sample per labelled timestamp of every recording in ``data_root/data_prefix.events``.

    A sample's ``img_path`` is its recording's ``_td.dat`` file and ``timestamp`` its label time
    (µs); :class:`~mmdet_hoyer.datasets.transforms.LoadPropheseeEvents` reads the window of
    events before it. Boxes are cropped to the sensor and filtered by the camera's size rule
    (:mod:`~mmdet_hoyer.datasets.events.protocol`) in every split, as RVT prepares Gen1; in
    ``test_mode`` the protocol's early labels (``t <= 0.5 s``) are skipped too, and only
    timestamps with a box left are samples ("KPIs are only computed on timestamps where there is
    at least one box", the toolbox's ``evaluate_detection``). Timestamps left without a box are
    dropped from training as well.

    Args:
        camera: ``'gen1'`` (304x240) or ``'1mpx'`` (1280x720): sensor size and filters.
        data_prefix: ``dict(events='train/')``: the split's folder under ``data_root``.
        protocol_filters: apply the size and early-label filters (on by default; off keeps
            every box inside the sensor).
        metainfo: ``classes`` in ``class_id`` order (default: the camera's scored classes);
            label files with a larger ``class_id`` are an error, except the 1Mpx classes the
            protocol drops (3-6).
    """

    METAINFO = dict(classes=('car', 'pedestrian'), palette=[(220, 20, 60), (0, 0, 142)])

    def __init__(self, *args, camera: str = 'gen1', data_prefix: dict = dict(events=''),
                 protocol_filters: bool = True, **kwargs) -> None:
        self.camera = get_camera(camera)
        self.protocol_filters = protocol_filters
        if 'events' not in data_prefix:
            raise ValueError(f'data_prefix={data_prefix}: expected dict(events=<split folder>)')
        if 'metainfo' not in kwargs and self.camera.name != 'gen1':
            kwargs['metainfo'] = dict(classes=self.camera.classes)
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        folder = self.data_prefix['events']
        if not osp.isdir(folder):
            raise FileNotFoundError(f'data_prefix.events: folder {folder!r} does not exist. '
                                    f'Expected {LAYOUT}')
        recordings = sorted(glob.glob(osp.join(folder, '*_td.dat')))
        if not recordings:
            raise FileNotFoundError(f'{folder}: no *_td.dat recording. Expected {LAYOUT}')
        data_list = []
        for dat in recordings:
            for ts, boxes in self._samples(dat):
                data_list.append(dict(
                    img_path=dat, img_id=len(data_list), timestamp=int(ts),
                    sequence=osp.basename(dat)[:-len('_td.dat')],
                    width=self.camera.width, height=self.camera.height,
                    instances=[dict(bbox=[float(b['x']), float(b['y']),
                                          float(b['x'] + b['w']), float(b['y'] + b['h'])],
                                    bbox_label=int(b['class_id']), ignore_flag=0)
                               for b in boxes]))
        if not data_list:
            raise ValueError(f'{folder}: {len(recordings)} recordings but no labelled timestamp '
                             'with a box left after the protocol\'s filters (boxes too small, or '
                             'all before 0.5 s in test mode); protocol_filters=False keeps them')
        return data_list

    def _samples(self, dat: str):
        """``(timestamp, boxes)`` of one recording, after the checks and the protocol."""
        label_file = dat[:-len('_td.dat')] + '_bbox.npy'
        if not osp.isfile(label_file):
            raise FileNotFoundError(f'{dat}: its label file {label_file} is missing')
        events = DatFile(dat, sensor_size=(self.camera.width, self.camera.height))
        boxes = load_boxes(label_file)
        num_classes = len(self.metainfo['classes'])
        if self.camera.name == '1mpx':
            boxes = boxes[boxes['class_id'] < len(self.camera.classes)]
        if len(boxes) and int(boxes['class_id'].max()) >= num_classes:
            raise EventFileError(
                f'{label_file}: class_id {int(boxes["class_id"].max())} but the dataset has '
                f'{num_classes} classes {self.metainfo["classes"]}')
        first, last = events.time_range
        if len(boxes) and (not len(events) or boxes['t'].max() > last + 1_000_000):
            raise EventFileError(
                f'{label_file}: labels up to t={int(boxes["t"].max())} µs but its events '
                f'{dat} end at {last} µs ({len(events)} events): the label file does not '
                'belong to this recording')
        boxes = crop_to_sensor(boxes, self.camera.width, self.camera.height)
        if self.protocol_filters:
            keep = size_mask(boxes['w'], boxes['h'], self.camera)
            if self.test_mode:
                keep &= time_mask(boxes['t'], self.camera)
            boxes = boxes[keep]
        for ts in np.unique(boxes['t']):
            yield ts, boxes[boxes['t'] == ts]
