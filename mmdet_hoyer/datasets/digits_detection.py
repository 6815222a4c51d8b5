"""A small, real detection set built from scikit-learn's handwritten digits (no download).

``sklearn.datasets.load_digits`` ships 1,797 real 8×8 handwritten digits (UCI optdigits). This
module pastes them at random scales and positions onto varied backgrounds and writes a
COCO-format detection set (10 classes, '0'..'9'), deterministic for a given seed. The
handwriting of the train and val splits comes from disjoint halves of the digit pool, so val
measures generalisation to unseen writers' digits, not memorisation.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .imagenet_crops import coco_to_imagenet_crops
from .voc_export import coco_to_voc

CLASSES = tuple(str(i) for i in range(10))


def _digit_pool(split: str, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Digits (float32 in [0, 1], 8×8) and labels of one split: a fixed half of sklearn's set."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    order = np.random.RandomState(seed).permutation(len(images))
    half = len(images) // 2
    idx = order[:half] if split == 'train' else order[half:]
    return images[idx], digits.target[idx]


def _background(rng: np.random.RandomState, h: int, w: int) -> np.ndarray:
    """An RGB float background: gradient, smooth blobs or flat colour, each with noise."""
    kind = rng.randint(3)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    if kind == 0:  # linear gradient in a random direction
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
        img = c0[None, None] * (1 - t[..., None]) + c1[None, None] * t[..., None]
    elif kind == 1:  # smooth random blobs
        low = rng.uniform(0, 1, (rng.randint(2, 6), rng.randint(2, 6), 1)).astype(np.float32)
        t = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)[..., None]
        img = c0[None, None] * (1 - t) + c1[None, None] * t
    else:
        img = np.broadcast_to(c0[None, None], (h, w, 3)).copy()
    img = img + rng.normal(0, rng.uniform(2, 12), (h, w, 3))
    return img.astype(np.float32)


def _render_image(rng: np.random.RandomState, pool: np.ndarray, labels: np.ndarray,
                  size_range: Tuple[int, int], digit_range: Tuple[int, int],
                  num_range: Tuple[int, int]) -> Tuple[np.ndarray, List[Dict]]:
    h, w = rng.randint(size_range[0], size_range[1] + 1, 2)
    img = _background(rng, h, w)
    boxes: List[Tuple[float, float, float, float]] = []
    anns = []
    for _ in range(rng.randint(num_range[0], num_range[1] + 1)):
        for _attempt in range(30):
            k = rng.randint(len(pool))
            dh = int(rng.randint(digit_range[0], digit_range[1] + 1))
            dw = int(np.clip(round(dh * rng.uniform(0.75, 1.1)), 6, w - 2))
            dh = min(dh, h - 2)
            mask = cv2.resize(pool[k], (dw, dh), interpolation=cv2.INTER_LINEAR).clip(0, 1)
            ys, xs = np.nonzero(mask > 0.25)
            if len(ys) == 0:
                continue
            x0 = rng.randint(0, w - dw + 1)
            y0 = rng.randint(0, h - dh + 1)
            box = (x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1)
            if any(box[0] < b[2] + 2 and b[0] < box[2] + 2 and box[1] < b[3] + 2
                   and b[1] < box[3] + 2 for b in boxes):
                continue
            region = img[y0:y0 + dh, x0:x0 + dw]
            bg_lum = float((region @ np.array([0.299, 0.587, 0.114], np.float32)).mean())
            # ink contrasting with the local background, with random hue
            ink = rng.uniform(0, 90, 3) if bg_lum > 128 else rng.uniform(165, 255, 3)
            alpha = mask[..., None] * rng.uniform(0.8, 1.0)
            img[y0:y0 + dh, x0:x0 + dw] = region * (1 - alpha) + ink[None, None] * alpha
            boxes.append(box)
            anns.append(dict(bbox=[float(box[0]), float(box[1]), float(box[2] - box[0]),
                                   float(box[3] - box[1])], label=int(labels[k])))
            break
    return np.clip(img, 0, 255).astype(np.uint8), anns


def make_digits_detection(out_dir: str,
                          num_train: int = 1000,
                          num_val: int = 200,
                          seed: int = 0,
                          size_range: Sequence[int] = (128, 160),
                          digit_range: Sequence[int] = (16, 44),
                          num_range: Sequence[int] = (2, 5),
                          splits: Optional[Sequence[str]] = None,
                          voc: bool = True,
                          crops: bool = True) -> Dict[str, str]:
    """Write ``{out_dir}/{train,val}/*.jpg`` and ``{out_dir}/annotations/instances_{split}.json``,
    and (``voc=True``) the same images and boxes in VOC layout under ``{out_dir}/VOCdevkit/VOC2007``
    (``ImageSets/Main/{train,val}.txt``, see :func:`~mmdet_hoyer.datasets.voc_export.coco_to_voc`),
    and (``crops=True``) one square crop per box in ImageNet's layout under ``{out_dir}/crops``
    (stage 1's classification set, :func:`~mmdet_hoyer.datasets.imagenet_crops.coco_to_imagenet_crops`).

    Args:
        out_dir: output directory (created).
        num_train, num_val: images per split (>= 1).
        seed: the set is a deterministic function of the arguments.
        size_range: min/max image side in px.
        digit_range: min/max digit height in px.
        num_range: min/max digits per image.

    Returns:
        ``{split: annotation file path}``.
    """
    for name, value in (('num_train', num_train), ('num_val', num_val)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f'make_digits_detection: {name} must be an int >= 1, got {value!r}')
    for name, rng_ in (('size_range', size_range), ('digit_range', digit_range),
                       ('num_range', num_range)):
        if len(rng_) != 2 or not 0 < rng_[0] <= rng_[1]:
            raise ValueError(f'make_digits_detection: {name} must be (min, max) with '
                             f'0 < min <= max, got {tuple(rng_)!r}')
    if digit_range[1] + 2 > size_range[0]:
        raise ValueError('make_digits_detection: digit_range max must be smaller than the '
                         f'smallest image side, got digit_range={tuple(digit_range)} and '
                         f'size_range={tuple(size_range)}')
    counts = {'train': num_train, 'val': num_val}
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    written = {}
    for s_idx, split in enumerate(splits or ('train', 'val')):
        pool, labels = _digit_pool(split, seed)
        rng = np.random.RandomState(seed * 1000 + 17 + s_idx)
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for i in range(counts[split]):
            img, anns = _render_image(rng, pool, labels, tuple(size_range), tuple(digit_range),
                                      tuple(num_range))
            file_name = f'{i:06d}.jpg'
            cv2.imwrite(osp.join(out_dir, split, file_name), img[..., ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            images.append(dict(id=i + 1, file_name=file_name, height=img.shape[0],
                               width=img.shape[1]))
            for a in anns:
                annotations.append(dict(id=len(annotations) + 1, image_id=i + 1,
                                        category_id=a['label'] + 1, bbox=a['bbox'],
                                        area=a['bbox'][2] * a['bbox'][3], iscrowd=0))
        coco = dict(images=images, annotations=annotations,
                    categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)])
        path = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        with open(path, 'w') as f:
            json.dump(coco, f)
        written[split] = path
    if voc:
        coco_to_voc(out_dir, dict(written))
    if crops:
        coco_to_imagenet_crops(dict(written), {split: osp.join(out_dir, split) for split in written},
                               osp.join(out_dir, 'crops'), classes=CLASSES)
    return written
