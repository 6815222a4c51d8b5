"""The energy model (float32 / int8 operations, with and without SRAM traffic) against hand
counts on the two-conv network of test_operations.py."""
import pytest
import torch

from mmdet_hoyer.analysis import (FP32, INT8, InputSpikeRecorder, LayerCount, dense_macs,
                                  energy_model, energy_report)
from mmdet_hoyer.analysis.energy_model import SRAM_PJ_PER_BIT, layer_counts

from test_operations import two_conv_net


def hand_model():
    """conv1: 16 MACs on the analog 4×4 image (fan-in 1, 16 inputs, 16 outputs); conv2: 288
    MACs (fan-in 9, 32 outputs) on a spike map of 16 positions with 6 spikes: 108 ACs."""
    net, x = two_conv_net()
    macs = dense_macs(net, (x, ))
    with torch.no_grad(), InputSpikeRecorder(net) as ins:
        net(x)
    rep = energy_report(macs, ins.input_rates(), ins.binary)
    fan_in = {'0': 1, '2': 9}
    return layer_counts(rep, fan_in, {k: float(v) for k, v in ins.total.items()})


def test_layer_counts_come_from_the_recorded_network():
    conv1, conv2 = hand_model()
    assert conv1 == LayerCount('0', 16.0, 1, 16.0, False, False, 0.0)
    assert conv2.name == '2' and conv2.macs == 288 and conv2.fan_in == 9 and conv2.inputs == 16
    assert conv2.spike_input and conv2.acs == pytest.approx(108)


def test_totals_match_hand_counts():
    model = energy_model(hand_model())
    rows = {r['assumption']: r for r in model['rows']}
    bit = 10 / 64
    # float32, operations: the SNN runs conv1's 16 MACs and conv2's 108 ACs, the ANN 304 MACs
    assert rows['fp32 operations']['snn_pj'] == pytest.approx(16 * 4.6 + 108 * 0.9)
    assert rows['fp32 operations']['ann_pj'] == pytest.approx(304 * 4.6)
    # int8: MAC 0.2 + 0.03 pJ, AC 0.03 pJ
    assert rows['int8 operations']['snn_pj'] == pytest.approx(16 * 0.23 + 108 * 0.03)
    assert rows['int8 operations']['ann_pj'] == pytest.approx(304 * 0.23)
    # memory, float32 (32-bit weights, activations, potentials):
    # ANN conv1: 16·(32+32) read + 16·32 written; conv2: 288·64 + 32·32
    ann_bits = 16 * 64 + 16 * 32 + 288 * 64 + 32 * 32
    # SNN conv1 as the ANN's; conv2: 108·(32 + 2·32) + 16·1 (spike scan) + 32·2·32
    snn_bits = 16 * 64 + 16 * 32 + 108 * 96 + 16 + 32 * 64
    assert rows['fp32 operations + memory']['ann_pj'] == pytest.approx(
        304 * 4.6 + ann_bits * bit)
    assert rows['fp32 operations + memory']['snn_pj'] == pytest.approx(
        16 * 4.6 + 108 * 0.9 + snn_bits * bit)
    # int8: 8-bit weights and activations, 16-bit potentials
    ann8 = 16 * 16 + 16 * 8 + 288 * 16 + 32 * 8
    snn8 = 16 * 16 + 16 * 8 + 108 * (8 + 32) + 16 + 32 * 32
    assert rows['int8 operations + memory']['snn_pj'] == pytest.approx(
        16 * 0.23 + 108 * 0.03 + snn8 * bit)
    assert rows['int8 operations + memory']['ann_pj'] == pytest.approx(304 * 0.23 + ann8 * bit)
    for r in model['rows']:
        assert r['ratio'] == pytest.approx(r['ann_pj'] / r['snn_pj'])
    assert SRAM_PJ_PER_BIT == bit and FP32.mac_pj == 4.6 and INT8.ac_pj == 0.03


def test_the_largest_move_is_named_and_memory_counts_potentials():
    model = energy_model(hand_model())
    ratios = {r['assumption']: r['ratio'] for r in model['rows']}
    base = ratios['fp32 operations']
    expect = max((a for a in ratios if a != 'fp32 operations'),
                 key=lambda a: abs(ratios[a] - base))
    assert model['largest_move'] == expect
    # a denser spike map costs the SNN more traffic per AC than the ANN pays per MAC
    per_layer = model['layers']['2']['fp32']
    assert per_layer['snn_bits'] > 0 and per_layer['ann_bits'] == 288 * 64 + 32 * 32


def test_event_count_inputs_are_scanned_as_counts_and_bad_counts_are_refused():
    layer = LayerCount('c', macs=90.0, fan_in=9, inputs=10.0, spike_input=False,
                       event_input=True, acs=30.0)
    row = energy_model([layer], precisions=(FP32, ))['layers']['c']['fp32']
    assert row['snn_bits'] == 30 * 96 + 10 * 8 + 10 * 64
    assert row['snn_ops_pj'] == pytest.approx(30 * 0.9)
    with pytest.raises(ValueError, match='fan_in >= 1'):
        energy_model([layer._replace(fan_in=0)])
    with pytest.raises(ValueError, match='sram_pj_per_bit'):
        energy_model([layer], sram_pj_per_bit=0)
