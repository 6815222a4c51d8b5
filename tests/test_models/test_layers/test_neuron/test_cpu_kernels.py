"""The fused CPU operators (``torch.ops.mmdet_hoyer``) and their loader."""
import os
import subprocess
import sys

import pytest
import torch

from mmdet_hoyer.models.layers.neuron import cpu_kernels
from mmdet_hoyer.models.layers.neuron.cpu_kernels import (build_directory,
                                                          hoyer_cpu_ops_unavailable_reason)

pytestmark = pytest.mark.skipif(hoyer_cpu_ops_unavailable_reason() is not None,
                                reason='the fused CPU kernels cannot be built here')


def test_moments_write_the_bounded_u_and_sum_in_float64():
    ops = torch.ops.mmdet_hoyer
    z = torch.tensor([-5.0, -0.5, 0.0, 0.3, 1.0, 1.7, 9.0, float('inf')] * 1001)
    u, s1, s2, n = ops.hoyer_moments(z, torch.tensor(2.0), -2.0, 3.0, False)
    assert u.dtype == torch.float32 and u.shape == z.shape
    assert torch.equal(u, (z / 2.0).clamp(-2.0, 3.0))
    c = (z.double() / 2).clamp(0, 1)
    assert s1.shape == () and s1.item() == pytest.approx(c.sum().item(), rel=1e-6)
    assert s2.item() == pytest.approx(c.square().sum().item(), rel=1e-6)
    assert n.item() == (z / 2 >= 1).sum().item()
    # per channel: one value per dim-1 index
    zc = torch.randn(3, 5, 7, 2)
    _, s1c, s2c, nc = ops.hoyer_moments(zc, torch.tensor(1.0), -1.0, 3.0, True)
    cc = zc.double().clamp(0, 1)
    assert s1c.shape == (5, )
    torch.testing.assert_close(s1c.double(), cc.sum((0, 2, 3)), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(s2c.double(), cc.square().sum((0, 2, 3)), rtol=1e-6, atol=1e-6)
    assert torch.equal(nc, (zc >= 1).sum((0, 2, 3)).float())


def test_forward_forms_the_extremum_with_fallback_and_the_spikes():
    ops = torch.ops.mmdet_hoyer
    one = torch.tensor(1.0)
    z = torch.tensor([[0.5, 0.25, 1.5, -1.0], [-1.0, -2.0, -0.5, 0.0]]).reshape(2, 2, 2, 1)
    # channel 0 of sample 0 and sample 1: c = {0.5, 0.25} ∪ {0, 0}; channel 1: {1, 0} ∪ {0, 0}
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        o, u, e, s1, s2, h, sums = ops.hoyer_forward(z.to(dtype), one, torch.tensor([0.3, 0.7]),
                                                     -1.0, 3.0, True, False, None, 0.1)
        assert o.dtype == dtype and u.dtype == torch.float32
        torch.testing.assert_close(e, torch.tensor([(0.25 + 0.0625) / 0.75, 1.0]))
        assert torch.equal(o, (u >= e.reshape(1, 2, 1, 1)).to(dtype))
        # H = (Σc)²/Σc² over all channels, and the sums kept for its gradient
        assert torch.equal(sums, torch.tensor([1.75, 1.3125]))
        assert h.item() == pytest.approx(1.75**2 / 1.3125, rel=1e-7)
    # the saturated value excluded: channel 1 has only c = 1 -> Σc - n = 0 -> the fallback;
    # the running estimate is updated in place after E is formed from it
    running = torch.tensor([0.3, 0.7])
    _, _, e, _, _, _, _ = ops.hoyer_forward(z, one, running, -1.0, 3.0, True, True, running,
                                            0.25)
    torch.testing.assert_close(e, torch.tensor([(0.25 + 0.0625) / 0.75, 0.7]))
    torch.testing.assert_close(running, 0.75 * torch.tensor([0.3, 0.7]) + 0.25 * e)
    # a silent layer: the fallback, no spike, H = 0
    o, _, e, s1, _, h, _ = ops.hoyer_forward(-torch.rand(2, 3, 4), one, torch.tensor(0.4), -1.0,
                                             3.0, False, False, None, 0.1)
    assert e.item() == pytest.approx(0.4) and s1.item() == 0 and o.sum() == 0 and h.item() == 0


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16, torch.float16])
def test_spike_map_equals_the_eager_compare(dtype):
    ops = torch.ops.mmdet_hoyer
    u = torch.randn(3, 5, 37, 41)
    u[0, 0, 0, :3] = torch.tensor([0.5, float('nan'), float('inf')])
    e = torch.rand(5)
    for thr in (e, e.reshape(1, 5, 1, 1), e[:1], e[0]):
        expect = torch.ge(u, thr.reshape(1, -1, 1, 1) if thr.numel() > 1 else thr).to(dtype)
        assert torch.equal(ops.hoyer_spike_map(u, thr, dtype), expect)


