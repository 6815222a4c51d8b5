"""results_table.py: seed means, energy from spike_stats, the ANN row's energy, markers."""
import json
import sys

import pytest

sys.path.insert(0, __import__('conftest').REPO + '/tools/analysis_tools')
import results_table  # noqa: E402


def run_dir(root, name, metrics, snn_pj=None, ann_pj=None):
    d = root / name
    d.mkdir()
    (d / 'test_metrics.json').write_text(json.dumps(metrics))
    if snn_pj is not None:
        (d / 'spike_stats').mkdir()
        (d / 'spike_stats' / 'stats.json').write_text(json.dumps(
            {'operations': {'snn': {'energy_pj': snn_pj}, 'ann': {'energy_pj': ann_pj}}}))
    return str(d)


def coco(m, m50, rate=None):
    out = {'coco/bbox_mAP': m, 'coco/bbox_mAP_50': m50, 'coco/bbox_mAP_75': m / 2,
           'coco/bbox_mAP_s': m / 4}
    if rate is not None:
        out['spike_rate'] = rate
    return out


def rows(text):
    return {ln.split('|')[1].strip(): [c.strip() for c in ln.split('|')[2:-1]]
            for ln in text.splitlines()[2:] if ln.startswith('|')}


def test_seeds_are_averaged_and_the_ann_row_gets_the_twins_energy(tmp_path, capsys):
    s0 = run_dir(tmp_path, 's0', coco(0.6, 0.9, 0.10), snn_pj=100e6, ann_pj=2000e6)
    s1 = run_dir(tmp_path, 's1', coco(0.5, 0.8, 0.20), snn_pj=300e6, ann_pj=2000e6)
    ann = run_dir(tmp_path, 'ann', coco(0.7, 0.95))
    out = tmp_path / 'doc.md'
    out.write_text('# doc\n\n<!-- t -->\nold table\n<!-- /t -->\n\ntail\n')
    results_table.main([f'SNN={s0},{s1}', f'ANN={ann}',
                        '--out', str(out), '--marker', 't'])
    text = out.read_text()
    assert 'old table' not in text and text.startswith('# doc') and text.endswith('tail\n')
    r = rows(text.split('<!-- t -->')[1])
    assert r['SNN'][:3] == ['2', '0.550 (0.600 / 0.500)', '0.850 (0.900 / 0.800)']
    assert r['SNN'][5] == '0.150 (0.100 / 0.200)'
    # energy: mean of the seeds' µJ; ratio: mean of the seeds' ANN/SNN (20× and 6.67×)
    assert r['SNN'][6] == '200.0 µJ' and r['SNN'][7] == '13.3×'
    assert r['ANN'][5:] == ['analog', '2000.0 µJ', '1×']


def test_two_single_runs_get_the_snn_ann_ratios(tmp_path, capsys):
    snn = run_dir(tmp_path, 'snn', coco(0.6, 0.9, 0.1), snn_pj=100e6, ann_pj=2000e6)
    ann = run_dir(tmp_path, 'ann', coco(0.75, 1.0))
    results_table.main([snn, ann])
    text = capsys.readouterr().out
    assert 'SNN/ANN ratio: mAP 0.800, mAP@0.5 0.900, mAP@0.75 0.800, mAP_s 0.800' in text


def test_each_ann_twin_pairs_with_the_spiking_run_before_it(tmp_path, capsys):
    y = run_dir(tmp_path, 'y', coco(0.6, 0.9, 0.1), snn_pj=100e6, ann_pj=2000e6)
    y_ann = run_dir(tmp_path, 'y_ann', coco(0.75, 1.0))
    s = run_dir(tmp_path, 's', coco(0.4, 0.8, 0.1), snn_pj=100e6, ann_pj=3000e6)
    s_ann = run_dir(tmp_path, 's_ann', coco(0.5, 0.8))
    results_table.main([f"Y, pool_on='x'={y}", f'Y twin={y_ann}', f'S={s}', f'S twin={s_ann}'])
    text = capsys.readouterr().out
    r = rows(text)
    assert r['Y twin'][6] == '2000.0 µJ' and r['S twin'][6] == '3000.0 µJ'
    assert "SNN/ANN ratio (Y, pool_on='x' / Y twin): mAP 0.800, mAP@0.5 0.900" in text
    assert 'SNN/ANN ratio (S / S twin): mAP 0.800, mAP@0.5 1.000' in text


def test_a_missing_run_is_listed_and_a_bad_argument_named(tmp_path, capsys):
    results_table.main([f'x={tmp_path}/nothing'])
    assert 'no test_metrics.json' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='LABEL=DIR'):
        results_table.main(['=a'])
