"""What a user outside MMDetection needs to feed an exported graph and read its outputs: the
metadata the ONNX and NIR exports store beside the graph."""
import json
from typing import Dict

from torch import Tensor, nn


def graph_metadata(model: nn.Module, wrapper: nn.Module, inputs: Tensor, producer: str,
                   input_shape: str) -> Dict[str, str]:
    """The input (``input_shape``, e.g. ``'(N, 3, H, W) float32'``, the test pipeline's size,
    channel order, mean and std), the classes and the output groups of ``wrapper`` (an
    :class:`~.ExportableDetector`), as strings."""
    pre = model.cfg.model.get('data_preprocessor', {})
    channels = 'RGB' if pre.get('bgr_to_rgb') else 'BGR'
    return dict(
        producer=f'mmdet-hoyer {producer}', detector=type(model).__name__,
        input=f'{input_shape}: the image resized by the test pipeline, channels '
        f'{channels}, (x - mean) / std, zero-padded',
        input_hw=json.dumps(list(inputs.shape[-2:])), mean=json.dumps(list(pre.get('mean', []))),
        std=json.dumps(list(pre.get('std', []))),
        classes=json.dumps(list(model.dataset_meta.get('classes', []))),
        head_outputs=json.dumps(wrapper.groups), levels=json.dumps(list(wrapper.levels)))
