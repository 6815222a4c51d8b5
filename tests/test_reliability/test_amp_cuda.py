"""`tools/train.py --amp` on a GPU: MMEngine's AmpOptimWrapper (float16, dynamic loss scale)
trains the demo spiking YOLOv3 and validates it with CocoMetric; every logged loss is finite,
the running thresholds in the checkpoint are float32 and finite. Skipped without CUDA (the CPU
path, where --amp is a clear error, is tested in tests/test_utils/test_config_checks.py)."""
import json
import math
import os
import subprocess
import sys

import pytest
import torch

from conftest import tiny_demo_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


def test_amp_training_on_cuda(repo_root, tiny_digits, tmp_path):
    work_dir = str(tmp_path / 'amp')
    cfg = tiny_demo_config(tiny_digits, work_dir)
    cfg_path = str(tmp_path / 'amp_cfg.py')
    cfg.dump(cfg_path)
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/train.py', cfg_path, '--amp'],
        capture_output=True, text=True, cwd=repo_root, timeout=900,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            [repo_root] + [p for p in [os.environ.get('PYTHONPATH')] if p])))
    assert proc.returncode == 0, proc.stderr[-4000:]
    run_dir = sorted(d for d in os.listdir(work_dir) if os.path.isdir(os.path.join(work_dir, d)))[-1]
    with open(os.path.join(work_dir, run_dir, 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f]
    train = [r for r in records if 'loss' in r]
    assert len(train) == 12  # 24 images / batch 4, 2 epochs, logged every iteration
    for r in train:
        assert math.isfinite(r['loss']) and math.isfinite(r['loss_hoyer']) and r['loss_hoyer'] > 0
    val = [r for r in records if 'coco/bbox_mAP' in r]
    assert len(val) == 1 and 0 <= val[0]['coco/bbox_mAP'] <= 1
    ckpt = torch.load(os.path.join(work_dir, 'epoch_2.pth'), map_location='cpu', weights_only=False)
    assert 'loss_scaler' in ckpt['optimizer']  # AmpOptimWrapper really ran
    running = {k: v for k, v in ckpt['state_dict'].items() if k.endswith('running_extremum')}
    assert running and all(v.dtype == torch.float32 and torch.isfinite(v).all()
                           for v in running.values())
