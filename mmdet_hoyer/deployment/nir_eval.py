"""Evaluate a NIR export, run by a consumer, on a config's test set with MMDetection's metric."""
from typing import Dict, Optional

from torch import nn

from .exportable_detector import ExportableDetector
from .graph_eval import evaluate_graph
from .nir_graph import NIRExport
from .nir_run import GraphRunner


def evaluate_nir(model: nn.Module, wrapper: ExportableDetector, export: NIRExport,
                 consumer: str, cfg, max_images: Optional[int] = None) -> Dict[str, float]:
    """The config's ``test_evaluator`` on the predictions of ``export`` run in ``consumer``
    (host operations on the host; :func:`evaluate_graph`). ``spike_rate`` is the firing rate
    of the graph's neurons that are PyTorch's spiking layers. The graph's input size is fixed:
    the test images must preprocess to it."""
    runner = GraphRunner(export, consumer)
    spike_nodes = [export.spike_nodes[n] for n in wrapper.spiking_layers]

    def run_batch(inputs):
        if tuple(inputs.shape[1:]) != tuple(export.input_shape):
            raise ValueError(f'the graph takes inputs of shape (N, '
                             f'{", ".join(map(str, export.input_shape))}) (fixed at export), '
                             f'a test batch preprocessed to {tuple(inputs.shape)}')
        values = runner(inputs)
        return runner.outputs(values), [values[n] for n in spike_nodes]

    return evaluate_graph(model, wrapper, cfg, run_batch, max_images)
