"""Output distillation loss against hand-computed values."""
import math

import pytest
import torch

from mmdet_hoyer.models.losses import flatten_tensors, output_distillation_loss


def test_mean_squared_difference_per_map_summed_over_maps():
    s = [torch.tensor([[1., 2.], [3., 4.]], requires_grad=True), torch.tensor([0.5, -1.])]
    t = [torch.tensor([[1., 0.], [3., 0.]]), torch.tensor([0.5, 1.])]
    loss = output_distillation_loss(s, t)
    # map 0: (0 + 4 + 0 + 16) / 4 = 5; map 1: (0 + 4) / 2 = 2
    assert loss.item() == pytest.approx(7.0)
    loss.backward()
    # d/ds mean((s - t)^2) = 2 (s - t) / n
    assert torch.allclose(s[0].grad, torch.tensor([[0., 1.], [0., 2.]]))


def test_sigmoid_transform_compares_probabilities():
    s = [torch.tensor([0., 20.])]
    t = [torch.tensor([math.log(3.), 12.])]  # sigmoid: 0.75 and ~1
    loss = output_distillation_loss(s, t, transform='sigmoid')
    assert loss.item() == pytest.approx((0.25 ** 2 + 0.0) / 2, abs=1e-6)
    # the raw logits differ by 8 on the saturated element: 32 + log(3)^2/2 without sigmoid
    assert output_distillation_loss(s, t).item() == pytest.approx(
        (math.log(3.) ** 2 + 64) / 2, rel=1e-6)


def test_teacher_gets_no_gradient_and_dtypes_are_float32():
    s = [torch.ones(3, dtype=torch.bfloat16, requires_grad=True)]
    t = [torch.zeros(3, dtype=torch.bfloat16, requires_grad=True)]
    loss = output_distillation_loss(s, t)
    assert loss.dtype == torch.float32 and loss.item() == 1.0
    loss.backward()
    assert t[0].grad is None and s[0].grad is not None


def test_flatten_nested_outputs_in_order():
    a, b, c = torch.zeros(1), torch.ones(1), torch.full((1, ), 2.)
    assert [x.item() for x in flatten_tensors(((a, b), [c], None))] == [0., 1., 2.]


@pytest.mark.parametrize('s, t, kwargs, match', [
    ([torch.zeros(2)], [torch.zeros(3)], {}, 'shape'),
    ([torch.zeros(2)], [], {}, 'same, non-zero number'),
    ([torch.zeros(2)], [torch.zeros(2)], dict(transform='softmax'), 'transform'),
])
def test_bad_input_names_the_problem(s, t, kwargs, match):
    with pytest.raises(ValueError, match=match):
        output_distillation_loss(s, t, **kwargs)
