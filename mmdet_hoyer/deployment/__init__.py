"""Deployment: the eval-mode spiking detector as an ONNX graph (checked with onnxruntime) or a
NIR graph (run in snnTorch, Norse and nirtorch)."""
from .example_inputs import first_test_images, load_for_export, preprocess_images
from .exportable_detector import (ExportableDetector, ExportError, check_exportable,
                                  fold_neurons, head_output_groups)
from .onnx_check import (check_onnx, compare_detections, compare_spikes, onnx_session,
                         run_onnxruntime)
from .nir_check import consumers_report
from .nir_eval import evaluate_nir
from .nir_graph import NIRExport, export_nir
from .nir_run import CONSUMERS, GraphRunner
from .onnx_eval import evaluate_onnx
from .onnx_export import OPSET, export_onnx

__all__ = [
    'CONSUMERS', 'ExportableDetector', 'ExportError', 'GraphRunner', 'NIRExport', 'OPSET',
    'check_exportable', 'check_onnx', 'compare_detections', 'compare_spikes',
    'consumers_report', 'evaluate_nir', 'evaluate_onnx', 'export_nir', 'export_onnx',
    'first_test_images', 'fold_neurons', 'head_output_groups', 'load_for_export',
    'onnx_session', 'preprocess_images', 'run_onnxruntime'
]
