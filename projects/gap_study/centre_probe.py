"""Linear class probe at object centres: how much class information a feature map carries.

For every ground-truth box, the feature vector of the map cell that contains the box centre is
collected (the cell a YOLO-style head predicts the object's class from); a logistic regression
fitted on training images and scored on validation images says how linearly separable the
classes are in that map. Chance is ``1/num_classes``; used to find where a spiking detector
loses class information (docs/results/limitations.md).

The box variant asks the same of localisation: a ridge regression from the same vectors to the
box in the cell's frame, as a YOLO head parametrises it (centre offset inside the cell and log
size, both in units of the map's stride), scored by R² on validation images (0: no better than
the mean box; 1: exact). The offset is the sub-cell precision that mAP@0.75 needs.
"""
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdet_hoyer.analysis import FeatureMapRecorder  # noqa: F401  (re-exported for the tools)


def centre_cells(boxes: Tensor, feat_hw: Tuple[int, int], input_hw: Tuple[int, int]
                 ) -> Tuple[Tensor, Tensor]:
    """Row and column of the cell holding each box centre.

    ``boxes``: ``(N, 4)`` ``x1, y1, x2, y2`` in input pixels; the map of size ``feat_hw`` covers
    the (padded) input of size ``input_hw``, so its stride is ``input / feat`` per axis.
    Centres on or past the last edge fall into the last cell.
    """
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f'centre_cells: boxes must be (N, 4) x1, y1, x2, y2, got shape '
                         f'{tuple(boxes.shape)}')
    (fh, fw), (ih, iw) = feat_hw, input_hw
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    rows = torch.floor(cy * fh / ih).long().clamp(0, fh - 1)
    cols = torch.floor(cx * fw / iw).long().clamp(0, fw - 1)
    return rows, cols


def centre_features(feat: Tensor, boxes: Tensor, input_hw: Tuple[int, int],
                    window: int = 1) -> Tensor:
    """``(N, C·window²)`` features of one image's ``(C, H, W)`` map at the cells of its ``N``
    boxes: the centre cell's vector (``window=1``), or the ``window × window`` cells around it
    (odd ``window``; cells past the map's edge are zeros), row-major, each cell's ``C`` values
    together — what one ``window × window`` conv at that cell reads."""
    if feat.ndim != 3:
        raise ValueError(f'centre_features: feat must be (C, H, W), got {tuple(feat.shape)}')
    if window < 1 or window % 2 != 1:
        raise ValueError(f'centre_features: window must be an odd integer >= 1, got {window!r}')
    rows, cols = centre_cells(boxes.to(feat.device), feat.shape[-2:], input_hw)
    if window == 1:
        return feat[:, rows, cols].T
    p = window // 2
    padded = F.pad(feat, (p, p, p, p))
    return torch.cat([padded[:, rows + dy, cols + dx].T
                      for dy in range(window) for dx in range(window)], dim=1)


def centre_box_targets(boxes: Tensor, feat_hw: Tuple[int, int], input_hw: Tuple[int, int]
                       ) -> Tensor:
    """``(N, 4)`` box targets in the frame of the cell holding each centre: the centre's offset
    from the cell's corner ``(dx, dy)`` in ``[0, 1]`` and ``(log w, log h)``, all in units of
    the map's stride (YOLOv3's parametrisation, its anchors aside)."""
    rows, cols = centre_cells(boxes, feat_hw, input_hw)
    (fh, fw), (ih, iw) = feat_hw, input_hw
    sy, sx = ih / fh, iw / fw
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    w = (boxes[:, 2] - boxes[:, 0]).clamp_min(1e-3)
    h = (boxes[:, 3] - boxes[:, 1]).clamp_min(1e-3)
    return torch.stack([(cx / sx - cols).clamp(0, 1), (cy / sy - rows).clamp(0, 1),
                        torch.log(w / sx), torch.log(h / sy)], dim=1)


def linear_probe_r2(train_x: np.ndarray, train_t: np.ndarray, val_x: np.ndarray,
                    val_t: np.ndarray, alpha: float = 10.0) -> float:
    """Validation R² (averaged over the target columns) of a ridge regression fitted on
    standardised training features."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if len(train_x) < 2 or len(val_x) < 2:
        raise ValueError('linear_probe_r2: needs at least 2 training and 2 validation samples')
    reg = make_pipeline(StandardScaler(), Ridge(alpha=alpha))
    reg.fit(train_x, train_t)
    return float(r2_score(val_t, reg.predict(val_x), multioutput='uniform_average'))


def linear_probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray,
                          val_y: np.ndarray, max_iter: int = 3000) -> float:
    """Validation accuracy of a logistic regression fitted on standardised training features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if len(train_x) == 0 or len(val_x) == 0:
        raise ValueError('linear_probe_accuracy: no training or no validation samples')
    if len(np.unique(train_y)) < 2:
        raise ValueError('linear_probe_accuracy: the training samples hold fewer than 2 classes')
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    clf.fit(train_x, train_y)
    return float(clf.score(val_x, val_y))


def probe_layers(model: nn.Module, names: Sequence[str]) -> List[Tuple[str, nn.Module]]:
    """The named modules of ``model``, with an error listing what is there when one is not."""
    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules]
    if missing:
        top = sorted({n.split('.')[0] for n in modules if n})
        raise ValueError(f'probe layers {missing} are not modules of the model; give dotted '
                         f'module names, e.g. {top} or bbox_head.convs_bridge.0')
    return [(n, modules[n]) for n in names]


def default_probe_layers(model: nn.Module) -> List[str]:
    """Backbone and neck outputs, plus YOLOv3-style head bridge convs when the head has them."""
    names = [n for n in ('backbone', 'neck') if hasattr(model, n) and getattr(model, n)]
    bridges = getattr(getattr(model, 'bbox_head', None), 'convs_bridge', None)
    if bridges is not None:
        names += [f'bbox_head.convs_bridge.{i}' for i in range(len(bridges))]
    return names
