"""The config's metric on an exported graph's outputs, as ``tools/test.py`` evaluates PyTorch."""
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import torch
from torch import Tensor, nn

from .exportable_detector import ExportableDetector

#: runs the graph on a preprocessed batch: (raw outputs in the wrapper's order, spike maps)
RunBatch = Callable[[Tensor], Tuple[List[Tensor], Iterable[Tensor]]]


def evaluate_graph(model: nn.Module, wrapper: ExportableDetector, cfg, run_batch: RunBatch,
                   max_images: Optional[int] = None) -> Dict[str, float]:
    """The config's ``test_evaluator`` (e.g. ``CocoMetric``) on the predictions of a graph:
    the test dataloader and ``model.data_preprocessor`` prepare each batch exactly as
    ``tools/test.py`` does, ``run_batch`` runs the graph, and ``model.bbox_head.predict_by_feat``
    decodes and suppresses its raw outputs. Also returns ``spike_rate``, the firing rate of the
    spike maps ``run_batch`` returns over the whole set (when there are any)."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    if max_images is not None:
        loader_cfg.dataset = dict(loader_cfg.dataset, indices=max_images)
    loader = Runner.build_dataloader(loader_cfg)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    ones = total = 0.0
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        outputs, spikes = run_batch(data['inputs'])
        for s in spikes:
            ones += float(s.sum(dtype=torch.float64))
            total += s.numel()
        groups, _ = wrapper.split_outputs(outputs)
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
