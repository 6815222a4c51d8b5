"""BackboneClassifier: loss / predict / tensor modes on a spiking backbone; bad labels."""
import pytest
import torch

from mmdet.registry import MODELS


def build():
    return MODELS.build(dict(
        type='BackboneClassifier', num_classes=10,
        backbone=dict(type='HoyerVGG', depth=11, widen_factor=0.125, out_indices=(4, )),
        data_preprocessor=dict(type='ImgDataPreprocessor', mean=[0, 0, 0], std=[255.] * 3)))


def test_modes_and_gradients_reach_thresholds():
    model = build()
    model.init_weights()
    data = model.data_preprocessor(dict(
        inputs=[torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8) for _ in range(4)],
        data_samples=[0, 3, 9, 3]), True)
    losses = model(**data, mode='loss')
    losses['loss_cls'].backward()
    assert torch.isfinite(losses['loss_cls'])
    theta = model.backbone.stages[0][0].act.threshold
    assert theta.grad is not None and torch.isfinite(theta.grad)
    model.eval()
    preds = model(**data, mode='predict')
    assert [p['gt_label'] for p in preds] == [0, 3, 9, 3]
    assert all(0 <= p['pred_label'] < 10 for p in preds)
    assert model(data['inputs']).shape == (4, 10)


def test_bad_labels_and_classes():
    model = build()
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 10\)'):
        model(torch.zeros(1, 3, 32, 32), [10], mode='loss')
    with pytest.raises(ValueError, match='num_classes'):
        MODELS.build(dict(type='BackboneClassifier', num_classes=1,
                          backbone=dict(type='HoyerVGG', depth=11, widen_factor=0.125)))
