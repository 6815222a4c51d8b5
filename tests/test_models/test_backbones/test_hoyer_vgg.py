import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet.registry import MODELS
from mmdet_hoyer.models.backbones import HoyerVGG
from mmdet_hoyer.models.layers import HoyerSpike


def is_binary(t):
    return bool(((t == 0) | (t == 1)).all())


@pytest.mark.parametrize('depth, num_convs', [(11, 8), (13, 10), (16, 13), (19, 16)])
def test_depths_build_the_right_number_of_spiking_convs(depth, num_convs):
    model = HoyerVGG(depth=depth, widen_factor=0.125)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == num_convs
    assert all(c.bias is None and c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, HoyerSpike) for m in model.modules()) == num_convs


@pytest.mark.parametrize('out_indices, widen', [((2, 3, 4), 0.25), ((0, 4), 0.125), ((3, ), 0.5),
                                                ((0, 1, 2, 3, 4), 0.0625)])
def test_output_shapes_strides_and_binary_spikes(out_indices, widen):
    model = HoyerVGG(depth=16, widen_factor=widen, out_indices=out_indices)
    model.init_weights()
    x = torch.rand(2, 3, 64, 96)
    for mode in (True, False):
        model.train(mode)
        outs = model(x)
        assert len(outs) == len(out_indices)
        for i, out in zip(out_indices, outs):
            stride = 2**(i + 1)
            assert out.shape == (2, model.channels[i], 64 // stride, 96 // stride)
            assert is_binary(out)
    assert model.out_channels == tuple(model.channels[i] for i in out_indices)
    assert model.channels == tuple(max(1, round(c * widen)) for c in (64, 128, 256, 512, 512))


@pytest.mark.parametrize('shortcut', ['none', 'membrane'])
def test_every_conv_after_the_first_sees_binary_input(shortcut):
    model = HoyerVGG(depth=16, widen_factor=0.125, shortcut=shortcut)
    seen = []
    handles = [m.register_forward_pre_hook(lambda mod, args: seen.append(is_binary(args[0])))
               for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    model(torch.rand(2, 3, 64, 64))
    for h in handles:
        h.remove()
    assert seen[0] is False  # the analog image (direct encoding)
    assert all(seen[1:]) and len(seen) == 13


def test_relu_twin_has_identical_parameters_but_analog_outputs():
    snn = HoyerVGG(widen_factor=0.125)
    ann = HoyerVGG(widen_factor=0.125, act_cfg=dict(type='ReLU'))
    snn_params = {k: v.shape for k, v in snn.named_parameters() if not k.endswith('threshold')}
    assert snn_params == {k: v.shape for k, v in ann.named_parameters()}
    assert not is_binary(ann(torch.rand(2, 3, 64, 64))[-1])


def test_frozen_stages_and_norm_eval():
    model = HoyerVGG(widen_factor=0.125, frozen_stages=2, norm_eval=True)
    model.train()
    for i, stage in enumerate(model.stages):
        frozen = i < 2
        assert all(p.requires_grad is not frozen for p in stage.parameters())
        for m in stage.modules():
            if isinstance(m, HoyerSpike):
                assert m.training is not frozen
            if isinstance(m, _BatchNorm):
                assert not m.training  # norm_eval


def test_registered_and_buildable():
    model = MODELS.build(dict(type='HoyerVGG', depth=11, widen_factor=0.125, out_indices=(4, )))
    assert isinstance(model, HoyerVGG)


@pytest.mark.parametrize('kwargs, field', [
    (dict(depth=15), 'depth'),
    (dict(out_indices=(2, 5)), 'out_indices'),
    (dict(out_indices=(3, 2)), 'out_indices'),
    (dict(out_indices=()), 'out_indices'),
    (dict(widen_factor=0), 'widen_factor'),
    (dict(widen_factor=-1.0), 'widen_factor'),
    (dict(frozen_stages=7), 'frozen_stages'),
    (dict(shortcut='residual'), 'shortcut'),
    (dict(shortcut='membrane', branch_gamma=-0.1), 'branch_gamma'),
])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises((ValueError, KeyError), match=field):
        HoyerVGG(**kwargs)


def test_builds_from_python_without_a_registry_scope(repo_root):
    """Plain-Python use (no Runner, no register_all_modules) still finds HoyerSpike."""
    import subprocess
    import sys
    code = ('import torch; from mmdet_hoyer.models.backbones import HoyerVGG; '
            'm = HoyerVGG(depth=11, widen_factor=0.125); '
            'print(tuple(o.shape[1] for o in m(torch.rand(2, 3, 64, 64))))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=repo_root, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('(32, 64, 64)')


def test_membrane_shortcut_keeps_parameter_names_and_shapes():
    """A plain HoyerVGG checkpoint loads into the membrane-shortcut one and vice versa."""
    plain = HoyerVGG(widen_factor=0.125, shortcut='none')
    mem = HoyerVGG(widen_factor=0.125, shortcut='membrane')
    assert {k: v.shape for k, v in plain.state_dict().items()} == \
        {k: v.shape for k, v in mem.state_dict().items()}
    mem.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 64)
    plain.eval()
    mem.eval()
    outs = mem(x)
    assert [o.shape for o in outs] == [o.shape for o in plain(x)]
    assert all(is_binary(o) for o in outs)


def test_pool_on_spikes_equals_the_authors_order_on_the_plain_stack():
    """Without shortcuts, max-pooling the spikes (their OR) is the same as thresholding the
    max-pooled pre-activation wherever BN's scale is positive (monotone BN and threshold)."""
    torch.manual_seed(0)
    pre = HoyerVGG(widen_factor=0.125, shortcut='none', out_indices=(0, 2, 4))
    post = HoyerVGG(widen_factor=0.125, shortcut='none', out_indices=(0, 2, 4), pool_on='spikes')
    for m in pre.modules():
        if isinstance(m, _BatchNorm):  # positive scales, statistics that make layers fire
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.5)
            m.running_var.fill_(0.05)
    x = torch.rand(2, 3, 64, 64)
    post.load_state_dict(pre.state_dict())  # same parameter and buffer names and shapes
    pre.eval(), post.eval()
    for a, b in zip(pre(x), post(x)):
        assert torch.equal(a, b) and a.sum() > 0


def test_pool_on_spikes_with_membrane_shortcuts():
    model = HoyerVGG(widen_factor=0.125, cross_stage_shortcut=True, pool_on='spikes')
    unit = model.stages[2][-1]
    assert [n for n, _ in unit.named_children()] == ['conv', 'bn', 'act', 'pool_out']
    # conv4_3 -> conv5_1 crosses pool4: the spikes through the max pool, the membrane stream
    # through the average pool of the same window
    assert isinstance(model.stages[4][0].stream_pool, torch.nn.AvgPool2d)
    seen = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_pre_hook(lambda mod, args: seen.append(is_binary(args[0])))
    outs = model(torch.rand(2, 3, 64, 64))
    assert seen[0] is False and all(seen[1:]) and all(is_binary(o) for o in outs)
    # the stage's last membrane is its stream plus the BN output, at full resolution; the
    # spikes leave the stage through the max pool
    stage = model.stages[1]
    x = model.stages[0](torch.rand(2, 3, 64, 64))
    spikes, membrane = stage(x, return_membrane=True)
    assert membrane.shape[-1] == 2 * spikes.shape[-1]
    assert torch.equal(spikes, torch.nn.functional.max_pool2d(stage[-1].act(membrane), 2))
    with pytest.raises(ValueError, match='pool_on must be one of'):
        HoyerVGG(pool_on='avg')


def test_widening_shortcut_carries_the_stream_across_every_stage_boundary():
    torch.manual_seed(0)
    model = HoyerVGG(widen_factor=0.125, cross_stage_shortcut=True, widening_shortcut=True,
                     out_indices=(1, 2, 4))
    model.init_weights()
    model.eval()
    assert [s.stream_in for s in model.stages] == [False, True, True, True, True]
    assert [s.stream_pad for s in model.stages[1:]] == [True, True, True, False]
    seen = {}
    model.stages[1][-1].act.register_forward_pre_hook(lambda m, a: seen.setdefault('m2_2', a[0]))
    model.stages[2][0].act.register_forward_pre_hook(lambda m, a: seen.setdefault('m3_1', a[0]))
    convs = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_pre_hook(lambda mod, args: convs.append(is_binary(args[0])))
    c2, c3, c5 = model(torch.rand(2, 3, 64, 64))
    assert convs[0] is False and all(convs[1:])  # every conv after the first reads spikes
    unit = model.stages[2][0]
    z3_1 = unit.bn(unit.conv(c2))  # conv3_1 still reads conv2_2's (pooled) spikes
    m2_2, width_in = seen['m2_2'], seen['m2_2'].shape[1]
    assert width_in < z3_1.shape[1] == 32
    # the first channels continue conv2_2's stream, the new ones start from the BN output
    assert torch.allclose(seen['m3_1'][:, :width_in], m2_2 + z3_1[:, :width_in], atol=1e-5)
    assert torch.allclose(seen['m3_1'][:, width_in:], z3_1[:, width_in:], atol=1e-5)
    # no parameter added: a checkpoint of the network without it loads
    plain = HoyerVGG(widen_factor=0.125)
    model.load_state_dict(plain.state_dict())


def test_widening_shortcut_needs_the_cross_stage_shortcut():
    with pytest.raises(ValueError, match='widening_shortcut=True needs cross_stage_shortcut'):
        HoyerVGG(widening_shortcut=True)
    with pytest.raises(ValueError, match='widening_shortcut must be True or False'):
        HoyerVGG(cross_stage_shortcut=True, widening_shortcut='yes')


@pytest.mark.parametrize('cross_stage_shortcut', [False, True])
def test_tap_before_pool_reads_conv4_3_and_conv5_3_unpooled(cross_stage_shortcut):
    """tap_before_pool: conv4_3 at stride 8, conv5_3 at 16, pool5 of its spikes at 32."""
    torch.manual_seed(0)
    model = HoyerVGG(widen_factor=0.125, tap_before_pool=True, out_indices=(3, 4, 5),
                     cross_stage_shortcut=cross_stage_shortcut)
    model.init_weights()
    model.eval()
    seen = {}
    model.stages[3][-1].act.register_forward_hook(lambda m, a, o: seen.setdefault('c4_3', o))
    model.stages[4][-1].act.register_forward_hook(lambda m, a, o: seen.setdefault('c5_3', o))
    convs = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_pre_hook(lambda mod, args: convs.append(is_binary(args[0])))
    c4, c5, p5 = model(torch.rand(2, 3, 64, 96))
    assert [o.shape[-2:] for o in (c4, c5, p5)] == [(8, 12), (4, 6), (2, 3)]
    assert model.out_channels == (64, 64, 64) == tuple(o.shape[1] for o in (c4, c5, p5))
    assert all(is_binary(o) for o in (c4, c5, p5))
    assert convs[0] is False and all(convs[1:]) and len(convs) == 13
    # the taps are the neurons' own spike maps, un-pooled; pool5 is the OR of conv5_3's
    assert torch.equal(c4, seen['c4_3']) and torch.equal(c5, seen['c5_3'])
    assert torch.equal(p5, torch.nn.functional.max_pool2d(c5, 2))
    # only the pools move: a checkpoint of the default layout loads (strict), pool5 has no
    # parameter
    plain = HoyerVGG(widen_factor=0.125, cross_stage_shortcut=cross_stage_shortcut)
    model.load_state_dict(plain.state_dict())
    assert not any(p.numel() for p in model.stages[5].parameters())


def test_tap_before_pool_relu_twin_and_bad_value():
    ann = HoyerVGG(widen_factor=0.125, tap_before_pool=True, out_indices=(3, 4, 5),
                   act_cfg=dict(type='ReLU'))
    assert not is_binary(ann(torch.rand(2, 3, 64, 64))[0])
    with pytest.raises(ValueError, match='tap_before_pool must be True or False'):
        HoyerVGG(tap_before_pool='yes')
    with pytest.raises(ValueError, match=r'out_indices must be increasing stage indices in 0\.\.5'):
        HoyerVGG(tap_before_pool=True, out_indices=(3, 6))
