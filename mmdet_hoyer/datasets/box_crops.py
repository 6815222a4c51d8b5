"""``BoxCropsDataset``: one classification sample per ground-truth box of a COCO-format set."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch

from mmdet.registry import DATASETS


@DATASETS.register_module()
class BoxCropsDataset(torch.utils.data.Dataset):
    """Square crops around the boxes of a COCO-format detection split, labelled by category.

    Used to pretrain a backbone on the objects of the detection training split (the demo's
    stand-in for the authors' ImageNet-pretrained spiking backbone). Each crop is a square of
    side ``context · max(w, h)`` centred on the box (edge-padded at image borders), resized to
    ``crop_size``. With ``jitter > 0`` the square's centre and side are perturbed per sample by
    up to that fraction (train-time augmentation).

    Args:
        ann_file: COCO annotation json (relative to ``data_root`` unless absolute).
        data_root: dataset root.
        data_prefix: ``dict(img=...)``, image folder relative to ``data_root``.
        classes: class names in label order (must match the json's category names); default:
            the json's categories sorted by id.
        crop_size: output side in pixels.
        context: square side relative to the box's longer side (≥ 1).
        jitter: max relative shift/scale perturbation (0 = deterministic crops).
        metainfo: accepted for symmetry with MMDetection datasets (``classes`` is read from it).

    Items are ``dict(inputs=uint8 tensor (3, S, S) RGB, data_samples=int label)``.
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 classes: Optional[Sequence[str]] = None,
                 crop_size: int = 32,
                 context: float = 1.15,
                 jitter: float = 0.0,
                 metainfo: Optional[dict] = None) -> None:
        if not isinstance(crop_size, int) or crop_size < 8:
            raise ValueError(f'BoxCropsDataset: crop_size must be an int >= 8, got {crop_size!r}')
        if not context >= 1:
            raise ValueError(f'BoxCropsDataset: context must be >= 1, got {context!r}')
        if not 0 <= jitter < 0.5:
            raise ValueError(f'BoxCropsDataset: jitter must be in [0, 0.5), got {jitter!r}')
        ann_path = ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)
        if not osp.isfile(ann_path):
            raise FileNotFoundError(
                f'BoxCropsDataset: ann_file {ann_path!r} does not exist (expected a COCO json; '
                'for the demo run `make demo-data`)')
        img_dir = osp.join(data_root, (data_prefix or {}).get('img', ''))
        with open(ann_path) as f:
            coco = json.load(f)
        if classes is None and metainfo is not None:
            classes = metainfo.get('classes')
        cats = sorted(coco['categories'], key=lambda c: c['id'])
        names = [c['name'] for c in cats]
        if classes is None:
            classes = names
        missing = [c for c in classes if c not in names]
        if missing:
            raise ValueError(f'BoxCropsDataset: classes {missing} are not categories of '
                             f'{ann_path} (it has {names})')
        label_of = {c['id']: list(classes).index(c['name']) for c in cats if c['name'] in classes}
        self.classes = tuple(classes)
        self.crop_size, self.context, self.jitter = crop_size, float(context), float(jitter)

        files = {im['id']: im['file_name'] for im in coco['images']}
        self.images: Dict[int, np.ndarray] = {}
        self.samples: List[tuple] = []  # (image id, cx, cy, side, label)
        for a in coco['annotations']:
            if a.get('iscrowd', 0) or a['category_id'] not in label_of:
                continue
            x, y, w, h = a['bbox']
            if w <= 0 or h <= 0:
                continue
            iid = a['image_id']
            if iid not in self.images:
                path = osp.join(img_dir, files[iid])
                img = cv2.imread(path)
                if img is None:
                    raise FileNotFoundError(f'BoxCropsDataset: cannot read image {path!r}')
                self.images[iid] = np.ascontiguousarray(img[..., ::-1])  # BGR → RGB
            self.samples.append((iid, x + w / 2, y + h / 2, max(w, h) * self.context,
                                 label_of[a['category_id']]))
        if not self.samples:
            raise ValueError(f'BoxCropsDataset: {ann_path} has no boxes of classes {classes}')
        self.metainfo = dict(classes=self.classes)

    def __len__(self) -> int:
        return len(self.samples)

    def crop(self, idx: int, rng: Optional[np.random.RandomState] = None) -> np.ndarray:
        """The (S, S, 3) uint8 RGB crop of sample ``idx`` (jittered when ``rng`` is given)."""
        iid, cx, cy, side, _ = self.samples[idx]
        if rng is not None and self.jitter > 0:
            j = self.jitter
            side *= 1 + rng.uniform(-j, j)
            cx += rng.uniform(-j, j) * side
            cy += rng.uniform(-j, j) * side
        img = self.images[iid]
        # affine map of the square [cx±side/2]×[cy±side/2] onto the crop, borders replicated
        s = self.crop_size / side
        m = np.array([[s, 0, self.crop_size / 2 - s * cx], [0, s, self.crop_size / 2 - s * cy]])
        return cv2.warpAffine(img, m, (self.crop_size, self.crop_size), flags=cv2.INTER_AREA
                              if s < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def __getitem__(self, idx: int) -> dict:
        rng = np.random.RandomState(np.random.randint(2**31)) if self.jitter > 0 else None
        crop = self.crop(idx, rng)
        return dict(inputs=torch.from_numpy(crop).permute(2, 0, 1).contiguous(),
                    data_samples=self.samples[idx][4])
