"""The bundled event demo: recordings of moving digits and shapes, written as Gen1 files.

Each recording is rendered frame by frame at the Gen1 sensor's size (304x240) and turned into
events by :class:`~.simulator.EventSimulator`: handwritten digits (scikit-learn's, as the image
demo; train and val from disjoint writers) and filled shapes (rectangles, ellipses, triangles)
translate, bounce, grow and shrink and pass in front of each other, over a textured background
that pans with the camera. Labels every ``label_interval_us`` (class 0 ``digit``, 1 ``shape``,
two classes as Gen1's car and pedestrian) are the boxes of the objects at least
``min_visible`` visible. The files are real Gen1-format files (``<name>_td.dat`` +
``<name>_bbox.npy`` with Gen1's field names) in Gen1's ``train/ val/ test/`` layout, so
:class:`~mmdet_hoyer.datasets.PropheseeDetDataset` reads them exactly as it reads Gen1.
"""
import json
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .box_labels import BBOX_DTYPE, save_boxes
from .dat_file import write_dat
from .simulator import EventSimulator, SensorConfig

CLASSES = ('digit', 'shape')
WIDTH, HEIGHT = 304, 240  # Gen1's ATIS sensor


@dataclass
class DemoConfig:
    duration_us: int = 3_000_000
    fps: int = 200
    label_interval_us: int = 50_000
    num_objects: Tuple[int, int] = (2, 5)
    object_height: Tuple[int, int] = (30, 80)  # px on the 304x240 sensor
    speed: Tuple[float, float] = (40.0, 160.0)  # px/s
    growth: float = 0.25  # |d log(scale) / dt| up to this, 1/s
    camera_speed: float = 40.0  # px/s, the background's pan
    min_visible: float = 0.4


def _digit_pool(split: str) -> np.ndarray:
    """8x8 digits in [0, 1]; train and val/test from disjoint halves (writers) of the set."""
    from sklearn.datasets import load_digits
    images = load_digits().images.astype(np.float32) / 16.0
    order = np.random.RandomState(0).permutation(len(images))
    half = len(images) // 2
    return images[order[:half]] if split == 'train' else images[order[half:]]


