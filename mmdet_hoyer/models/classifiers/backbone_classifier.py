"""``BackboneClassifier``: a backbone + global average pooling + linear layer, for pretraining.

The authors' detection experiments start from a spiking backbone trained on classification
(their ImageNet SNN). This model is the same step at demo scale: it trains any registered
backbone (e.g. ``HoyerVGG``) on object crops with MMEngine's Runner, and the detector then
loads it with ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmdet.registry import MODELS


@MODELS.register_module()
class BackboneClassifier(BaseModel):
    """Classify images from one backbone output: GAP → linear (analog, the only non-spiking layer).

    Args:
        backbone: backbone config (its ``out_indices`` decide the available maps).
        num_classes: number of classes (≥ 2).
        in_index: which backbone output feeds the classifier (default: the last).
        data_preprocessor: MMEngine data preprocessor config.
        init_cfg: initialisation config.

    ``forward(inputs, data_samples, mode)``: ``data_samples`` are the integer labels;
    ``'loss'`` returns ``{'loss_cls': cross-entropy}``, ``'predict'`` a list of
    ``{'pred_label', 'gt_label'}`` dicts (for :class:`ClassificationAccuracy`), ``'tensor'`` the
    logits.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 in_index: int = -1,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f'BackboneClassifier: num_classes must be an int >= 2, '
                             f'got {num_classes!r}')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.in_index = in_index
        self.num_classes = num_classes
        channels = self._infer_channels()
        self.fc = nn.Linear(channels, num_classes)

    def _infer_channels(self) -> int:
        out_channels = getattr(self.backbone, 'out_channels', None)
        if out_channels is None:
            raise TypeError(f'BackboneClassifier: backbone {type(self.backbone).__name__} does '
                            'not expose `out_channels`; cannot size the classifier.')
        if isinstance(out_channels, int):
            return out_channels
        return list(out_channels)[self.in_index]

    def extract_feat(self, inputs: Tensor) -> Tensor:
        feats = self.backbone(inputs)
        feat = feats[self.in_index] if isinstance(feats, (list, tuple)) else feats
        return feat.mean((2, 3))

    def _labels(self, data_samples: Sequence[Union[int, Tensor]], device) -> Tensor:
        labels = torch.as_tensor([int(s) for s in data_samples], device=device)
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f'BackboneClassifier: labels must lie in [0, {self.num_classes}), '
                             f'got min {labels.min().item()} max {labels.max().item()}')
        return labels

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[Sequence[Union[int, Tensor]]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[dict], Tensor]:
        if mode not in ('loss', 'predict', 'tensor'):
            raise ValueError(f"BackboneClassifier: mode must be 'loss', 'predict' or 'tensor', "
                             f'got {mode!r}')
        if mode == 'tensor':
            return self.fc(self.extract_feat(inputs))
        if data_samples is None:
            raise ValueError(f"BackboneClassifier: mode='{mode}' needs data_samples (labels)")
        labels = self._labels(data_samples, inputs.device)  # checked before any compute
        logits = self.fc(self.extract_feat(inputs))
        if mode == 'loss':
            return dict(loss_cls=F.cross_entropy(logits, labels))
        pred = logits.argmax(1)
        return [dict(pred_label=int(p), gt_label=int(g)) for p, g in zip(pred, labels)]
