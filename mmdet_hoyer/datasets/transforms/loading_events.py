"""Load the window of events before a sample's label time (the events' ``LoadImageFromFile``)."""
from collections import OrderedDict

from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS
from ..events.dat_file import DatFile


@TRANSFORMS.register_module()
class LoadPropheseeEvents(BaseTransform):
    """Read the events with ``timestamp - window_us <= t < timestamp`` from the sample's
    ``.dat`` file (``img_path``) into ``results['events']``; sets ``img_shape`` and
    ``ori_shape`` to the sensor's ``(height, width)`` and ``scale_factor`` to 1.

    Args:
        window_us: the window's length in µs (50 ms by default, as RVT's and most spiking
            detectors' Gen1 inputs). The one-step SNN sees only this window: a longer one gives
            slow objects more events and fast ones more blur (docs/guides/events.md).
        max_open_files: memory-mapped recordings kept open per worker.
    """

    def __init__(self, window_us: int = 50_000, max_open_files: int = 32) -> None:
        if not isinstance(window_us, int) or window_us <= 0:
            raise ValueError(f'window_us={window_us!r}: expected a positive integer (µs)')
        self.window_us = window_us
        self.max_open_files = max_open_files
        self._files: 'OrderedDict[str, DatFile]' = OrderedDict()

    def _open(self, path: str, width: int, height: int) -> DatFile:
        f = self._files.pop(path, None) or DatFile(path, sensor_size=(width, height))
        self._files[path] = f
        while len(self._files) > self.max_open_files:
            self._files.popitem(last=False)
        return f

    def transform(self, results: dict) -> dict:
        f = self._open(results['img_path'], results['width'], results['height'])
        t1 = int(results['timestamp'])
        t0 = t1 - self.window_us
        results['events'] = f.window(t0, t1)
        results['event_window'] = (t0, t1)
        results['img_shape'] = results['ori_shape'] = (f.height, f.width)
        results['scale_factor'] = (1.0, 1.0)  # sensor pixels, until a Resize changes it
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(window_us={self.window_us})'
