"""Pipeline transforms that turn a window of events into the detector's input tensor."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS
from ..events.representations import time_binned_histogram, voxel_grid


class _EventRepresentation(BaseTransform):
    """Replace ``results['events']`` by ``results['img']``, ``(H, W, C)`` float32 event counts
    (the image layout MMDetection's transforms and ``PackDetInputs`` expect)."""

    def __init__(self, num_bins: int = 1) -> None:
        if not isinstance(num_bins, int) or num_bins < 1:
            raise ValueError(f'num_bins={num_bins!r}: expected an integer >= 1')
        self.num_bins = num_bins

    def represent(self, events, width, height, t0, t1) -> np.ndarray:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        if 'events' not in results:
            raise KeyError(f'{self.__class__.__name__} needs results["events"]: put '
                           'LoadPropheseeEvents before it in the pipeline')
        height, width = results['ori_shape']
        t0, t1 = results['event_window']
        tensor = self.represent(results.pop('events'), width, height, t0, t1)
        results['img'] = np.ascontiguousarray(tensor.transpose(1, 2, 0))
        results['img_shape'] = (height, width)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_bins={self.num_bins})'


@TRANSFORMS.register_module()
class EventHistogram(_EventRepresentation):
    """Event counts per pixel, polarity and time bin: 2 channels (OFF, ON) with
    ``num_bins=1``, 2·B channels with ``num_bins=B`` (the window cut into B equal bins,
    polarity-major as RVT's stacked histogram). Every event adds 1: the channels sum to the
    window's event count."""

    def represent(self, events, width, height, t0, t1):
        return time_binned_histogram(events, width, height, self.num_bins, t0, t1)


@TRANSFORMS.register_module()
class EventVoxelGrid(_EventRepresentation):
    """2·B channels, each event split between its two nearest time bins by linear
    interpolation (Zhu et al. 2019's event volume), OFF and ON apart; channels sum to the
    window's event count."""

    def represent(self, events, width, height, t0, t1):
        return voxel_grid(events, width, height, self.num_bins, t0, t1)
