"""Evaluate a NIR export, run by a consumer, on a config's test set with MMDetection's metric."""
from typing import Dict, Optional

import torch
from torch import nn

from .exportable_detector import ExportableDetector
from .nir_graph import NIRExport
from .nir_run import GraphRunner


def evaluate_nir(model: nn.Module, wrapper: ExportableDetector, export: NIRExport,
                 consumer: str, cfg, max_images: Optional[int] = None) -> Dict[str, float]:
    """The config's ``test_evaluator`` on the predictions of ``export`` run in ``consumer``:
    the test dataloader and ``model.data_preprocessor`` prepare each batch as ``tools/test.py``
    does, the consumer runs the graph (host operations on the host), and
    ``model.bbox_head.predict_by_feat`` decodes and suppresses its head outputs. Also returns
    ``spike_rate``, the firing rate of the graph's neurons that are PyTorch's spiking layers.
    The graph's input size is fixed: the test images must preprocess to it."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    if max_images is not None:
        loader_cfg.dataset = dict(loader_cfg.dataset, indices=max_images)
    loader = Runner.build_dataloader(loader_cfg)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    runner = GraphRunner(export, consumer)
    spike_nodes = [export.spike_nodes[n] for n in wrapper.spiking_layers]
    ones = total = 0.0
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        if tuple(inputs.shape[1:]) != tuple(export.input_shape):
            raise ValueError(f'the graph takes inputs of shape (N, '
                             f'{", ".join(map(str, export.input_shape))}) (fixed at export), '
                             f'a test batch preprocessed to {tuple(inputs.shape)}')
        values = runner(inputs)
        for n in spike_nodes:
            ones += float(values[n].sum(dtype=torch.float64))
            total += values[n].numel()
        groups, _ = wrapper.split_outputs(runner.outputs(values))
        samples = data['data_samples']
        preds = model.bbox_head.predict_by_feat(
            *groups, batch_img_metas=[s.metainfo for s in samples], rescale=True)
        for sample, pred in zip(samples, preds):
            sample.pred_instances = pred
        evaluator.process(data_samples=samples, data_batch=batch)
    metrics = evaluator.evaluate(len(loader.dataset))
    if total:
        metrics['spike_rate'] = ones / total
    return metrics
