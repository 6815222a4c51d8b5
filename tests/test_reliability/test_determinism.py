"""Two runs with randomness=dict(seed, deterministic=True) log identical losses."""
import numpy as np
from mmengine.runner import Runner

from conftest import tiny_demo_config


def run_once(repo_root, data_root, work_dir):
    cfg = tiny_demo_config(data_root, work_dir, {
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 5,
        'default_hooks.checkpoint.interval': 5, 'randomness': dict(seed=7, deterministic=True)})
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    return {k: np.asarray(hub.get_scalar(k).data[0]) for k in
            ('train/loss', 'train/loss_cls', 'train/loss_hoyer')}


def test_two_seeded_deterministic_runs_match(repo_root, tiny_digits, tmp_path):
    a = run_once(repo_root, tiny_digits, str(tmp_path / 'a'))
    b = run_once(repo_root, tiny_digits, str(tmp_path / 'b'))
    assert len(a['train/loss']) == 6  # 24 images / batch 4, one epoch
    for k in a:
        assert np.array_equal(a[k], b[k]), (k, a[k], b[k])
