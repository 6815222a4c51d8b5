"""benchmark_train.py --quick runs all four models and writes a well-formed table."""
import importlib.util
import re


def load_tool(repo_root):
    spec = importlib.util.spec_from_file_location(
        'benchmark_train', f'{repo_root}/tools/analysis_tools/benchmark_train.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_benchmark_writes_table(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    out = tmp_path / 'bench.md'
    res = load_tool(repo_root).main(['--quick', '--time-steps', '2', '--out', str(out)])
    # the configured neuron (default 'auto': the fused CPU kernels when they build) and, when
    # that is not the eager neuron, the eager reference beside it
    reference = {'snn_torch'} if res['impl'] != 'torch' else set()
    assert set(res['train']) == {'snn', 'snn_recompute', 'ann', 'lif_T2'} | reference
    assert set(res['eval']) == {'snn', 'ann'}
    assert set(res['faults']) == set(res['train']) and all(v >= 0 for v in res['faults'].values())
    assert all(v > 0 for v in res['train'].values()) and all(v > 0 for v in res['memory'].values())
    # recomputing the spike maps saves less than storing them, and no more than the ANN plus
    # the neurons' thresholds (the ReLU's saved output becomes the neuron's saved u)
    mem = res['memory']
    assert mem['snn_recompute'] < mem['snn']
    assert mem['snn_recompute'] <= 1.01 * mem['ann']
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith('| (')]
    assert len(rows) == 4 + len(reference)
    assert f"HoyerSpike impl '{res['impl']}'" in text
    for row in rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert len(cells) == 8
        assert re.fullmatch(r'\d+', cells[1]) and re.fullmatch(r'\d+\.\d\d×', cells[2])
        assert re.fullmatch(r'\d+\.\d k', cells[5])  # minor page faults per step
    ann = [row for row in rows if row.startswith('| (b)')]
    assert len(ann) == 1 and '| 1.00× |' in ann[0]  # the ANN twin is the reference
    tool = load_tool(repo_root)
    assert tool.resolved_impl(dict(type='HoyerSpike', impl='torch'), 'cpu') == 'torch'


def test_bad_arguments_are_named(repo_root):
    import pytest
    tool = load_tool(repo_root)
    with pytest.raises(SystemExit, match='--size must be a multiple of 32'):
        tool.parse_args(['--size', '100'])
    with pytest.raises(SystemExit, match='--steps'):
        tool.parse_args(['--steps', '0'])
