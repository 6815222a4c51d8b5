"""Two processes on CPU (torchrun via tools/dist_train.sh, gloo): loss_hoyer is trained, the
running thresholds are identical on both ranks after every iteration (the neuron sums its two
moments over processes before forming E), and the metric is computed once over the whole val
set (every rank receives the same numbers)."""
import json
import os
import subprocess
import sys

from mmengine.config import Config

from conftest import tiny_options


def test_two_process_cpu_training(repo_root, tiny_digits, tmp_path):
    work_dir = str(tmp_path / 'dist')
    opts = tiny_options(tiny_digits, work_dir, 'unused')
    opts.update({'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
                 'train_dataloader.batch_size': 3,
                 'default_hooks.checkpoint.interval': 1})
    cfg_path = tmp_path / 'dist_cfg.py'
    lines = [f"_base_ = '{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py'",
             "custom_imports = dict(imports=['mmdet_hoyer', 'dist_check_hook'], "
             'allow_failed_imports=False)',
             "env_cfg = dict(dist_cfg=dict(backend='gloo'))"]
    cfg_path.write_text('\n'.join(lines) + '\n')
    cfg = Config.fromfile(str(cfg_path))
    cfg.merge_from_dict(opts)
    cfg.model.backbone.init_cfg = None
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='RunningSyncCheckHook')]
    cfg.dump(str(cfg_path))
    # CUDA_VISIBLE_DEVICES='': the CPU/gloo path, also on a machine with one GPU
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT='29517',
               CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join([repo_root, os.path.dirname(__file__)] + [
                   p for p in [os.environ.get('PYTHONPATH')] if p]))
    proc = subprocess.run(['bash', f'{repo_root}/tools/dist_train.sh', str(cfg_path), '2'],
                          capture_output=True, text=True, env=env, cwd=repo_root, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(os.path.join(work_dir, 'dist_check.json')) as f:
        seen = json.load(f)
    assert seen['world_size'] == 2
    assert seen['iters'] == 4  # 24 images / (2 ranks × 3)
    assert seen['max_running_diff'] == 0.0
    assert all(h is not None and h > 0 for h in seen['loss_hoyer'])
    m0, m1 = seen['metrics_per_rank']
    assert 'coco/bbox_mAP' in m0 and m0 == m1 and seen['val_size'] == 8
