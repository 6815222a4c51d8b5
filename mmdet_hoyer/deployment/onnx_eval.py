"""Evaluate an exported graph on a config's test set with MMDetection's own metric."""
from typing import Dict, Optional

import torch
from torch import nn

from .exportable_detector import ExportableDetector
from .onnx_check import run_onnxruntime


def evaluate_onnx(model: nn.Module, wrapper: ExportableDetector, path: str, cfg,
                  max_images: Optional[int] = None) -> Dict[str, float]:
    """The config's ``test_evaluator`` (e.g. ``CocoMetric``) on the predictions of the graph at
    ``path``: the test dataloader and ``model.data_preprocessor`` prepare each batch exactly as
    ``tools/test.py`` does, onnxruntime runs the graph, and ``model.bbox_head.predict_by_feat``
    decodes and suppresses the raw outputs. Also returns ``spike_rate``, the firing rate of
    the ONNX run over the whole set (when the graph has spike outputs)."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    if max_images is not None:
        loader_cfg.dataset = dict(loader_cfg.dataset, indices=max_images)
    loader = Runner.build_dataloader(loader_cfg)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    n_head = sum(wrapper.levels)
    ones = total = 0.0
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        outs = run_onnxruntime(path, inputs)
        spikes = outs[n_head:]
        ones += sum(float(s.sum(dtype='float64')) for s in spikes)
        total += sum(s.size for s in spikes)
        groups, _ = wrapper.split_outputs([torch.from_numpy(o) for o in outs])
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
