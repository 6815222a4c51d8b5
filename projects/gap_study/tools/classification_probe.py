"""30-second check of whether a spiking backbone configuration learns at all.

Trains ``HoyerVGG`` + global pooling + a linear classifier for a few hundred steps on
scikit-learn's handwritten digits (upsampled to 32 px, random ink/background colours) and
prints the validation accuracy. Used to compare neuron settings before a long detector run:

    python projects/gap_study/tools/classification_probe.py                  # HoyerVGG16 (default)
    python projects/gap_study/tools/classification_probe.py --shortcut none  # the plain stack
    python projects/gap_study/tools/classification_probe.py --shortcut none --surrogate-lower -1
    python projects/gap_study/tools/classification_probe.py --relu                # ANN twin
    python projects/gap_study/tools/classification_probe.py --warmup 200 500 --steps 800  # warm-up
    python projects/gap_study/tools/classification_probe.py --sensitivity --steps 0   # chaos at init

``--shortcut none`` builds the authors' plain stack instead of the membrane-shortcut HoyerVGG
(docs/research/accuracy.md has what each flag measured). ``--warmup BEGIN END`` applies the spike warm-up of ``SpikeWarmupHook`` (graded surrogate ramp
until step BEGIN, binary spikes from step END); validation always runs binary spikes.
``--sensitivity`` prints, per spiking layer at the start and the end, the fraction of spikes
that flip when the input image changes by 1 % noise, next to the fraction that differ between
two different images: equal fractions mean the layer's code no longer depends on the image.
"""
import argparse
import copy

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from mmdet_hoyer.analysis import FiringRateRecorder
from mmdet_hoyer.engine.hooks.spike_warmup_hook import warmup_alpha
from mmdet_hoyer.models.backbones import HoyerVGG
from mmdet_hoyer.models.layers import HoyerSpike, hoyer_layers, set_warmup
from mmdet_hoyer.models.layers.membrane_shortcut import SHORTCUTS


def gamma_arg(text: str):
    """``--branch-gamma``: a number, or 'none' for the init_cfg's value."""
    return None if text.lower() == 'none' else float(text)


def parse_args():
    p = argparse.ArgumentParser(description='digit-classification probe of a spiking backbone')
    p.add_argument('--depth', type=int, default=16)
    p.add_argument('--widen-factor', type=float, default=0.25)
    p.add_argument('--relu', action='store_true', help='ANN twin (BN + ReLU)')
    p.add_argument('--mode', default='layer', choices=['layer', 'channel'])
    p.add_argument('--exclude-saturated', action='store_true',
                   help='extremum without the saturated values (the authors\' detection code)')
    p.add_argument('--shortcut', default='membrane', choices=SHORTCUTS,
                   help="HoyerVGG's shortcut (default 'membrane', as the class; 'none': the "
                   "authors' plain stack; docs/research/accuracy.md)")
    p.add_argument('--branch-gamma', type=gamma_arg, default=0.2,
                   help="with --shortcut membrane: initial BN gamma of the shortcut convs "
                   "(default 0.2, as the class; 'none': the init's 1)")
    p.add_argument('--cross-stage-shortcut', action='store_true',
                   help="with --shortcut membrane: conv5_1 continues conv4_3's stream through "
                   "pool4 (HoyerVGG's cross_stage_shortcut; docs/research/accuracy.md)")
    p.add_argument('--widening-shortcut', action='store_true',
                   help='with --cross-stage-shortcut, continue the stream across the widening '
                   "stage boundaries too, zero-padded (HoyerVGG's widening_shortcut)")
    p.add_argument('--surrogate-scale', type=float, default=0.5)
    p.add_argument('--surrogate-lower', type=float, default=0.0)
    p.add_argument('--surrogate-upper', type=float, default=2.0)
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--warmup', type=int, nargs=2, metavar=('BEGIN', 'END'),
                   help='spike warm-up: graded ramp until step BEGIN, binary from step END')
    p.add_argument('--sensitivity', action='store_true',
                   help='per-layer spike flips under 1%% input noise vs between images')
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
        type='HoyerSpike', mode=args.mode, exclude_saturated=args.exclude_saturated,
        surrogate_scale=args.surrogate_scale,
        surrogate_lower=args.surrogate_lower, surrogate_upper=args.surrogate_upper)
    try:
        backbone = HoyerVGG(depth=args.depth, widen_factor=args.widen_factor, out_indices=(4, ),
                            act_cfg=act, shortcut=args.shortcut, branch_gamma=args.branch_gamma,
                            cross_stage_shortcut=args.cross_stage_shortcut,
                            widening_shortcut=args.widening_shortcut)
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    backbone.init_weights()
    head = torch.nn.Linear(backbone.channels[4], 10)
    neuron = next((m for m in backbone.modules() if isinstance(m, HoyerSpike)), None)
    print(f'network: HoyerVGG{args.depth} x{args.widen_factor}, shortcut={backbone.shortcut}'
          + (' + cross-stage' if backbone.cross_stage_shortcut else '')
          + (f' (branch gamma {args.branch_gamma})' if args.branch_gamma is not None else '')
          + f', neuron: {neuron.extra_repr() if neuron is not None else "ReLU"}', flush=True)
    opt = torch.optim.AdamW([*backbone.parameters(), *head.parameters()], lr=args.lr)

    def logits(images):
        return head(backbone(images)[0].mean((2, 3)))

    spiking = [(n, m) for n, m in backbone.named_modules() if isinstance(m, HoyerSpike)]
    if args.warmup and (args.warmup[0] > args.warmup[1] or args.warmup[1] > args.steps):
        raise SystemExit(f'--warmup BEGIN END needs 0 <= BEGIN <= END <= --steps, got '
                         f'{args.warmup} with --steps {args.steps}')

    def sensitivity(when):
        if not spiking:
            print('--sensitivity: no spiking layers (--relu)')
            return
        # train-mode statistics (as while training), on a copy so nothing is updated; clean and
        # noisy images share one batch, hence the same BN statistics and extrema
        probe = copy.deepcopy(backbone).train()
        outs = {}
        set_warmup(probe, 0.0)
        for n, m in hoyer_layers(probe):
            m.register_forward_hook(lambda mod, i, o, n=n: outs.__setitem__(n, o))
        images = colorize(x[n_train:n_train + 64])
        noisy = images + 0.01 * torch.randn(images.shape, generator=gen)
        with torch.no_grad():
            probe(torch.cat([images, noisy]))
        print(f'sensitivity ({when}): fraction of spikes that flip')
        print(f'  {"layer":<16} {"1% noise":>9} {"other image":>12}')
        for name, _ in spiking:
            a, b = outs[name][:64].flatten(1), outs[name][64:].flatten(1)
            flip = (a != b).float().mean().item()
            other = (a[:32] != a[32:]).float().mean().item()
            print(f'  {name:<16} {flip:9.3f} {other:12.3f}')

    if args.sensitivity:
        sensitivity('initialisation')
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
        if args.warmup:
            set_warmup(spiking, warmup_alpha(step, *args.warmup))
        idx = torch.randint(0, n_train, (args.batch_size, ), generator=gen)
        loss = F.cross_entropy(logits(colorize(x[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if args.sensitivity and args.steps:
        sensitivity(f'after {args.steps} steps')


if __name__ == '__main__':
    main()
