"""tools/analysis_tools/energy_table.py on hand-written run folders: seeds averaged, rows per
assumption, int8 rows only where measured, tables between markers."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../../tools/analysis_tools'))
from energy_table import main  # noqa: E402


def run(root, name, map_, snn_pj=None, int8=None, nir_int8=None):
    d = root / name
    (d / 'spike_stats').mkdir(parents=True)
    (d / 'test_metrics.json').write_text(json.dumps({'coco/bbox_mAP': map_}))
    if snn_pj is not None:
        rows = [dict(assumption='fp32 operations', snn_pj=snn_pj, ann_pj=10 * snn_pj),
                dict(assumption='fp32 operations + memory', snn_pj=4 * snn_pj,
                     ann_pj=20 * snn_pj)]
        (d / 'spike_stats' / 'stats.json').write_text(json.dumps({'energy_model': {'rows': rows}}))
    if int8 is not None:
        (d / 'int8').mkdir()
        (d / 'int8' / 'int8_metrics.json').write_text(
            json.dumps({'metrics': {'coco/bbox_mAP': int8}}))
    if nir_int8 is not None:  # export_nir.py --int8-weights --eval --report
        (d / 'nir_int8').mkdir()
        (d / 'nir_int8' / 'report.json').write_text(
            json.dumps({'ok': True, 'eval': {'consumer': 'snntorch', 'coco/bbox_mAP': nir_int8}}))
    return str(d)


def test_tables_average_seeds_and_skip_unmeasured_int8(tmp_path):
    s0 = run(tmp_path, 's0', 0.40, snn_pj=1e6, int8=0.41, nir_int8=0.42)
    s1 = run(tmp_path, 's1', 0.50, snn_pj=3e6, int8=0.47)
    a0 = run(tmp_path, 'a0', 0.60)
    page = tmp_path / 'energy.md'
    page.write_text('# Energy\n\ntext\n')
    tables = main([f'X={s0},{s1}:{a0}', '--out', str(page)])
    energy = tables['energy-assumptions'].splitlines()
    assert energy[2] == '| X | fp32 operations | 2.0 µJ | 20.0 µJ | 10.0× |'
    assert energy[3] == '| X | fp32 operations + memory | 8.0 µJ | 40.0 µJ | 5.0× |'
    int8 = tables['energy-int8'].splitlines()
    assert int8[2:] == ['| X | SNN | weights | 2 | 0.450 | 0.440 | -0.010 |',  # no ANN int8 run
                        # the NIR graph measured on one seed: against that seed's fp32
                        '| X | SNN, NIR graph in snnTorch | weights, one scale per neuron | 1 | '
                        '0.400 | 0.420 | +0.020 |']
    text = page.read_text()
    assert text.startswith('# Energy\n\ntext\n') and '<!-- energy-int8 -->' in text
    with pytest.raises(SystemExit, match='no spike_stats'):
        main([f'Y={a0}:{a0}'])
    with pytest.raises(SystemExit, match='expected'):
        main(['no-colon'])
