"""Deployment: the eval-mode spiking detector as an ONNX graph, checked with onnxruntime."""
from .example_inputs import preprocess_images
from .exportable_detector import (ExportableDetector, ExportError, check_exportable,
                                  fold_neurons, head_output_groups)
from .onnx_check import check_onnx, compare_detections, compare_spikes, run_onnxruntime
from .onnx_export import OPSET, export_onnx

__all__ = [
    'ExportableDetector', 'ExportError', 'OPSET', 'check_exportable', 'check_onnx',
    'compare_detections', 'compare_spikes', 'export_onnx', 'fold_neurons', 'head_output_groups',
    'preprocess_images', 'run_onnxruntime'
]
