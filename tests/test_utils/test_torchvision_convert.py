"""tools/model_converters/torchvision2hoyer.py on randomly initialised torchvision models (no
download): every conv weight lands unchanged in its layer, every backbone conv is covered,
HoyerVGG with ReLU computes torchvision's vgg16_bn features, wrong files are clear errors."""
import subprocess
import sys

import pytest
import torch
import torchvision

from mmdet.registry import MODELS
from mmdet_hoyer.utils.torchvision_convert import convert

from conftest import tool_env

TOOL = 'tools/model_converters/torchvision2hoyer.py'


@pytest.fixture(scope='module')
def tv_files(tmp_path_factory):
    """Random torchvision vgg16_bn (with non-trivial BN statistics) and resnet50 state dicts."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp('tv')
    vgg = torchvision.models.vgg16_bn()
    for m in vgg.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # γ > 0: max pool commutes with BN + ReLU
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
            m.running_mean.normal_(0, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    files = {}
    for name, model in (('vgg16_bn', vgg), ('resnet50', torchvision.models.resnet50()),
                        ('vgg16', torchvision.models.vgg16())):
        files[name] = root / f'{name}.pth'
        torch.save(model.state_dict(), files[name])
    return files, vgg


def run_tool(repo_root, *args):
    return subprocess.run([sys.executable, f'{repo_root}/{TOOL}', *map(str, args)],
                          capture_output=True, text=True, env=tool_env(repo_root),
                          cwd=repo_root, timeout=300)


def build_loaded(cfg: dict, ckpt) -> torch.nn.Module:
    model = MODELS.build(dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=str(ckpt),
                                                 prefix='backbone.')))
    model.init_weights()
    return model.eval()


def convs(model):
    return {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}


@pytest.mark.parametrize('backbone', ['HoyerVGG', 'HoyerSSDVGG'])
def test_vgg16_bn_weights_land_in_both_vgg_backbones(tv_files, repo_root, tmp_path, backbone):
    files, vgg = tv_files
    dst = tmp_path / 'hoyer_vgg16.pth'
    proc = run_tool(repo_root, files['vgg16_bn'], dst, '--arch', 'vgg16_bn')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'features.0.weight -> backbone.stages.0.0.conv.weight' in proc.stdout
    assert 'classifier.0.weight  (classifier' in proc.stdout  # left out, with the reason
    model = build_loaded(dict(type=backbone, depth=16), dst)
    tv_convs = [m for m in vgg.features if isinstance(m, torch.nn.Conv2d)]
    ours = [m for n, m in convs(model).items() if n.startswith('stages.') and
            not n.startswith('stages.5')]  # SSD's fc6/fc7 have no torchvision counterpart
    assert len(ours) == len(tv_convs) == 13
    for a, b in zip(ours, tv_convs):
        assert torch.equal(a.weight, b.weight)


def test_converted_vgg_with_relu_computes_torchvision_features(tv_files, repo_root, tmp_path):
    files, vgg = tv_files
    dst = tmp_path / 'hoyer_vgg16.pth'
    assert run_tool(repo_root, files['vgg16_bn'], dst, '--arch', 'vgg16_bn').returncode == 0
    model = build_loaded(dict(type='HoyerVGG', depth=16, out_indices=(4, ), shortcut='none',
                              act_cfg=dict(type='ReLU')), dst)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours, theirs = model(x)[0], vgg.eval().features(x)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    assert theirs.abs().mean() > 0.01  # not a silent network


def test_resnet50_every_conv_mapped_unchanged(tv_files, repo_root, tmp_path):
    files, _ = tv_files
    dst = tmp_path / 'hoyer_r50.pth'
    proc = run_tool(repo_root, files['resnet50'], dst, '--arch', 'resnet50')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'layer1.0.bn3.weight  (BN of a branch output' in proc.stdout
    src = torch.load(files['resnet50'])
    model = build_loaded(dict(type='HoyerResNet', depth=50), dst)
    ours = convs(model)
    expected = {'stem.conv': 'conv1'}
    for i, n in enumerate((3, 4, 6, 3)):
        for j in range(n):
            for c in (1, 2, 3):
                expected[f'stages.{i}.{j}.unit{c}.conv'] = f'layer{i + 1}.{j}.conv{c}'
            if j == 0:
                expected[f'stages.{i}.{j}.shortcut.conv'] = f'layer{i + 1}.{j}.downsample.0'
    assert set(ours) == set(expected)  # nothing missing: every conv of HoyerResNet-50
    for dst_name, src_name in expected.items():
        assert torch.equal(ours[dst_name].weight, src[f'{src_name}.weight']), dst_name
    # the BN after torchvision's conv1 of a block normalises what unit2's conv reads
    bn = model.stages[2][3].unit2.bn
    assert torch.equal(bn.running_var, src['layer3.3.bn1.running_var'])
    assert torch.equal(model.stages[0][0].shortcut.bn.weight, src['bn1.weight'])


def test_wrong_arch_or_file_is_a_clear_error(tv_files, repo_root, tmp_path):
    files, _ = tv_files
    for src, arch, words in ((files['resnet50'], 'vgg16_bn', 'not a torchvision vgg16_bn'),
                             (files['vgg16_bn'], 'resnet50', 'not a torchvision resnet50'),
                             (files['vgg16'], 'vgg16_bn', 'vgg16 without BN')):
        proc = run_tool(repo_root, src, tmp_path / 'x.pth', '--arch', arch)
        assert proc.returncode != 0 and words in proc.stderr, proc.stderr[-1000:]
        assert 'Traceback' not in proc.stderr and not (tmp_path / 'x.pth').exists()
    proc = run_tool(repo_root, files['vgg16_bn'], tmp_path / 'x.pth', '--arch', 'vgg19')
    assert proc.returncode != 0 and 'invalid choice' in proc.stderr
    (tmp_path / 'junk.pth').write_text('not a checkpoint')
    proc = run_tool(repo_root, tmp_path / 'junk.pth', tmp_path / 'x.pth', '--arch', 'vgg16_bn')
    assert proc.returncode != 0 and 'cannot read' in proc.stderr and 'Traceback' not in proc.stderr
    with pytest.raises(ValueError, match='12 convs in features, vgg16_bn has 13'):
        state = torch.load(files['vgg16_bn'])
        convert({k: v for k, v in state.items() if not k.startswith('features.40')}, 'vgg16_bn')


@pytest.mark.parametrize('arch,backbone', [('vgg16_bn', dict(type='HoyerVGG', depth=16)),
                                           ('vgg16_bn', dict(type='HoyerSSDVGG', depth=16)),
                                           ('resnet50', dict(type='HoyerResNet', depth=50))])
def test_init_cfg_loads_torchvision_weights_from_the_hub_cache(tv_files, tmp_path, monkeypatch,
                                                               arch, backbone):
    """torchvision2hoyer://ARCH through the ordinary Pretrained init, no network: a random
    torchvision state dict placed in a temporary TORCH_HOME lands conv for conv."""
    from mmdet_hoyer.utils.torchvision_checkpoint import cached_file
    files, _ = tv_files
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    target = cached_file(arch)
    assert target.startswith(str(tmp_path / 'torch' / 'hub' / 'checkpoints'))
    import os
    import shutil
    os.makedirs(os.path.dirname(target))
    shutil.copy(files[arch], target)
    model = MODELS.build(dict(backbone, init_cfg=dict(
        type='Pretrained', checkpoint=f'torchvision2hoyer://{arch}', prefix='backbone.')))
    model.init_weights()
    src = torch.load(files[arch], weights_only=True)
    expected, _ = convert(src, arch)
    state = model.state_dict()
    landed = [k for k in expected if expected[k].dim() == 4]  # every conv weight
    assert len(landed) == (13 if arch == 'vgg16_bn' else 53)
    for k in landed:
        assert torch.equal(state[k[len('backbone.'):]], expected[k]), k


def test_missing_torchvision_weights_name_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    model = MODELS.build(dict(type='HoyerVGG', depth=16, init_cfg=dict(
        type='Pretrained', checkpoint='torchvision2hoyer://vgg16_bn', prefix='backbone.')))
    with pytest.raises(FileNotFoundError) as e:
        model.init_weights()
    msg = str(e.value)
    assert 'vgg16_bn-6c64b313.pth' in msg and str(tmp_path / 'torch' / 'hub' / 'checkpoints') in msg
    with pytest.raises(ValueError, match='arch one of'):
        MODELS.build(dict(type='HoyerVGG', depth=16, init_cfg=dict(
            type='Pretrained', checkpoint='torchvision2hoyer://vgg19', prefix='backbone.'))
        ).init_weights()
