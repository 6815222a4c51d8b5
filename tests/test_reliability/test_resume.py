"""A run resumed from its epoch-1 checkpoint reaches the same weights, thresholds and optimizer
state as the uninterrupted run (same seed, deterministic mode, EpochSeedHook)."""
import os.path as osp

import torch
from mmengine.runner import Runner

from conftest import tiny_demo_config


def make_cfg(repo_root, data_root, work_dir):
    cfg = tiny_demo_config(data_root, work_dir, {
        'train_cfg.val_interval': 5, 'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        'randomness': dict(seed=11, deterministic=True)})
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='EpochSeedHook')]
    return cfg


def test_resume_reaches_the_uninterrupted_weights(repo_root, tiny_digits, tmp_path):
    full = Runner.from_cfg(make_cfg(repo_root, tiny_digits, str(tmp_path / 'full')))
    full.train()  # 2 epochs, checkpoints after each
    ckpt = osp.join(str(tmp_path / 'full'), 'epoch_1.pth')
    assert osp.isfile(ckpt)

    cfg = make_cfg(repo_root, tiny_digits, str(tmp_path / 'resumed'))
    cfg.resume, cfg.load_from = True, ckpt
    resumed = Runner.from_cfg(cfg)
    resumed.train()  # loads epoch 1 (weights, θ, running thresholds, optimizer, scheduler)
    assert resumed.epoch == full.epoch == 2 and resumed.iter == full.iter

    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert set(a) == set(b)
    assert any(k.endswith('running_extremum') for k in a) and any(k.endswith('threshold') for k in a)
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, diff[:5]
    oa, ob = full.optim_wrapper.state_dict(), resumed.optim_wrapper.state_dict()
    for pid, st in oa['state'].items():
        for name, value in st.items():
            assert torch.equal(torch.as_tensor(value).cpu(),
                               torch.as_tensor(ob['state'][pid][name]).cpu())
    assert [g['lr'] for g in oa['param_groups']] == [g['lr'] for g in ob['param_groups']]