def test_operator_input_errors_are_clear():
    ops = torch.ops.mmdet_hoyer
    one = torch.tensor(1.0)
    with pytest.raises(RuntimeError, match=r'\|θ\| must be > 0'):
        ops.hoyer_moments(torch.ones(4), torch.tensor(0.0), -1.0, 3.0, False)
    with pytest.raises(RuntimeError, match=r'\|θ\| must be one number'):
        ops.hoyer_moments(torch.ones(4), torch.ones(2), -1.0, 3.0, False)
    with pytest.raises(RuntimeError, match=r'\(N, C, \.\.\.\)'):
        ops.hoyer_moments(torch.ones(4), one, -1.0, 3.0, True)
    with pytest.raises(RuntimeError, match='fallback extremum needs 1 or 3 values'):
        ops.hoyer_forward(torch.ones(2, 3, 4), one, torch.ones(2), -1.0, 3.0, True, False, None,
                          0.1)
    with pytest.raises(RuntimeError, match='running estimate must be a contiguous float32'):
        ops.hoyer_forward(torch.ones(2, 3, 4), one, torch.ones(3), -1.0, 3.0, True, False,
                          torch.ones(3, dtype=torch.float16), 0.1)
    with pytest.raises(RuntimeError, match='1 value or one per channel'):
        ops.hoyer_spike_map(torch.ones(2, 3, 4), torch.ones(2), torch.float32)
    with pytest.raises(RuntimeError, match='u must be float32'):
        ops.hoyer_backward(torch.ones(4), torch.ones(4, dtype=torch.float64), one, 0.5, 0.0,
                           2.0, None, None, None, None, True, True)
    with pytest.raises(RuntimeError, match='grad_o has shape'):
        ops.hoyer_backward(torch.ones(3), torch.ones(4), one, 0.5, 0.0, 2.0, None, None, None,
                           None, True, True)
    with pytest.raises(RuntimeError, match='need 3 values, got 2'):
        ops.hoyer_backward(torch.ones(2, 3), torch.ones(2, 3), one, 0.5, 0.0, 2.0,
                           torch.zeros(2), torch.zeros(2), None, None, True, True)
    with pytest.raises(RuntimeError, match='same number of values'):
        ops.hoyer_backward(torch.ones(2, 3), torch.ones(2, 3), one, 0.5, 0.0, 2.0,
                           torch.zeros(3), torch.zeros(1), None, None, True, True)


def test_loader_reports_a_missing_compiler_and_keys_the_build_by_torch(monkeypatch, tmp_path):
    monkeypatch.setenv('CXX', 'no-such-compiler-xyz')
    reason = cpu_kernels._build_and_load.__wrapped__()
    assert 'no C++ compiler' in reason and 'no-such-compiler-xyz' in reason
    # no ninja on PATH (a virtualenv's bin is not on it unless activated): the pip package's
    ninja = pytest.importorskip('ninja')
    monkeypatch.setattr(cpu_kernels.shutil, 'which',
                        lambda name, *a, **k: None if name == 'ninja' else '/usr/bin/' + name)
    monkeypatch.setenv('PATH', '/nowhere')
    assert cpu_kernels._build_search_path().split(os.pathsep) == [ninja.BIN_DIR, '/nowhere']
    monkeypatch.setenv('MMDET_HOYER_CACHE', str(tmp_path))
    d = build_directory()
    assert d.parent == tmp_path / 'ops' and torch.__version__.split('+')[0] in d.name


_ISA_SCRIPT = """
import sys, torch
from mmdet_hoyer.models.layers.neuron.cpu_kernels import hoyer_cpu_ops
ops = hoyer_cpu_ops()
g = torch.Generator().manual_seed(0)
z = torch.randn(3, 5, 29, 31, generator=g) * 1.3
grad = torch.randn(z.shape, generator=g)
o, u, e, s1, s2, h, sums = ops.hoyer_forward(z, torch.tensor(0.9), torch.ones(5), -1.0, 3.0,
                                             True, False, None, 0.1)
gz, gt = ops.hoyer_backward(grad, u, torch.tensor(0.9), 0.5, 0.0, 2.0, torch.full((5,), 0.3),
                            torch.full((5,), -0.2), torch.tensor(1.5), sums, True, True)
torch.save(dict(o=o, u=u, e=e, s1=s1, s2=s2, h=h, gz=gz, gt=gt), sys.argv[1])
"""


def test_baseline_and_avx2_code_agree(tmp_path):
    """The library holds a baseline (4-lane) and an AVX2 (8-lane) copy of each kernel and picks
    one at run time; both give the same element-wise results bit for bit and the same sums up
    to float32 rounding (``MMDET_HOYER_CPU_ISA=baseline`` forces the baseline copy)."""
    results = {}
    for isa in ('baseline', 'native'):
        out = tmp_path / f'{isa}.pt'
        env = dict(os.environ, MMDET_HOYER_CPU_ISA=isa)
        subprocess.run([sys.executable, '-c', _ISA_SCRIPT, str(out)], env=env, check=True,
                       capture_output=True, timeout=300)
        results[isa] = torch.load(out)
    a, b = results['baseline'], results['native']
    for key in ('o', 'u', 'gz'):
        assert torch.equal(a[key], b[key]), key
    for key in ('e', 's1', 's2', 'h', 'gt'):
        torch.testing.assert_close(a[key], b[key], rtol=1e-6, atol=1e-6)
