import json

import pytest

from projects.gap_study.val_curves import curves_table, read_val_curve


def write_log(path, entries):
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(e) for e in entries) + '\n')


def test_val_curve_from_training_logs_only(tmp_path):
    # a training run (losses, then validations at epochs 5 and 10), resumed once: the later log
    # re-validates epoch 10; a tools/test.py run (no loss) is ignored
    write_log(tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json', [
        {'loss': 3.0, 'step': 1}, {'coco/bbox_mAP_50': 0.5, 'step': 5},
        {'coco/bbox_mAP_50': 0.6, 'step': 10}])
    write_log(tmp_path / '20260101_010000' / 'vis_data' / 'scalars.json', [
        {'loss': 2.0, 'step': 600}, {'coco/bbox_mAP_50': 0.7, 'step': 10},
        {'coco/bbox_mAP_50': 0.8, 'step': 15}])
    write_log(tmp_path / '20260101_020000' / 'vis_data' / 'scalars.json', [
        {'coco/bbox_mAP_50': 0.99}])
    curve = read_val_curve(str(tmp_path), 'coco/bbox_mAP_50')
    assert curve == {5: 0.5, 10: 0.7, 15: 0.8}
    table = curves_table({'SNN': curve, 'ANN': {5: 0.9}}, 'coco/bbox_mAP_50')
    assert table.splitlines()[0] == '| run (coco/bbox_mAP_50) | epoch 5 | epoch 10 | epoch 15 |'
    assert '| SNN | 0.500 | 0.700 | 0.800 |' in table and '| ANN | 0.900 |  |  |' in table
    with pytest.raises(ValueError, match="no validation entry for 'coco/bbox_mAP'"):
        read_val_curve(str(tmp_path), 'coco/bbox_mAP')
    with pytest.raises(FileNotFoundError, match='no training log'):
        read_val_curve(str(tmp_path / 'nothing'), 'coco/bbox_mAP_50')
