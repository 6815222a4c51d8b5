"""30-second check of whether a spiking backbone configuration learns at all.

Trains ``HoyerVGG`` + global pooling + a linear classifier for a few hundred steps on
scikit-learn's handwritten digits (upsampled to 32 px, random ink/background colours) and
prints the validation accuracy. Used to compare neuron settings before a long detector run:

    python tools/analysis_tools/classification_probe.py                       # paper surrogate
    python tools/analysis_tools/classification_probe.py --surrogate-lower -1  # wider window
    python tools/analysis_tools/classification_probe.py --relu                # ANN twin
"""
import argparse

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from mmdet_hoyer.analysis import FiringRateRecorder
from mmdet_hoyer.models.backbones import HoyerVGG


def parse_args():
    p = argparse.ArgumentParser(description='digit-classification probe of a spiking backbone')
    p.add_argument('--depth', type=int, default=16)
    p.add_argument('--widen-factor', type=float, default=0.25)
    p.add_argument('--relu', action='store_true', help='ANN twin (BN + ReLU)')
    p.add_argument('--mode', default='layer', choices=['layer', 'channel'])
    p.add_argument('--surrogate-scale', type=float, default=0.5)
    p.add_argument('--surrogate-lower', type=float, default=0.0)
    p.add_argument('--surrogate-upper', type=float, default=2.0)
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16
    x = F.interpolate(x, size=32, mode='bilinear', align_corners=False)
    y = torch.tensor(digits.target)
    n_train = 1400

    def colorize(ink_mask):
        n = ink_mask.shape[0]
        bg, ink = torch.rand(n, 3, 1, 1, generator=gen), torch.rand(n, 3, 1, 1, generator=gen)
        return bg * (1 - ink_mask) + ink * ink_mask

    act = dict(type='ReLU') if args.relu else dict(
        type='HoyerSpike', mode=args.mode, surrogate_scale=args.surrogate_scale,
        surrogate_lower=args.surrogate_lower, surrogate_upper=args.surrogate_upper)
    backbone = HoyerVGG(depth=args.depth, widen_factor=args.widen_factor, out_indices=(4, ),
                        act_cfg=act)
    backbone.init_weights()
    head = torch.nn.Linear(backbone.channels[4], 10)
    opt = torch.optim.AdamW([*backbone.parameters(), *head.parameters()], lr=args.lr)

    def logits(images):
        return head(backbone(images)[0].mean((2, 3)))

    for step in range(args.steps + 1):
        if step % 50 == 0 or step == args.steps:
            backbone.eval()
            with torch.no_grad(), FiringRateRecorder(backbone) as rec:
                acc = (logits(colorize(x[n_train:])).argmax(1) == y[n_train:]).float().mean()
            rate = f'  firing rate {rec.mean_rate():.3f}' if rec.total else ''
            print(f'step {step:4d}  val acc {acc.item():.3f}{rate}', flush=True)
            backbone.train()
        if step == args.steps:
            break
        idx = torch.randint(0, n_train, (args.batch_size, ), generator=gen)
        loss = F.cross_entropy(logits(colorize(x[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


if __name__ == '__main__':
    main()
