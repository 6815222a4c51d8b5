"""Operation counts, firing rates and energy against a hand-computed two-conv network."""
import pytest
import torch
from torch import nn

from mmdet_hoyer.analysis import (FiringRateRecorder, InputSpikeRecorder, MembraneRecorder,
                                  dense_macs, energy_report)
from mmdet_hoyer.models.layers import HoyerSpike


def two_conv_net():
    """conv1 (1→1, 1×1, weight 1) on the analog image → HoyerSpike (θ=1, E=0.5) → conv2
    (1→2, 3×3, pad 1). On a 4×4 input with six values ≥ 0.5 the spike map has 6 ones."""
    conv1 = nn.Conv2d(1, 1, 1, bias=False)
    conv2 = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv1.weight.fill_(1.0)
        conv2.weight.normal_()
    act = HoyerSpike()
    act.running_extremum.fill_(0.5)
    net = nn.Sequential(conv1, act, conv2).eval()
    x = torch.full((1, 1, 4, 4), 0.1)
    x.view(-1)[[0, 3, 5, 6, 10, 15]] = 0.9
    return net, x


def test_macs_rates_acs_and_energy_match_hand_counts():
    net, x = two_conv_net()
    macs = dense_macs(net, (x, ))
    # conv1: 16 outputs × 1 input × 1×1; conv2: 2×16 outputs × 1 input channel × 3×3
    assert macs == {'0': 16.0, '2': 288.0}
    with torch.no_grad(), InputSpikeRecorder(net) as ins, FiringRateRecorder(net) as fr:
        net(x)
    assert fr.rates() == {'1': pytest.approx(6 / 16)}
    assert ins.binary == {'0': False, '2': True}
    assert ins.input_rates()['2'] == pytest.approx(6 / 16)
    rep = energy_report(macs, ins.input_rates(), ins.binary, mac_pj=4.6, ac_pj=0.9)
    assert rep['snn']['macs'] == 16  # the analog first layer
    assert rep['snn']['acs'] == pytest.approx(288 * 6 / 16)  # 108
    assert rep['snn']['energy_pj'] == pytest.approx(16 * 4.6 + 108 * 0.9)  # 170.8
    assert rep['ann']['energy_pj'] == pytest.approx(304 * 4.6)  # 1398.4
    assert rep['efficiency_ratio'] == pytest.approx(1398.4 / 170.8)


def test_energy_constants_are_arguments_and_validated():
    rep = energy_report({'a': 10.0}, {'a': 0.5}, {'a': True}, mac_pj=1.0, ac_pj=2.0)
    assert rep['snn']['energy_pj'] == pytest.approx(10.0)
    with pytest.raises(ValueError, match='mac_pj'):
        energy_report({'a': 10.0}, {'a': 0.5}, {'a': True}, mac_pj=0.0)


def test_membrane_recorder_counts_near_threshold_units():
    net, x = two_conv_net()
    act = net[1]
    x.view(-1)[1] = 0.55  # u = 0.55, within ±0.1 of E = 0.5
    with torch.no_grad(), MembraneRecorder([('act', act)], bins=30, value_range=(-1, 2)) as mem:
        net(x)
    assert mem.extremum['act'] == pytest.approx(0.5)
    assert mem.near_fraction()['act'] == pytest.approx(1 / 16)
    assert mem.hist['act'].sum().item() == 16 and mem.below['act'] == mem.above['act'] == 0


def test_membrane_recorder_aligns_channel_thresholds():
    act = HoyerSpike(mode='channel').eval()
    act.running_extremum = torch.tensor([0.2, 0.8])
    z = torch.stack([torch.full((3, 3), 0.2), torch.full((3, 3), 0.8)])[None]
    with torch.no_grad(), MembraneRecorder([('a', act)], margin=0.01) as mem:
        act(z)
    # every unit sits exactly at its own channel threshold → all "near", line at mean E = 0.5
    assert mem.extremum['a'] == pytest.approx(0.5)
    assert mem.near_fraction()['a'] == pytest.approx(1.0)


def test_a_first_layer_on_event_counts_costs_one_ac_per_event():
    # 1x1 conv, 4 output channels, reading a 1-channel 2x2 map of event counts (3 events)
    net = nn.Sequential(nn.Conv2d(1, 4, 1, bias=False))
    x = torch.tensor([[[[0., 2.], [1., 0.]]]])
    with torch.no_grad(), InputSpikeRecorder(net) as ins:
        net(x)
    assert ins.counts == {'0': True} and ins.binary == {'0': False}
    assert ins.mean_values()['0'] == pytest.approx(3 / 4)
    macs = {'0': 16.0}  # 4 positions x 4 outputs
    events = {'0': ins.mean_values()['0']}
    rep = energy_report(macs, ins.input_rates(), ins.binary, mac_pj=4.6, ac_pj=0.9,
                        event_counts=events)
    # each of the 3 events adds the 4 weights it reaches: 12 ACs, no MAC
    assert rep['snn']['acs'] == pytest.approx(12) and rep['snn']['macs'] == 0
    assert rep['layers'][0]['event_input'] and rep['ann']['energy_pj'] == pytest.approx(16 * 4.6)
    # without event input the same layer is an analog first layer: 16 MACs
    assert energy_report(macs, ins.input_rates(), ins.binary)['snn']['macs'] == 16
    with torch.no_grad(), InputSpikeRecorder(net) as ins:
        net(x + 0.5)  # not whole numbers: not counts
    assert ins.counts == {'0': False}
