"""Training-step cost of the one-time-step SNN vs its ANN twin vs a T-step LIF SNN.

    python tools/analysis_tools/benchmark_train.py [--config configs/demo/yolov3_hoyer_vgg_digits.py]
        [--batch-size 8] [--size 128] [--steps 10] [--warmup 3] [--time-steps 4]
        [--device cpu|cuda] [--quick] [--out docs/results/benchmarks.md]

In one process, on the same synthetic batch (MMDetection's ``demo_mm_inputs``: fixed shapes,
random boxes), the three detectors built from the config take turns (round robin, so drifts
of the machine hit all alike): (a) spiking YOLOv3 with ``HoyerSpike`` + the regularizer hook's
term, (a′) the same with saved-spike recomputation (what ``SpikeRecomputeHook`` does), (b) the ANN twin (BN + ReLU), (c) the same network with ``MultiStepLIF`` run for T steps
(time folded into the batch, BPTT, predictions averaged over time before the loss). A training
step is forward + loss + backward + AdamW step. Reported: median step time after warm-up, the
ratio to the ANN (median over rounds of each step over the ANN's step of the same round, so a
drift of the machine's speed cancels), memory, and the eval (predict, with NMS) time of (a) and
(b). (a'') repeats (a') with the eager reference neuron (``impl='torch'``) when the configured
implementation is another one, so a fused neuron's gain is measured in the same run.

Memory: on CUDA the peak allocated memory of a step (``torch.cuda.max_memory_allocated``);
on CPU, where PyTorch has no allocator statistics, the bytes of tensors autograd saves for
backward during the step (the activation memory that dominates training memory), measured
with ``torch.autograd.graph.saved_tensors_hooks``.
"""
import argparse
import copy
import platform
import resource
import statistics
import sys
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmdet_hoyer  # noqa: F401
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet_hoyer.utils.markdown import write_between_markers
from mmdet_hoyer.models.layers import (recompute_spikes, resolve_impl, set_regularize,
                                       take_hoyer_terms)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='train-step benchmark: SNN vs ANN vs multi-step SNN')
    p.add_argument('--config', default='configs/demo/yolov3_hoyer_vgg_digits.py')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--size', type=int, default=128, help='square input side (px)')
    p.add_argument('--steps', type=int, default=10, help='timed steps per model')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--time-steps', type=int, default=4, help='T of the LIF baseline')
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, help='torch CPU threads (default: torch default)')
    p.add_argument('--impl', choices=('auto', 'torch', 'cpp', 'compile'),
                   help="HoyerSpike's training-step implementation (default: the config's)")
    p.add_argument('--no-reference', action='store_true',
                   help="leave out row (a''), (a') with the eager reference neuron "
                   "(impl='torch'), which is otherwise run beside the configured impl")
    p.add_argument('--no-eval', action='store_true',
                   help='leave out the eval (predict + NMS) timing, e.g. where mmcv was built '
                   'without the CUDA ops its NMS needs on a GPU (tools/analysis_tools/gpu_check.sh)')
    p.add_argument('--quick', action='store_true', help='2 steps, 1 warm-up, batch 2, 64 px')
    p.add_argument('--out', help='write the markdown table here (e.g. docs/results/benchmarks.md)')
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.batch_size, args.size = 2, 1, 2, 64
    for name in ('batch_size', 'size', 'steps', 'time_steps'):
        if getattr(args, name) < 1:
            raise SystemExit(f'error: --{name.replace("_", "-")} must be >= 1')
    if args.size % 32:
        raise SystemExit(f'error: --size must be a multiple of 32 (YOLOv3 strides), got {args.size}')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('error: --device cuda but no CUDA device is available')
    return args


def build(cfg: Config, act: dict, device: str):
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg', None)  # the class default (no pretrained file)
    for part in ('backbone', 'neck', 'bbox_head'):
        model_cfg[part].act_cfg = act
    model = MODELS.build(model_cfg).to(device)
    model.init_weights()
    set_regularize(model, True)  # what HoyerRegularizerHook switches on
    model.train()
    return model


