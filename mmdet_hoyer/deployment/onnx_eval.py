"""Evaluate an ONNX export on a config's test set with MMDetection's own metric."""
from typing import Dict, Optional

import torch
from torch import nn

from .exportable_detector import ExportableDetector
from .graph_eval import evaluate_graph
from .onnx_check import run_onnxruntime


def evaluate_onnx(model: nn.Module, wrapper: ExportableDetector, path: str, cfg,
                  max_images: Optional[int] = None) -> Dict[str, float]:
    """The config's ``test_evaluator`` on the predictions of the ONNX graph at ``path`` run by
    onnxruntime (:func:`evaluate_graph`); ``spike_rate`` is the firing rate of the ONNX run
    over the whole set (when the graph has spike outputs)."""
    n_head = sum(wrapper.levels)

    def run_batch(inputs):
        outs = [torch.from_numpy(o) for o in run_onnxruntime(path, inputs)]
        return outs, outs[n_head:]

    return evaluate_graph(model, wrapper, cfg, run_batch, max_images)
