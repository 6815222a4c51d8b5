"""Write the boxes of a COCO-format detection set as an ImageNet-layout classification set.

Stage 1 of the recipe pretrains the spiking backbone on classification with MMPretrain's
``ImageNet`` dataset and pipeline. At full scale that is ImageNet-1k; the demo (and the
test suite) run the same classes on square crops around the boxes of the digits detection
set, written here in ImageNet's layout::

    <out_dir>/train/<class>/<image>_<box id>.png    <out_dir>/meta/train.txt  ("<class>/<file> <label>")
    <out_dir>/val/<image>_<box id>.png              <out_dir>/meta/val.txt    ("<file> <label>")

so ``dict(type='ImageNet', data_root=out_dir, split='train')`` reads them unchanged.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np


def square_crop(img: np.ndarray, box: Sequence[float], context: float, size: int) -> np.ndarray:
    """The ``size``×``size`` crop of the square of side ``context · max(w, h)`` centred on the
    COCO box ``[x, y, w, h]`` (borders replicated outside the image)."""
    x, y, w, h = box
    side = max(w, h) * context
    cx, cy = x + w / 2, y + h / 2
    s = size / side
    m = np.array([[s, 0, size / 2 - s * cx], [0, s, size / 2 - s * cy]])
    return cv2.warpAffine(img, m, (size, size),
                          flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def coco_to_imagenet_crops(ann_files: Dict[str, str],
                           img_dirs: Dict[str, str],
                           out_dir: str,
                           classes: Optional[Sequence[str]] = None,
                           context: float = 1.3,
                           size: int = 40) -> Dict[str, str]:
    """Write one crop per box of each split (``{split: COCO json}``, images in
    ``img_dirs[split]``) to ``out_dir`` in ImageNet's layout (module docstring).

    Args:
        ann_files: ``{'train': json, 'val': json}`` (any subset; 'train' is written in class
            folders, every other split flat, as ImageNet's train and val).
        img_dirs: the image folder of each split.
        out_dir: output root (created).
        classes: class names in label order; default: the json's categories sorted by id.
            Every category not listed is skipped.
        context: crop side relative to the box's longer side (≥ 1): room for the pipeline's
            random resized crop (the demo's ``RandomResizedCrop`` keeps ~1.15× the box; with
            1.5 instead of 1.3, i.e. more room to shift, the demo's spiking stage 1 reached
            0.918/0.931 top-1 against 0.968, docs/results/which_start.md).
        size: crop side in pixels (≥ 8).

    Returns:
        ``{split: annotation list path}`` (``meta/<split>.txt``).
    """
    if not context >= 1:
        raise ValueError(f'coco_to_imagenet_crops: context must be >= 1, got {context!r}')
    if not isinstance(size, int) or size < 8:
        raise ValueError(f'coco_to_imagenet_crops: size must be an int >= 8, got {size!r}')
    os.makedirs(osp.join(out_dir, 'meta'), exist_ok=True)
    written = {}
    for split, ann_file in ann_files.items():
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'coco_to_imagenet_crops: ann_files[{split!r}] '
                                    f'{ann_file!r} does not exist (expected a COCO json)')
        with open(ann_file) as f:
            coco = json.load(f)
        cats = sorted(coco['categories'], key=lambda c: c['id'])
        names = [c['name'] for c in cats]
        split_classes = list(classes) if classes is not None else names
        missing = [c for c in split_classes if c not in names]
        if missing:
            raise ValueError(f'coco_to_imagenet_crops: classes {missing} are not categories of '
                             f'{ann_file} (it has {names})')
        label_of = {c['id']: split_classes.index(c['name']) for c in cats
                    if c['name'] in split_classes}
        files = {im['id']: im['file_name'] for im in coco['images']}
        images: Dict[int, np.ndarray] = {}
        lines = []
        for a in coco['annotations']:
            if a.get('iscrowd', 0) or a['category_id'] not in label_of or \
                    a['bbox'][2] <= 0 or a['bbox'][3] <= 0:
                continue
            iid = a['image_id']
            if iid not in images:
                path = osp.join(img_dirs[split], files[iid])
                img = cv2.imread(path)
                if img is None:
                    raise FileNotFoundError(f'coco_to_imagenet_crops: cannot read image {path!r}')
                images[iid] = img
            label = label_of[a['category_id']]
            name = f'{osp.splitext(osp.basename(files[iid]))[0]}_{a["id"]}.png'
            rel = osp.join(split_classes[label], name) if split == 'train' else name
            os.makedirs(osp.dirname(osp.join(out_dir, split, rel)), exist_ok=True)
            cv2.imwrite(osp.join(out_dir, split, rel),
                        square_crop(images[iid], a['bbox'], context, size))
            lines.append(f'{rel} {label}')
        if not lines:
            raise ValueError(f'coco_to_imagenet_crops: {ann_file} has no boxes of classes '
                             f'{split_classes}')
        meta = osp.join(out_dir, 'meta', f'{split}.txt')
        with open(meta, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        written[split] = meta
    return written