def snn_loss(model, data):
    losses = model(**data, mode='loss')
    losses['loss_hoyer'] = 1e-8 * torch.stack(take_hoyer_terms(model)).sum()
    return losses


def snn_recompute_loss(model, data):
    with recompute_spikes():  # as SpikeRecomputeHook runs the training forward
        return snn_loss(model, data)


def plain_loss(model, data):
    return model(**data, mode='loss')


def make_lif_loss(time_steps: int):

    def lif_loss(model, data):
        inputs, samples = data['inputs'], data['data_samples']
        n = inputs.shape[0]
        feats = model.extract_feat(inputs.repeat(time_steps, 1, 1, 1))  # time-major
        outs = model.bbox_head(feats)
        outs = tuple([t.reshape(time_steps, n, *t.shape[1:]).mean(0) for t in o] for o in outs)
        gt, gt_ignore, metas = unpack_gt_instances(samples)
        return model.bbox_head.loss_by_feat(*outs, gt, metas, gt_ignore)

    return lif_loss


class SavedTensorMeter:
    """Bytes of distinct storages autograd saves for backward while active."""

    def __init__(self):
        self.seen, self.bytes = set(), 0

    def pack(self, t):
        s = t.untyped_storage()
        key = (s.data_ptr(), s.nbytes())
        if key not in self.seen:
            self.seen.add(key)
            self.bytes += s.nbytes()
        return t

    def __enter__(self):
        self._ctx = torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def minor_faults() -> int:
    """Minor page faults of this process so far (first touches of newly mapped memory)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def train_step(model, optim, loss_fn, data, device, measure_memory=False):
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    faults0 = minor_faults()
    t0 = time.perf_counter()
    meter = SavedTensorMeter() if measure_memory and not device.startswith('cuda') else None
    if meter:
        with meter:
            losses = loss_fn(model, data)
    else:
        losses = loss_fn(model, data)
    loss, _ = model.parse_losses(losses)
    optim.zero_grad(set_to_none=True)
    loss.backward()
    optim.step()
    sync(device)
    dt = time.perf_counter() - t0
    faults = minor_faults() - faults0
    if not torch.isfinite(loss):
        raise RuntimeError(f'non-finite loss {loss.item()}')
    mem = torch.cuda.max_memory_allocated() if device.startswith('cuda') else \
        (meter.bytes if meter else None)
    return dt, mem, faults


@torch.no_grad()
def eval_step(model, data, device):
    model.eval()
    sync(device)
    t0 = time.perf_counter()
    model(**data, mode='predict')
    sync(device)
    model.train()
    return time.perf_counter() - t0


def run(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    num_classes = cfg.model.bbox_head.num_classes
    spike = dict(cfg.model.backbone.act_cfg)
    if spike.get('type') != 'HoyerSpike':
        raise SystemExit(f'error: {args.config} is not a HoyerSpike config (backbone.act_cfg)')
    if args.impl:
        spike['impl'] = args.impl
    variants = {
        'snn': (spike, snn_loss),
        'snn_recompute': (spike, snn_recompute_loss),
        'snn_torch': (dict(spike, impl='torch'), snn_recompute_loss),
        'ann': (dict(type='ReLU'), plain_loss),
        f'lif_T{args.time_steps}': (dict(type='MultiStepLIF', time_steps=args.time_steps),
                                   make_lif_loss(args.time_steps)),
    }
    if args.no_reference or resolved_impl(spike, args.device) == 'torch':
        variants.pop('snn_torch')
    models, optims, datas = {}, {}, {}
    packed = demo_mm_inputs(args.batch_size, [(3, args.size, args.size)] * args.batch_size,
                            num_items=[3] * args.batch_size, num_classes=num_classes)
    for name, (act, _) in variants.items():
        models[name] = build(cfg, act, args.device)
        optims[name] = torch.optim.AdamW(models[name].parameters(), lr=1e-4)
        datas[name] = models[name].data_preprocessor(copy.deepcopy(packed), True)
    times = {k: [] for k in variants}
    faults = {k: [] for k in variants}
    mems = {}
    for i in range(args.warmup + args.steps):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))
        for name in order:
            dt, mem, nf = train_step(models[name], optims[name], variants[name][1],
                                     datas[name], args.device,
                                     measure_memory=(i == args.warmup))
            if i >= args.warmup:
                times[name].append(dt)
                faults[name].append(nf)
            if mem is not None and (name not in mems or args.device.startswith('cuda')):
                mems[name] = max(mems.get(name, 0), mem)
    eval_times = {k: [] for k in ('snn', 'ann')}
    for i in range(0 if args.no_eval else args.warmup + args.steps):
        for name in (('snn', 'ann') if i % 2 == 0 else ('ann', 'snn')):
            dt = eval_step(models[name], datas[name], args.device)
            if i >= args.warmup:
                eval_times[name].append(dt)
    return dict(
        impl=resolved_impl(spike, args.device),
        train={k: statistics.median(v) for k, v in times.items()}, memory=mems,
        # each model's step over the ANN's step of the same round, median over rounds: a drift
        # of the machine's speed during the run (seen on shared 2-core machines) cancels out
        ratio={k: statistics.median(a / b for a, b in zip(v, times['ann']))
               for k, v in times.items()},
        faults={k: statistics.median(v) for k, v in faults.items()},
        eval={k: statistics.median(v) for k, v in eval_times.items() if v})


def resolved_impl(spike: dict, device: str) -> str:
    """The backend ``HoyerSpike(**spike)`` trains with on ``device``."""
    return resolve_impl(spike.get('impl', 'auto'), torch.device(device))


def markdown(res, args) -> str:
    lif = f'lif_T{args.time_steps}'
    tr, mem, ev, pf = res['train'], res['memory'], res['eval'], res['faults']
    mem_name = 'peak GPU memory' if args.device.startswith('cuda') else 'saved activations'
    dev = torch.cuda.get_device_name() if args.device.startswith('cuda') else \
        f'CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)'
    row = lambda label, k: (  # noqa: E731
        f'| {label} | {tr[k] * 1e3:.0f} | {res["ratio"][k]:.2f}× | '
        f'{mem[k] / 2**20:.0f} | {mem[k] / mem["ann"]:.2f}× | {pf[k] / 1e3:.1f} k | '
        + (f'{ev[k] * 1e3:.0f} | {ev[k] / ev["ann"]:.2f}× |' if k in ev else '- | - |'))
    lines = [
        f'Config `{args.config}`, batch {args.batch_size} × {args.size}² px, device {dev}, '
        f'median of {args.steps} steps after {args.warmup} warm-up, models alternating '
        '(train ×ANN: median over rounds of the step time over the ANN\'s in the same round); '
        f'HoyerSpike impl {res["impl"]!r}; torch {torch.__version__}.', '',
        f'| model | train step (ms) | ×ANN | {mem_name} (MiB) | ×ANN | page faults / step '
        '| eval step (ms) | ×ANN |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        row('(a) one-step SNN (HoyerSpike + Hoyer reg.)', 'snn'),
        row("(a') (a) + saved-spike recomputation (SpikeRecomputeHook)", 'snn_recompute'),
    ] + ([row("(a'') (a') with the eager reference neuron (impl='torch')", 'snn_torch')]
         if 'snn_torch' in tr else []) + [
        row('(b) ANN twin (BN + ReLU)', 'ann'),
        row(f'(c) multi-step SNN (LIF, T={args.time_steps}, BPTT)', lif),
    ]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    res = run(args)
    text = markdown(res, args)
    print(text)
    if args.out:
        write_between_markers(args.out, 'benchmark-table', text,
                              ['tools/analysis_tools/benchmark_train.py',
                               *(argv if argv is not None else sys.argv[1:])],
                              new_page='# Training-cost benchmark\n')
    return res


if __name__ == '__main__':
    main()
