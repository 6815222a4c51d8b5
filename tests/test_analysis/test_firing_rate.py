import pytest
import torch
from torch import nn

from mmdet_hoyer.analysis import FiringRateRecorder, layer_group, spiking_layers
from mmdet_hoyer.models.layers import HoyerSpike


def test_recorder_counts_exact_rates_over_batches():
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), HoyerSpike(), nn.Conv2d(2, 3, 1),
                          HoyerSpike())
    model.eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
        model[2].weight.fill_(1.0)
        model[2].bias.fill_(-1.5)
    # layer 1 (threshold 1.0 before training): fires where x >= 1 (ch 0) or -x >= 1 (ch 1)
    x1 = torch.tensor([[-2.0, 0.5], [1.5, 3.0]]).reshape(1, 1, 2, 2)
    x2 = torch.zeros(1, 1, 2, 2)
    with FiringRateRecorder(model) as rec:
        model(x1)
        model(x2)
    counts = rec.counts()
    names = [n for n, _ in spiking_layers(model)]
    assert names == ['1', '3']
    # batch 1: ch0 fires at 1.5, 3.0; ch1 at -2.0 -> 3 ones of 8; batch 2: none of 8
    assert counts['1'] == (3.0, 16)
    # layer 2: every output channel = sum of the 2 spike channels - 1.5 >= 1 needs 2.5: never
    assert counts['3'] == (0.0, 24)
    assert rec.mean_rate() == 3.0 / 40
    # detached: further forwards are not counted
    model(x1)
    assert rec.counts()['1'] == (3.0, 16)


def test_layer_group():
    assert layer_group('backbone.stages.0.0.act') == 'backbone'
    assert layer_group('backbone.stages.0.0.act', 2) == 'backbone.stages'


def test_recorder_channel_rates():
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), HoyerSpike())
    model.eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
    x1 = torch.tensor([[-2.0, 0.5], [1.5, 3.0]]).reshape(1, 1, 2, 2)
    with FiringRateRecorder(model, per_channel=True) as rec:
        model(x1)
        model(torch.zeros(2, 1, 2, 2))
    # 12 positions per channel: ch0 fired at 1.5 and 3.0, ch1 at -2.0
    rates = rec.channel_rates()['1']
    assert rates.dtype == torch.float64
    assert rates.tolist() == [2 / 12, 1 / 12]
    assert rec.rates()['1'] == 3 / 24
    with FiringRateRecorder(model) as plain:
        model(x1)
    with pytest.raises(RuntimeError, match='per_channel=True'):
        plain.channel_rates()
