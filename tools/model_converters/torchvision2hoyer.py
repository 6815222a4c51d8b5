"""Convert torchvision's ImageNet ANN weights into a stage-1 checkpoint of a spiking backbone.

    python tools/model_converters/torchvision2hoyer.py vgg16_bn-6c64b313.pth \
        checkpoints/hoyer_vgg16_from_tv.pth --arch vgg16_bn      # HoyerVGG / HoyerSSDVGG depth 16
    python tools/model_converters/torchvision2hoyer.py resnet50-0676ba61.pth \
        checkpoints/hoyer_resnet50_from_tv.pth --arch resnet50   # HoyerResNet depth 50

SRC is a torchvision state dict (``torch.save(torchvision.models.vgg16_bn(weights=...)
.state_dict(), SRC)``, or the file torchvision downloads). DST is loaded by a detector with
``model.backbone.init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=DST)`` or by a
spiking stage-1 config that fine-tunes it (docs/guides/scale.md). Every tensor mapped, every tensor
left out and every backbone tensor that keeps its initialisation is printed with the reason
(what maps where and why: mmdet_hoyer/utils/torchvision_convert.py).
"""
import argparse
import os
import os.path as osp

import torch

from mmdet_hoyer.utils.torchvision_convert import ARCHS, convert, stage1_checkpoint


def parse_args():
    p = argparse.ArgumentParser(description='torchvision ANN weights -> spiking backbone '
                                'stage-1 checkpoint')
    p.add_argument('src', help='torchvision state dict (.pth)')
    p.add_argument('dst', help='output checkpoint (.pth)')
    p.add_argument('--arch', required=True, choices=ARCHS, help='torchvision architecture of SRC')
    return p.parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.src):
        raise SystemExit(f'error: SRC {args.src!r} is not a file')
    try:
        state = torch.load(args.src, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001  (a clear message, not a traceback)
        raise SystemExit(f'error: cannot read {args.src!r} as a torch state dict: '
                         f'{type(e).__name__}: {str(e).splitlines()[0]}')
    try:
        tensors, report = convert(state, args.arch)
    except ValueError as e:
        raise SystemExit(f'error: {args.src}: {e}')
    print('\n'.join(report.lines()))
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(stage1_checkpoint(tensors, report), args.dst)
    print(f'wrote {len(tensors)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