def _texture(rng: np.random.RandomState, h: int, w: int) -> np.ndarray:
    """A background texture in [0.15, 0.85]: smooth noise at three scales plus a few stripes."""
    tex = np.zeros((h, w), np.float32)
    for cells, weight in ((4, 0.5), (12, 0.3), (40, 0.2)):
        low = rng.uniform(0, 1, (cells, max(2, cells * w // h))).astype(np.float32)
        tex += weight * cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(rng.randint(0, 4)):
        a, f = rng.uniform(0, np.pi), rng.uniform(0.02, 0.08)
        tex += 0.08 * np.sin(f * (np.cos(a) * xx + np.sin(a) * yy))
    tex = (tex - tex.min()) / max(float(tex.max() - tex.min()), 1e-6)
    return 0.15 + 0.7 * tex


def _sprite(rng: np.random.RandomState, cls: int, pool: np.ndarray) -> np.ndarray:
    """Alpha mask of one object at 64 px height (drawn scaled later)."""
    if cls == 0:
        digit = pool[rng.randint(len(pool))]
        aspect = rng.uniform(0.65, 0.9)
        return cv2.resize(digit, (int(64 * aspect), 64), interpolation=cv2.INTER_LINEAR).clip(0, 1)
    kind = rng.randint(3)
    w = int(64 * rng.uniform(0.7, 1.6))
    mask = np.zeros((64, w), np.uint8)
    if kind == 0:
        cv2.rectangle(mask, (2, 2), (w - 3, 61), 255, -1)
    elif kind == 1:
        cv2.ellipse(mask, (w // 2, 32), (w // 2 - 2, 30), 0, 0, 360, 255, -1)
    else:
        pts = np.array([[w // 2, 2], [2, 61], [w - 3, 61]], np.int32)
        cv2.fillPoly(mask, [pts], 255)
    return mask.astype(np.float32) / 255.0


class _Object:
    def __init__(self, rng, cls, pool, cfg: DemoConfig):
        self.cls = cls
        self.alpha = _sprite(rng, cls, pool)
        self.height0 = rng.uniform(*cfg.object_height)
        self.log_scale = 0.0
        self.growth = rng.uniform(-cfg.growth, cfg.growth)
        self.pos = np.array([rng.uniform(0.2, 0.8) * WIDTH, rng.uniform(0.2, 0.8) * HEIGHT])
        angle, speed = rng.uniform(0, 2 * np.pi), rng.uniform(*cfg.speed)
        self.vel = speed * np.array([np.cos(angle), np.sin(angle)])
        self.value = rng.uniform(0.0, 0.12) if rng.rand() < 0.5 else rng.uniform(0.88, 1.0)
        lo, hi = np.log(cfg.object_height[0] / self.height0), np.log(cfg.object_height[1] / self.height0)
        self.scale_range = (min(lo, 0.0), max(hi, 0.0))

    def step(self, dt: float) -> None:
        self.pos += self.vel * dt
        self.log_scale += self.growth * dt
        if not self.scale_range[0] <= self.log_scale <= self.scale_range[1]:
            self.growth = -self.growth
            self.log_scale = float(np.clip(self.log_scale, *self.scale_range))
        half = 0.5 * self.size()
        for i, limit in enumerate((WIDTH, HEIGHT)):  # bounce, keeping most of it in view
            if self.pos[i] < half[i] * 0.5 and self.vel[i] < 0 or \
                    self.pos[i] > limit - half[i] * 0.5 and self.vel[i] > 0:
                self.vel[i] = -self.vel[i]

    def size(self) -> np.ndarray:
        s = self.height0 * np.exp(self.log_scale) / 64.0
        return np.array([self.alpha.shape[1] * s, self.alpha.shape[0] * s])

    def warped_alpha(self) -> np.ndarray:
        s = self.height0 * np.exp(self.log_scale) / 64.0
        cx, cy = (self.alpha.shape[1] - 1) / 2, (self.alpha.shape[0] - 1) / 2
        m = np.array([[s, 0, self.pos[0] - s * cx], [0, s, self.pos[1] - s * cy]], np.float32)
        return cv2.warpAffine(self.alpha, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)


def render_recording(seed: int, split: str, cfg: DemoConfig,
                     sensor: SensorConfig) -> Tuple[np.ndarray, np.ndarray]:
    """Events and labels (:data:`~.box_labels.BBOX_DTYPE`) of one recording."""
    rng = np.random.RandomState(seed)
    pool = _digit_pool(split)
    texture = _texture(rng, 2 * HEIGHT, 2 * WIDTH)
    objects = [_Object(rng, int(rng.rand() < 0.5), pool, cfg)
               for _ in range(rng.randint(cfg.num_objects[0], cfg.num_objects[1] + 1))]
    cam = np.array([WIDTH / 2, HEIGHT / 2])
    cam_vel = rng.uniform(-1, 1, 2) * cfg.camera_speed
    sim = EventSimulator(WIDTH, HEIGHT, sensor, seed=seed)
    dt_us = 1_000_000 // cfg.fps
    events, labels = [], []
    for t in range(0, cfg.duration_us + 1, dt_us):
        if t:
            for obj in objects:
                obj.step(dt_us * 1e-6)
            cam += cam_vel * dt_us * 1e-6
            for i, limit in enumerate((WIDTH, HEIGHT)):
                if not 0 <= cam[i] <= limit:
                    cam_vel[i] = -cam_vel[i]
                    cam[i] = np.clip(cam[i], 0, limit)
        shift = np.array([[1, 0, -cam[0]], [0, 1, -cam[1]]], np.float32)
        frame = cv2.warpAffine(texture, shift, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        alphas = [obj.warped_alpha() for obj in objects]
        for obj, a in zip(objects, alphas):
            frame = frame * (1 - a) + obj.value * a
        events.append(sim.add_frame(frame, t))
        if t and t % cfg.label_interval_us == 0:
            labels.extend(_labels(t, objects, alphas, cfg.min_visible))
    boxes = np.zeros(len(labels), BBOX_DTYPE)
    for i, (t, x, y, w, h, cls, track) in enumerate(labels):
        boxes[i] = (t, x, y, w, h, cls, track, 1.0)
    return np.concatenate(events), boxes


def _labels(t: int, objects: List[_Object], alphas: List[np.ndarray], min_visible: float):
    out = []
    for i, (obj, a) in enumerate(zip(objects, alphas)):
        full = a > 0.5
        if full.sum() < 4:
            continue
        visible = a.copy()
        for b in alphas[i + 1:]:  # later objects are drawn on top
            visible *= 1 - b
        if (visible > 0.5).sum() < min_visible * full.sum():
            continue
        ys, xs = np.nonzero(full)
        out.append((t, float(xs.min()), float(ys.min()), float(xs.max() + 1 - xs.min()),
                    float(ys.max() + 1 - ys.min()), obj.cls, i))
    return out


def make_event_demo(out_dir: str, splits: Dict[str, int] = None, cfg: DemoConfig = None,
                    sensor: SensorConfig = None, seed: int = 0) -> Dict[str, List[str]]:
    """Write the demo's recordings under ``out_dir/{train,val,test}/`` as Gen1 files; returns
    the recording names per split. ``splits`` maps a split to its number of recordings."""
    splits = splits or {'train': 20, 'val': 6}
    cfg, sensor = cfg or DemoConfig(), sensor or SensorConfig()
    names: Dict[str, List[str]] = {}
    for s_idx, (split, count) in enumerate(splits.items()):
        names[split] = []
        for i in range(count):
            name = f'demo_{split}_{i:03d}'
            events, boxes = render_recording(seed * 100_003 + s_idx * 10_007 + i, split, cfg,
                                             sensor)
            write_dat(osp.join(out_dir, split, f'{name}_td.dat'), events, WIDTH, HEIGHT)
            save_boxes(osp.join(out_dir, split, f'{name}_bbox.npy'), boxes)
            names[split].append(name)
    # written last: its presence means a complete set (the Makefile's check)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(dict(classes=CLASSES, sensor=(WIDTH, HEIGHT), seed=seed, recordings=names,
                       demo=asdict(cfg), simulator=asdict(sensor)), f, indent=1)
    return names
