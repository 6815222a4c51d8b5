"""Inference on event files: MMDetection's ``inference_detector`` for a window of events."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from torch import nn

from ..datasets.events.dat_file import DatFile


def events_window(path: str, timestamp: int, window_us: int,
                  sensor_size: Optional[Sequence[int]] = None) -> np.ndarray:
    """The events with ``timestamp - window_us <= t < timestamp`` of a ``.dat`` file."""
    return DatFile(path, sensor_size=sensor_size).window(timestamp - window_us, timestamp)


def event_frame(events: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGB picture of a window of events: white background, ON events red, OFF blue (the
    later event wins a pixel), as event-camera viewers draw them."""
    img = np.full((height, width, 3), 255, np.uint8)
    colours = np.array([[40, 90, 230], [220, 40, 40]], np.uint8)  # OFF, ON
    img[events['y'], events['x']] = colours[events['p'].astype(np.int64)]
    return img


def inference_events(model: nn.Module, path: str,
                     timestamps: Union[int, Sequence[int]]):
    """Detect objects in the windows of a ``.dat`` file ending at ``timestamps`` (µs), through
    the model config's test pipeline (``LoadPropheseeEvents`` and the representation); returns
    a ``DetDataSample`` per timestamp (one if an int was given), boxes in sensor pixels."""
    single = isinstance(timestamps, (int, np.integer))
    cfg = model.cfg
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    f = DatFile(path, sensor_size=_sensor(cfg))
    samples = []
    for t in [timestamps] if single else timestamps:
        data = pipeline(dict(img_path=path, img_id=0, timestamp=int(t), width=f.width,
                             height=f.height, instances=[]))
        with torch.no_grad():
            samples.append(model.test_step(pseudo_collate([data]))[0])
    return samples[0] if single else samples


def event_window_us(cfg) -> Optional[int]:
    """The window length of an event-camera config's test pipeline (``LoadPropheseeEvents``),
    ``None`` for an image config."""
    from mmdet.registry import TRANSFORMS
    for t in cfg.test_dataloader.dataset.pipeline:
        if t.get('type') == 'LoadPropheseeEvents':
            return TRANSFORMS.build(t).window_us  # the transform's own default when unset
    return None


def sample_picture(cfg, info: dict) -> np.ndarray:
    """RGB picture of a dataset sample: the image, or for an event dataset the frame of the
    window the detector reads."""
    window = event_window_us(cfg)
    if window is None:
        import mmcv
        return mmcv.imread(info['img_path'], channel_order='rgb')
    events = events_window(info['img_path'], info['timestamp'], window,
                           (info['width'], info['height']))
    return event_frame(events, info['width'], info['height'])


def inference_sample(model: nn.Module, info: dict):
    """``inference_detector`` on a dataset sample's image, or :func:`inference_events` on its
    window of events."""
    if event_window_us(model.cfg) is None:
        from mmdet.apis import inference_detector
        return inference_detector(model, info['img_path'])
    return inference_events(model, info['img_path'], info['timestamp'])


def _sensor(cfg):
    """The sensor size of the config's event dataset (its camera), for headerless files."""
    from ..datasets.events.protocol import get_camera
    camera = get_camera(cfg.test_dataloader.dataset.get('camera', 'gen1'))
    return camera.width, camera.height
