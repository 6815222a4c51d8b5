"""A run killed with SIGKILL at a random iteration and restarted with ``--resume`` loses at most
one checkpoint interval and, with iteration-interval checkpoints and EpochSeedHook, ends with
exactly the weights of the uninterrupted run; without the hook the same resume differs."""
import os
import os.path as osp
import random
import shutil
import signal
import subprocess
import sys

import torch
from mmengine.config import Config

from conftest import tiny_options

ITERS_PER_EPOCH = 6  # 24 tiny images, batch 4
EPOCHS = 2
INTERVAL = 2  # iteration-interval checkpoints


def write_config(repo_root, data_root, path, work_dir, seed_hook=True, kill_at=None):
    opts = tiny_options(data_root, work_dir, 'unused')
    opts.update({'train_cfg.max_epochs': EPOCHS, 'train_cfg.val_interval': EPOCHS,
                 'default_hooks.checkpoint': dict(type='CheckpointHook', by_epoch=False,
                                                  interval=INTERVAL, max_keep_ckpts=20),
                 'randomness': dict(seed=11, deterministic=True)})
    path.write_text(f"_base_ = '{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py'\n"
                    "custom_imports = dict(imports=['mmdet_hoyer', 'kill_hook'], "
                    'allow_failed_imports=False)\n')
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict(opts)
    cfg.model.backbone.init_cfg = None
    hooks = list(cfg.custom_hooks) + ([dict(type='EpochSeedHook')] if seed_hook else [])
    if kill_at is not None:
        hooks.append(dict(type='KillAtIterHook', at=kill_at))
    cfg.custom_hooks = hooks
    cfg.dump(str(path))
    return str(path)


def train(repo_root, cfg_path, *args):
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONPATH=os.pathsep.join(
        [repo_root, osp.dirname(__file__)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    return subprocess.run([sys.executable, f'{repo_root}/tools/train.py', cfg_path, *args],
                          capture_output=True, text=True, env=env, cwd=repo_root, timeout=900)


def weights(work_dir):
    return torch.load(osp.join(work_dir, f'iter_{ITERS_PER_EPOCH * EPOCHS}.pth'),
                      map_location='cpu')['state_dict']


def test_sigkill_then_resume_equals_the_uninterrupted_run(repo_root, tiny_digits, tmp_path):
    at = random.randint(INTERVAL + 1, ITERS_PER_EPOCH * EPOCHS - 1)  # a random iteration
    full_dir, killed_dir = str(tmp_path / 'full'), str(tmp_path / 'killed')
    proc = train(repo_root, write_config(repo_root, tiny_digits, tmp_path / 'full.py', full_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]

    killed_cfg = write_config(repo_root, tiny_digits, tmp_path / 'killed.py', killed_dir,
                              kill_at=at)
    proc = train(repo_root, killed_cfg)
    assert proc.returncode == -signal.SIGKILL, (at, proc.returncode, proc.stderr[-3000:])
    with open(osp.join(killed_dir, 'last_checkpoint')) as f:
        last = f.read().strip()
    saved = int(osp.basename(last)[len('iter_'):-len('.pth')])
    assert at - INTERVAL < saved <= at, (at, saved)  # at most one checkpoint interval lost
    no_hook_dir = str(tmp_path / 'no_hook')
    shutil.copytree(killed_dir, no_hook_dir)  # the same kill, resumed without the hook
    with open(osp.join(no_hook_dir, 'last_checkpoint'), 'w') as f:
        f.write(last.replace(killed_dir, no_hook_dir))

    # restart the killed job (without the kill) from the work dir's last checkpoint
    resume_cfg = write_config(repo_root, tiny_digits, tmp_path / 'resume.py', killed_dir)
    proc = train(repo_root, resume_cfg, '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f'resumed epoch: {saved // ITERS_PER_EPOCH}, iter: {saved}' in proc.stdout + \
        proc.stderr
    a, b = weights(full_dir), weights(killed_dir)
    assert set(a) == set(b) and any(k.endswith('running_extremum') for k in a)
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, (at, saved, diff[:5])

    if saved % ITERS_PER_EPOCH:  # inside an epoch: MMEngine alone replays it from its start
        plain = write_config(repo_root, tiny_digits, tmp_path / 'plain.py', no_hook_dir,
                             seed_hook=False)
        proc = train(repo_root, plain, '--resume')
        assert proc.returncode == 0, proc.stderr[-3000:]
        with open(osp.join(no_hook_dir, 'last_checkpoint')) as f:
            c = torch.load(f.read().strip(), map_location='cpu')['state_dict']
        assert any(not torch.equal(a[k], c[k]) for k in a), at
