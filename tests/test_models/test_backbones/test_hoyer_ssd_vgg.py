"""HoyerSSDVGG: SSD's VGG16 layout with spiking neurons."""
import pytest
import torch

from mmdet.registry import MODELS
from mmdet_hoyer.models.layers import HoyerSpike


def build(**kwargs):
    model = MODELS.build(dict(type='HoyerSSDVGG', **kwargs))
    model.init_weights()
    return model.train()


@pytest.mark.parametrize('size,maps', [(300, [(38, 38), (19, 19)]), (160, [(20, 20), (10, 10)])])
def test_ssd_maps_have_ssd_shapes_and_are_binary(size, maps):
    model = build(widen_factor=0.125)
    outs = model(torch.randn(2, 3, size, size))
    assert [tuple(o.shape[-2:]) for o in outs] == maps  # conv4_3 (ceil-mode pools), fc7
    assert [o.shape[1] for o in outs] == list(model.out_channels) == [64, 128]
    assert all(((o == 0) | (o == 1)).all() for o in outs)


def test_layout_matches_mmdetection_ssdvgg():
    from mmdet.models.backbones import SSDVGG
    ref = SSDVGG(depth=16, with_last_pool=False, ceil_mode=True, out_indices=(3, 4),
                 out_feature_indices=(22, 34))
    ref.eval()  # (mmcv's VGG.train returns None)
    ours = build().eval()
    x = torch.randn(1, 3, 300, 300)
    with torch.no_grad():
        assert [o.shape for o in ref(x)] == [o.shape for o in ours(x)]
    convs = lambda m: [(c.in_channels, c.out_channels, c.kernel_size, c.dilation)  # noqa: E731
                       for c in m.modules() if isinstance(c, torch.nn.Conv2d)]
    assert convs(ours) == convs(ref)  # same 15 convs: 13 VGG16 convs, dilated fc6, fc7


def test_every_conv_after_the_first_sees_spikes():
    model = build(widen_factor=0.125, out_indices=(0, 1, 2, 3, 4, 5))
    seen = []
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks = [c.register_forward_pre_hook(lambda m, a: seen.append(a[0])) for c in convs[1:]]
    outs = model(torch.randn(2, 3, 96, 96))
    for h in hooks:
        h.remove()
    assert len(seen) == len(convs) - 1 == 14
    assert all(((t == 0) | (t == 1)).all() for t in seen)
    assert len(outs) == 6 and all(((o == 0) | (o == 1)).all() for o in outs)
    assert sum(isinstance(m, HoyerSpike) for m in model.modules()) == 15


def test_hoyer_vgg_checkpoint_loads_into_stages_0_to_4():
    vgg = MODELS.build(dict(type='HoyerVGG', widen_factor=0.25))
    ssd = build(widen_factor=0.25)
    missing, unexpected = ssd.load_state_dict(vgg.state_dict(), strict=False)
    assert not unexpected
    assert missing and all(k.startswith('stages.5.') for k in missing)  # fc6/fc7 only


def test_ann_twin_has_the_same_parameters():
    snn, ann = build(widen_factor=0.25), build(widen_factor=0.25, act_cfg=dict(type='ReLU'))
    shapes = lambda m: [(n, p.shape) for n, p in m.named_parameters()  # noqa: E731
                        if not n.endswith('threshold')]
    assert shapes(snn) == shapes(ann)
    assert not any(isinstance(m, HoyerSpike) for m in ann.modules())


@pytest.mark.parametrize('kwargs,match', [
    (dict(depth=17), 'HoyerSSDVGG: invalid depth 17'),
    (dict(out_indices=(3, 6)), r'HoyerSSDVGG: out_indices must be increasing stage indices in 0\.\.5'),
    (dict(widen_factor=0), 'HoyerSSDVGG: widen_factor must be a number > 0'),
    (dict(fc_channels=0), 'HoyerSSDVGG: fc_channels must be an int >= 1'),
])
def test_bad_arguments_name_the_field(kwargs, match):
    with pytest.raises((KeyError, ValueError), match=match):
        MODELS.build(dict(type='HoyerSSDVGG', **kwargs))
