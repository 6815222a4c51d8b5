"""The gap study's probe tools on the trained tiny checkpoint: the centre probe runs the real
loaders and pipeline and reports every map; the recall breakdown of a detector against itself
gives equal columns."""
import json

import pytest

from conftest import run_on_checkpoint, trained_checkpoint  # noqa: E402


@pytest.fixture(scope='module')
def config_file(trained, tmp_path_factory):
    """The demo config merged with the tiny run's options (the ANN side of the breakdown)."""
    from conftest import trained_config_file
    return trained_config_file(trained, tmp_path_factory.mktemp('cfg') / 'tiny.py')


def test_centre_probe_tool_on_the_trained_checkpoint(trained, repo_root, tmp_path):
    """The probe runs the real loaders/pipeline on the tiny set and reports every map."""
    prefixes = ('model.', 'test_', 'train_dataloader.dataset.')
    out = tmp_path / 'probe.md'
    proc = run_on_checkpoint(trained, repo_root, 'projects/gap_study/tools/centre_probe.py',
                             ['--num-train', '24', '--num-val', '8', '--out', str(out)], prefixes)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / 'probe.json') as f:
        result = json.load(f)
    names = [r['map'] for r in result['maps']]
    assert names == ['backbone[0]', 'backbone[1]', 'backbone[2]', 'neck[0]', 'neck[1]',
                     'neck[2]', 'bbox_head.convs_bridge.0', 'bbox_head.convs_bridge.1',
                     'bbox_head.convs_bridge.2']
    assert result['num_train_boxes'] > 24 and result['num_val_boxes'] >= 8
    assert all(0 <= r['accuracy'] <= 1 for r in result['maps'])
    assert all(r['offset_r2'] <= 1 and r['size_r2'] <= 1 for r in result['maps'])  # box probe
    # backbone and neck hand on spike maps (the mean at the centres is a firing rate); the head's
    # bridges are the membrane read-out (conv + BN, analog)
    spikes = [r for r in result['maps'] if not r['map'].startswith('bbox_head')]
    assert all(r['binary'] and 0 <= r['mean_activation'] <= 1 for r in spikes)
    assert not any(r['binary'] for r in result['maps'] if r['map'].startswith('bbox_head'))
    assert '| neck[2] |' in out.read_text()
    proc = run_on_checkpoint(trained, repo_root, 'projects/gap_study/tools/centre_probe.py',
                             ['--layers', 'nek'], prefixes)
    assert proc.returncode != 0 and "['nek'] are not modules" in proc.stderr
    proc = run_on_checkpoint(trained, repo_root, 'projects/gap_study/tools/centre_probe.py',
                             ['--window', '2'], prefixes)
    assert proc.returncode != 0 and '--window must be an odd integer' in proc.stderr
    # 3x3 windows (what the head's 3x3 bridge reads), the maps' channel counts unchanged
    out3 = tmp_path / 'probe3.md'
    proc = run_on_checkpoint(trained, repo_root, 'projects/gap_study/tools/centre_probe.py',
                             ['--num-train', '24', '--num-val', '8', '--layers', 'neck',
                              '--window', '3', '--alpha', '100', '--out', str(out3)], prefixes)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(tmp_path / 'probe3.json') as f:
        windowed = json.load(f)
    assert (windowed['window'], windowed['alpha']) == (3, 100)
    assert ([(r['map'], r['channels']) for r in windowed['maps']]
            == [(r['map'], r['channels']) for r in result['maps'] if r['map'].startswith('neck')])
    assert '3x3 cells at each centre, ridge alpha 100' in out3.read_text()


def test_recall_breakdown_tool(trained, repo_root, config_file, tmp_path):
    out = tmp_path / 'recall.md'
    # the same detector as 'SNN' and as 'ANN twin': equal recalls, ratio 1 where defined
    proc = run_on_checkpoint(trained, repo_root, 'projects/gap_study/tools/recall_breakdown.py',
                             ['--ann', config_file, trained_checkpoint(trained),
                              '--num-images', '4', '--score-thr', '0.0', '--bins', '2',
                              '--iou-thr', '0.1',  # the 2-epoch model boxes objects loosely
                              '--out', str(out)], ('model.', 'test_'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    root = trained['options']['test_dataloader.dataset.data_root']
    coco = json.load(open(f'{root}annotations/instances_val.json'))
    first = {img['id'] for img in coco['images'][:4]}
    n_objects = sum(a['image_id'] in first for a in coco['annotations'])
    assert f'{n_objects} objects' in text
    sections = {part.splitlines()[0].split(':')[0]: part for part in text.split('\n## ')[1:]}
    errors = sections.pop('box errors of the best-IoU prediction')
    assert sorted(sections) == ['background', 'contrast', 'edge', 'size']
    # box errors: one row per detector and size bin, 'all' last; the copy has the same errors
    err_rows = [line.split('|')[1:-1] for line in errors.splitlines() if line.startswith('| ')]
    err_rows = [[c.strip() for c in r] for r in err_rows[1:]]  # after the header
    assert all(len(r) == 7 for r in err_rows)  # size, detector, objects, 4 errors
    assert err_rows[-2][0] == err_rows[-1][0] == 'all' and int(err_rows[-1][2]) > 0
    assert [r[1] for r in err_rows[-2:]] == ['SNN', 'ANN twin']
    assert err_rows[-2][2:] == err_rows[-1][2:]
    rows = []
    for part in sections.values():
        bins = [line for line in part.splitlines() if line.startswith('| [')]
        assert 1 <= len(bins) <= 2  # at most two bins per attribute (quantiles may tie)
        assert sum(int(r.split('|')[2]) for r in bins) == n_objects > 0
        rows += bins
    for r in rows:
        cells = [c.strip() for c in r.split('|')[3:-1]]
        assert cells[0] == cells[1] and cells[2] == cells[3]  # SNN == its copy
        assert cells[4] in ('1.000', '–')
    assert (tmp_path / 'recall.png').stat().st_size > 5000
    assert 'table written to' in proc.stdout

    proc = run_on_checkpoint(trained, repo_root, 'projects/gap_study/tools/recall_breakdown.py',
                             ['--iou-thr', '1.5', '--out', str(out)], ('model.', 'test_'))
    assert proc.returncode != 0 and '--iou-thr must be in [0, 1], got 1.5' in proc.stderr
