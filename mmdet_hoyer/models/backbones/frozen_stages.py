"""MMDetection's backbone conventions for ``frozen_stages`` and ``norm_eval``, shared by the
spiking backbones (as ``mmdet.models.backbones.ResNet`` applies them in ``train``)."""
from typing import Iterable

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def freeze(modules: Iterable[nn.Module]) -> None:
    """Put ``modules`` in eval mode with their parameters frozen (the frozen stages)."""
    for m in modules:
        m.eval()
        for p in m.parameters():
            p.requires_grad = False


def train_mode(backbone: nn.Module, mode: bool, frozen: Iterable[nn.Module],
               norm_eval: bool) -> None:
    """After ``nn.Module.train(mode)``: the frozen stages stay in eval and frozen, and with
    ``norm_eval`` every BatchNorm keeps its running statistics while training."""
    freeze(frozen)
    if mode and norm_eval:
        for m in backbone.modules():
            if isinstance(m, _BatchNorm):
                m.eval()
