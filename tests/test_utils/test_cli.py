"""The tools' shared command-line code: shut_down_distributed destroys the process group they
ran in (a no-op without one); the SNN/ANN arguments name the file that is missing."""
import argparse

import pytest
import torch.distributed as dist

from mmdet_hoyer.utils import shut_down_distributed
from mmdet_hoyer.utils.cli import add_snn_ann_args, check_snn_ann_files


def test_shut_down_distributed_destroys_the_group(tmp_path):
    shut_down_distributed()  # no group: nothing to do, no error
    assert not dist.is_initialized()
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
                            world_size=1)
    try:
        assert dist.is_initialized()
        shut_down_distributed()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_snn_ann_arguments_name_the_missing_file(tmp_path):
    parser = argparse.ArgumentParser()
    add_snn_ann_args(parser)
    cfg, ckpt = tmp_path / 'snn.py', tmp_path / 'snn.pth'
    cfg.write_text('')
    ckpt.write_bytes(b'')
    args = parser.parse_args([str(cfg), str(ckpt), '--cfg-options', 'a.b=1'])
    assert args.ann is None and args.cfg_options == {'a.b': 1}
    check_snn_ann_files(args)  # both exist, no twin: passes
    args = parser.parse_args([str(cfg), str(ckpt), '--ann', str(cfg), str(tmp_path / 'x.pth')])
    with pytest.raises(SystemExit, match=r"--ann CHECKPOINT: '.*x.pth' is not a file"):
        check_snn_ann_files(args)
    args = parser.parse_args([str(tmp_path / 'none.py'), str(ckpt)])
    with pytest.raises(SystemExit, match=r"config: '.*none.py' is not a file"):
        check_snn_ann_files(args)
