"""Run ``classification_probe.py`` for several backbone/neuron variants and seeds; write a
table (mean ± sd of the val accuracy at chosen steps, firing rate, ratio to the ReLU twin) and
a plot of accuracy against training step.

    python projects/gap_study/tools/probe_sweep.py --out docs/research/accuracy_probe.md  # the docs' table
    python projects/gap_study/tools/probe_sweep.py --variants plain mem --seeds 0 --steps 100

Each probe runs in its own process with one thread (``--jobs`` at a time): on a 2-core machine
two single-thread probes finish sooner than two 2-thread ones one after the other.
"""
import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Sequence, Tuple

PROBE = osp.join(osp.dirname(osp.abspath(__file__)), 'classification_probe.py')
MEM = ['--shortcut', 'membrane', '--branch-gamma', '0.2']
PLAIN = ['--shortcut', 'none']

#: name -> (description, probe flags, name of its ReLU twin or None)
VARIANTS: Dict[str, Tuple[str, List[str], str]] = {
    'plain-relu': ('plain VGG16, BN + ReLU (ANN twin)', PLAIN + ['--relu'], None),
    'plain': ('plain VGG16, HoyerSpike (the paper)', PLAIN, 'plain-relu'),
    'plain-channel': ('plain, per-channel extrema', PLAIN + ['--mode', 'channel'],
                      'plain-relu'),
    'plain-satexcl': ('plain, saturated values left out of E',
                      PLAIN + ['--exclude-saturated'], 'plain-relu'),
    'plain-warmup': ('plain, surrogate-ramp warm-up (graded to 1/3, binary from 5/6 of the '
                     'steps)', PLAIN + ['--warmup'], 'plain-relu'),
    'mem-relu': ('membrane shortcuts, branch γ 0.2, BN + ReLU (ANN twin)', ['--relu'] + MEM,
                 None),
    'mem': ('membrane shortcuts, branch γ 0.2, HoyerSpike (default)', MEM, 'mem-relu'),
    'mem-g1': ('membrane shortcuts, branch γ 1', ['--shortcut', 'membrane', '--branch-gamma',
                                                   'none'], 'mem-relu'),
    'mem-g0': ('membrane shortcuts, branch γ 0', ['--shortcut', 'membrane', '--branch-gamma',
                                                   '0'], 'mem-relu'),
    'memx-relu': ('membrane + cross-stage (conv4_3 → conv5_1) shortcuts, BN + ReLU (ANN twin)',
                  ['--relu', '--cross-stage-shortcut'] + MEM, None),
    'memx': ('membrane + cross-stage (conv4_3 → conv5_1) shortcuts, HoyerSpike',
             MEM + ['--cross-stage-shortcut'], 'memx-relu'),
    'memw-relu': ('membrane shortcuts across every stage boundary (zero-padded where the width '
                  'grows), BN + ReLU (ANN twin)',
                  ['--relu', '--cross-stage-shortcut', '--widening-shortcut'] + MEM, None),
    'memw': ('membrane shortcuts across every stage boundary (zero-padded where the width '
             'grows), HoyerSpike', MEM + ['--cross-stage-shortcut', '--widening-shortcut'],
             'memw-relu'),
    'mem-channel': ('membrane γ 0.2, per-channel extrema', MEM + ['--mode', 'channel'],
                    'mem-relu'),
    'mem-satexcl': ('membrane γ 0.2, saturated values left out of E',
                    MEM + ['--exclude-saturated'], 'mem-relu'),
}


def parse_args():
    p = argparse.ArgumentParser(description='classification-probe sweep over variants and seeds')
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--report-steps', type=int, nargs='+', default=None,
                   help='steps shown in the table (default: 1/3, 2/3 and all of --steps)')
    p.add_argument('--jobs', type=int, default=2, help='probes run at once (1 thread each)')
    p.add_argument('--out', default=None, help='markdown table (printed when omitted)')
    p.add_argument('--plot', default=None, help='PNG of accuracy vs step (default: --out '
                   'with .png)')
    args = p.parse_args()
    if args.steps < 1 or args.jobs < 1:
        p.error('--steps and --jobs must be >= 1')
    return args


