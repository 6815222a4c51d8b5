"""``torchvision2hoyer://ARCH``: torchvision's ImageNet weights, converted on load, as a
checkpoint any ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')`` reads.

The scheme is registered in MMEngine's ``CheckpointLoader`` when the plugin is imported. It
reads torchvision's file from torch's hub cache (``$TORCH_HOME/hub/checkpoints``, where
``torchvision.models.vgg16_bn(weights=...)`` and MMEngine's ``torchvision://`` put it),
downloads it there when it is missing and the network allows, and maps its keys onto the
spiking backbone with :func:`~.torchvision_convert.convert` (what ``torchvision2hoyer.py``
writes to a file). ``torchvision://`` itself is left alone: ANN backbones keep reading it.
"""
import os
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .torchvision_convert import ARCHS, convert, stage1_checkpoint

SCHEME = 'torchvision2hoyer://'
#: torchvision's ImageNet-1k weights (the files MMEngine's ``torchvision://`` names load)
URLS = {
    'vgg16_bn': 'https://download.pytorch.org/models/vgg16_bn-6c64b313.pth',
    'resnet50': 'https://download.pytorch.org/models/resnet50-0676ba61.pth',
}


def cached_file(arch: str) -> str:
    """Where torch's hub cache keeps ``arch``'s torchvision weights."""
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(URLS[arch]))


def ensure_cached(filename: str) -> str:
    """The local file of ``torchvision2hoyer://ARCH``: torch's hub cache, downloaded there when
    missing. ``FileNotFoundError`` naming the file and the folder to put it in when it cannot
    be fetched (no network); ``ValueError`` for an unknown ARCH."""
    arch = filename[len(SCHEME):]
    if arch not in ARCHS:
        raise ValueError(f'{filename}: expected {SCHEME}<arch> with arch one of {ARCHS}')
    path = cached_file(arch)
    if not osp.isfile(path):
        try:
            os.makedirs(osp.dirname(path), exist_ok=True)
            torch.hub.download_url_to_file(URLS[arch], path, progress=False)
        except Exception as e:  # noqa: BLE001  (no network: say where the file goes)
            raise FileNotFoundError(
                f'{filename}: torchvision\'s {arch} weights are not in torch\'s hub cache and '
                f'could not be downloaded ({type(e).__name__}). Put {osp.basename(path)} '
                f'(from {URLS[arch]}) in {osp.dirname(path)} (torch\'s hub cache; set '
                'TORCH_HOME to move it)') from None
    return path


@CheckpointLoader.register_scheme(prefixes=SCHEME)
def load_torchvision_as_hoyer(filename: str, map_location=None) -> dict:
    """Load ``torchvision2hoyer://vgg16_bn`` or ``torchvision2hoyer://resnet50`` as a stage-1
    checkpoint of the spiking backbone (keys ``backbone.*``)."""
    arch = filename[len(SCHEME):]
    path = ensure_cached(filename)
    state = torch.load(path, map_location=map_location or 'cpu', weights_only=True)
    try:
        tensors, report = convert(state, arch)
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from None
    return stage1_checkpoint(tensors, report)
