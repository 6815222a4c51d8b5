"""Write the one-time-step spiking version of any MMDetection config.

    python tools/misc/spikify_config.py mmdet::retinanet/retinanet_r50_fpn_1x_coco.py \\
        --backbone HoyerResNet -o configs/my_spiking_retinanet.py

The output is a short delta (``_base_`` = the source): spiking backbone of matching depth and
output strides (neck ``in_channels`` adjusted), ``HoyerSpike`` in every neck/head exposing
``act_cfg``, HoyerRegularizerHook + FiringRateHook. Every change and every part that stays
analog is printed and written at the top of the file.
"""
import argparse
import sys

import mmdet_hoyer  # noqa: F401  (registers the plugin)
from mmdet.utils import register_all_modules
from mmdet_hoyer.utils.spikify import BACKBONES, spikify_config, write_delta


def main(argv=None):
    p = argparse.ArgumentParser(description='spiking version of an MMDetection config')
    p.add_argument('config', help='source config: a file or mmdet::<path>')
    p.add_argument('--backbone', choices=BACKBONES,
                   help='spiking backbone (default: HoyerSSDVGG for SSDVGG, HoyerVGG for other VGG '
                   'sources, else HoyerResNet)')
    p.add_argument('--depth', type=int, help='backbone depth (default: the source\'s if valid)')
    p.add_argument('--widen-factor', type=float, default=1.0)
    p.add_argument('--loss-weight', type=float, help='λ (default 2e-9 ResNet, 1e-8 VGG)')
    p.add_argument('-o', '--out', required=True, help='output config file (.py)')
    args = p.parse_args(argv)
    register_all_modules(init_default_scope=True)
    try:
        delta, report = spikify_config(args.config, args.backbone, args.depth,
                                       args.widen_factor, args.loss_weight)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    write_delta(delta, report, args.out)
    print('\n'.join(report))
    print(f'written: {args.out}')


if __name__ == '__main__':
    main(sys.argv[1:])