def probe_flags(name: str, steps: int) -> List[str]:
    flags = list(VARIANTS[name][1])
    if flags[-1:] == ['--warmup']:
        flags += [str(steps // 3), str(steps * 5 // 6)]
    return flags


def run_probe(name: str, seed: int, steps: int) -> Dict[int, Tuple[float, float]]:
    """``{step: (val accuracy, firing rate or nan)}`` of one probe run."""
    cmd = [sys.executable, PROBE, '--steps', str(steps), '--seed', str(seed)] + \
        probe_flags(name, steps)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f'probe {name} seed {seed} failed: {" ".join(cmd)}\n'
                           f'{proc.stderr[-2000:]}')
    history = {}
    for line in proc.stdout.splitlines():
        if line.startswith('step') and 'val acc' in line:
            words = line.split()
            rate = float(words[-1]) if 'firing rate' in line else float('nan')
            history[int(words[1])] = (float(words[4]), rate)
    return history


def mean_sd(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f'{values[0]:.3f}'
    return f'{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}'


def table(results, variants, seeds, steps, report_steps) -> str:
    head = ' | '.join(f'acc @ {s}' for s in report_steps)
    lines = [f'| variant | {head} | firing rate @ {steps} | SNN/ReLU twin @ {steps} |',
             '|---|' + '---:|' * (len(report_steps) + 2)]
    final = {v: statistics.mean(results[v, s][steps][0] for s in seeds) for v in variants}
    for v in variants:
        accs = [mean_sd([results[v, s][st][0] for s in seeds]) for st in report_steps]
        rates = [results[v, s][steps][1] for s in seeds]
        rate = 'analog' if any(r != r for r in rates) else f'{statistics.mean(rates):.3f}'
        twin = VARIANTS[v][2]
        ratio = f'{final[v] / final[twin]:.2f}' if twin in final and final[twin] > 0 else '–'
        lines.append(f'| `{v}`: {VARIANTS[v][0]} | {" | ".join(accs)} | {rate} | {ratio} |')
    return '\n'.join(lines)


def plot(results, variants, seeds, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for v in variants:
        steps = sorted(results[v, seeds[0]])
        acc = [statistics.mean(results[v, s][st][0] for s in seeds) for st in steps]
        ax.plot(steps, acc, label=v, linestyle='--' if v.endswith('relu') else '-')
    ax.set_xlabel('training step')
    ax.set_ylabel(f'val accuracy (mean of {len(seeds)} seeds)')
    ax.set_title('classification probe: HoyerVGG16 x0.25 on recoloured digits')
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    args = parse_args()
    # the probe reports every 50 steps and at the last one
    report_steps = args.report_steps or sorted(
        {args.steps // 3 // 50 * 50, 2 * args.steps // 3 // 50 * 50, args.steps} - {0})
    bad = [s for s in report_steps if s > args.steps or s % 50 and s != args.steps]
    if bad:
        raise SystemExit(f'--report-steps {bad}: the probe reports every 50 steps and at '
                         f'--steps ({args.steps})')
    runs = [(v, s) for v in args.variants for s in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        histories = list(pool.map(lambda r: run_probe(r[0], r[1], args.steps), runs))
    results = dict(zip(runs, histories))
    text = table(results, args.variants, args.seeds, args.steps, report_steps)
    cmd = ' '.join(['python projects/gap_study/tools/probe_sweep.py'] + sys.argv[1:])
    doc = (f'Classification probe (`classification_probe.py`: quarter-width HoyerVGG16 + GAP + '
           f'linear, recoloured 32 px sklearn digits, AdamW 2e-3, batch 32), {args.steps} steps, '
           f'seeds {args.seeds}, validation with binary spikes (mean ± sd over seeds).\n'
           f'Reproduce: `{cmd}`\n\n{text}\n')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(doc)
        png = args.plot or osp.splitext(args.out)[0] + '.png'
        plot(results, args.variants, args.seeds, png)
        print(f'wrote {args.out} and {png}')
    print(doc)


if __name__ == '__main__':
    main()
