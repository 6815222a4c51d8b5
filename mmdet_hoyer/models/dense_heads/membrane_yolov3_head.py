"""YOLOv3 head whose read-out also integrates the neck's last membrane potentials."""
from typing import Tuple

from torch import Tensor

from mmdet.models.dense_heads import YOLOV3Head
from mmdet.registry import MODELS
from ..layers.membrane_shortcut import pad_stream
from .box_voting_mixin import BoxVotingMixin


@MODELS.register_module()
class MembraneYOLOV3Head(BoxVotingMixin, YOLOV3Head):
    """MMDetection's ``YOLOV3Head`` reading the neck's membrane stream as well as its spikes.

    With a membrane read-out (``act_cfg=None``: each bridge is conv + BN, no neuron) the 1×1
    prediction convs read the bridge's pre-activation ``BN(conv3×3(o_i))`` of the neck's spikes
    ``o_i``. This head takes, after the ``num_levels`` spike maps, the ``num_levels`` membranes
    ``m_i`` that produced them (``HoyerYOLOV3Neck(membrane_out=True)``) and adds each, zero-
    padded to the bridge's width, to the bridge's output (a membrane shortcut into the
    read-out): ``r_i = BN(conv3×3(o_i)) + pad(m_i)``. The bridge still reads spikes; the
    predictions read ``r_i``, analog as before (they are counted as MACs either way); no
    parameter is added.

    ``test_cfg`` may hold ``box_voting`` (:class:`BoxVotingMixin`).

    Args: as ``YOLOV3Head``; ``act_cfg`` must be None (the read-out has no neuron to add to).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.act_cfg is not None:
            raise ValueError('MembraneYOLOV3Head: act_cfg must be None (the membrane read-out: '
                             f'bridge conv + BN without a neuron), got {self.act_cfg!r}')

    def forward(self, x: Tuple[Tensor, ...]) -> tuple:
        n = self.num_levels
        if len(x) != 2 * n:
            raise ValueError(f'MembraneYOLOV3Head: expected {n} spike maps followed by their {n} '
                             f'membranes (HoyerYOLOV3Neck(membrane_out=True)), got {len(x)} maps')
        pred_maps = []
        for i in range(n):
            bridge = self.convs_bridge[i](x[i])
            bridge = bridge + pad_stream(type(self).__name__, x[n + i], self.out_channels[i],
                                         self.in_channels[i])
            pred_maps.append(self.convs_pred[i](bridge))
        return tuple(pred_maps),
