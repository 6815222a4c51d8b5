import torch

from mmdet_hoyer.analysis.detection_figure import (box_mask, default_spike_layers,
                                                   object_selective_channel)


def test_box_mask_marks_cells_whose_centre_is_in_a_box():
    # a 4x4 map at 1/8 of a 32 px input: cell centres at 4, 12, 20, 28 px
    mask = box_mask((4, 4), torch.tensor([[0.0, 0.0, 13.0, 5.0], [19.0, 19.0, 21.0, 32.0]]),
                    4 / 32)
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[0, 0:2] = True
    expected[2:4, 2] = True
    assert torch.equal(mask, expected)


def test_object_selective_channel_prefers_the_channel_firing_on_objects():
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[1:3, 1:3] = True
    spikes = torch.zeros(3, 4, 4)
    spikes[0] = 1.0  # fires everywhere: not selective
    spikes[1][mask] = 1.0  # fires exactly on the object
    spikes[2][~mask] = 1.0  # fires on the background (but not its top row)
    spikes[2][0] = 0.0
    assert object_selective_channel([spikes], [mask]) == 1
    # no usable mask: the channel with the most balanced rate (p(1-p) largest)
    assert object_selective_channel([spikes], [torch.zeros(4, 4, dtype=torch.bool)]) == 2


def test_default_spike_layers_pick_a_mid_backbone_and_the_finest_neck_layer():
    shapes = {'backbone.a': (8, 64, 64), 'backbone.b': (16, 16, 16), 'backbone.c': (16, 8, 8),
              'neck.x': (32, 4, 4), 'neck.y': (16, 8, 8), 'neck.z': (16, 8, 8)}
    assert default_spike_layers(shapes) == ['backbone.b', 'neck.z']
