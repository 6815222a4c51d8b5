"""shut_down_distributed: the tools destroy the process group they ran in (a no-op without one)."""
import torch.distributed as dist

from mmdet_hoyer.utils import shut_down_distributed


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
