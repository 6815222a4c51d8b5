"""What the full-scale configs cost: operations and energy per image, a full-size training step
on this machine, and an estimate of the GPU-hours of both stages.

    python tools/analysis_tools/scale_cost.py ops [--rates docs/guides/scale_rates.json]
        [--demo-stats yolov3=work_dirs/demo_snn/spike_stats/stats.json ...] [--out docs/guides/scale.md]
    python tools/analysis_tools/scale_cost.py step [--configs yolov3 ssd faster-rcnn]
        [--steps 2] [--threads 2] [--device cpu|cuda] [--impl compile] [--out docs/guides/scale.md]
    python tools/analysis_tools/scale_cost.py hours [--out docs/guides/scale.md]

``ops``: per-image MACs of every conv/linear layer of the full config at its test size
(MMEngine's FlopAnalyzer), split into the layers that read binary spikes (ACs = MACs × the
input firing rate) and the ones that read analog values (MACs: the first conv, the YOLOv3
head's membrane read-out, a two-stage detector's RoI head), against the ANN twin (every MAC).
An untrained full network has no meaningful firing rates, so the ACs use **the demo's measured
per-layer input rates** (same layer names at another width; ``--demo-stats`` reads them from
``spike_stats.py``'s stats.json and stores them in ``--rates``), and a stated rate where the
demo has no such layer. ``step``: one full-size training step (batch 2 at the config's train
size) of the SNN and of its ANN twin, alternately, each in its own process: median step time,
peak resident memory of the process and the activations autograd saves (on CUDA: peak allocated
memory and kernels per step). ``hours``: GPU-hours of both stages of each recipe, estimated from
MACs and the project's one H100 measurement (stated as an estimate). Tables go between markers
in ``--out``.
"""
import argparse
import json
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import OrderedDict

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

import mmdet_hoyer  # noqa: F401
from mmdet.registry import MODELS
from mmdet_hoyer.analysis.operations import InputSpikeRecorder, dense_macs, energy_report
from mmdet_hoyer.utils.markdown import write_between_markers
from mmdet_hoyer.models.layers import (HoyerSpike, hoyer_layers, recompute_spikes, set_impl,
                                       set_regularize, take_hoyer_terms)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: name -> (SNN config, ANN twin, test size (H, W), train size (H, W))
CONFIGS = OrderedDict([
    ('yolov3', ('configs/yolov3_hoyer_vgg.py', 'configs/yolov3_relu_vgg.py', (608, 608),
                (608, 608))),
    ('ssd', ('configs/ssd300_hoyer_vgg.py', 'configs/ssd300_relu_vgg.py', (300, 300),
             (300, 300))),
    ('faster-rcnn', ('configs/faster-rcnn_hoyer_r50-fpn.py',
                     'configs/faster-rcnn_relu_r50-fpn.py', (800, 1344),
                     (800, 1344))),
])
#: input rate assumed where the demo has no such layer: the authors' ImageNet ResNet-50
#: (~24 % of spike outputs are ones, a comment in their scripts)
DEFAULT_RATE = 0.24
#: images per timed training step (SSD300's 1×1 level needs 2 for training-mode BN)
BATCH = 2


def build(config: str, random_weights: bool = True) -> nn.Module:
    """The config's detector, without its stage-1 checkpoint."""
    cfg = Config.fromfile(osp.join(REPO, config))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if random_weights:
        cfg.model.backbone.init_cfg = None  # no stage-1 file needed to count or time
    return MODELS.build(cfg.model)  # PyTorch's default init: counts and timings only


class FeatureAndRPN(nn.Module):
    """Backbone, neck and RPN head of a two-stage detector, as one tensor-in tensor-out call
    (its ``mode='tensor'`` forward needs image metas for the proposals)."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, x):
        feats = self.detector.extract_feat(x)
        return feats, self.detector.rpn_head(feats)


def count_ops(config: str, size, rates: dict) -> dict:
    """Per-image operation counts and energy of ``config`` at ``size`` (H, W)."""
    model = build(config).eval()
    two_stage = hasattr(model, 'roi_head')
    net = FeatureAndRPN(model) if two_stage else model
    x = torch.zeros(1, 3, *size)
    macs = OrderedDict((k[len('detector.'):] if two_stage else k, v)
                       for k, v in dense_macs(net, (x, )).items())
    # which layers read spikes: a training-mode forward (binary spikes whatever the weights)
    model.train()
    with InputSpikeRecorder(model) as rec, torch.no_grad():
        (FeatureAndRPN(model) if two_stage else model)(torch.rand(2, 3, *size))
    binary = {k: rec.binary.get(k, False) for k in macs}
    if two_stage:  # RoI head: 1000 proposals per image (test_cfg.rpn.max_per_img), analog
        n = model.test_cfg.rpn.max_per_img
        head = model.roi_head.bbox_head
        side = head.roi_feat_size if isinstance(head.roi_feat_size, int) else \
            head.roi_feat_size[0]
        rois = torch.zeros(n, head.in_channels, side, side)
        for k, v in dense_macs(head, (rois, )).items():
            macs[f'roi_head.bbox_head.{k}'] = v
            binary[f'roi_head.bbox_head.{k}'] = False
    used, assumed = {}, []
    for k in macs:
        if binary[k]:
            if k in rates:
                used[k] = rates[k]
            else:
                used[k] = rates.get('__default__', DEFAULT_RATE)
                assumed.append(k)
    report = energy_report(macs, used, binary)
    report['assumed_rate_layers'] = assumed
    report['num_layers'] = len(macs)
    return report


def demo_rates(stats_json: str) -> dict:
    """Per-layer input firing rates of a trained demo SNN (spike_stats.py's stats.json); the
    mean over its neck layers for layers the demo lacks (SSD300 has one more extra level)."""
    with open(stats_json) as f:
        layers = json.load(f)['operations']['layers']
    rates = {r['name']: r['input_rate'] for r in layers if r['binary_input']}
    neck = [v for k, v in rates.items() if k.startswith('neck.')]
    if neck:
        rates['__default__'] = sum(neck) / len(neck)
    return rates


def ops_table(args) -> str:
    rates = {}
    if args.rates and osp.isfile(args.rates):
        with open(args.rates) as f:
            rates = json.load(f)
    for item in args.demo_stats or []:
        name, path = item.split('=', 1)
        rates[name] = dict(source=path, layers=demo_rates(path))
    if args.rates and args.demo_stats:
        with open(args.rates, 'w') as f:
            json.dump(rates, f, indent=1)
    lines = [
        '| config | test size | ANN twin MACs | SNN MACs (analog inputs) | SNN ACs | ANN energy '
        '| SNN energy | ANN/SNN | firing rates used |',
        '|---|---|---:|---:|---:|---:|---:|---:|---|']
    results = {}
    for name in args.configs:
        snn, _, size, _ = CONFIGS[name]
        source = rates.get(name)
        layer_rates = source['layers'] if source else {'__default__': DEFAULT_RATE}
        r = count_ops(snn, size, layer_rates)
        results[name] = r
        if source:
            how = (f'the demo\'s per layer ({osp.basename(osp.dirname(osp.dirname(source["source"])))}'
                   f'), {len(r["assumed_rate_layers"])} layers at its neck mean '
                   f'{layer_rates.get("__default__", DEFAULT_RATE):.3f}')
        else:
            how = f'{DEFAULT_RATE} everywhere (no demo; the authors\' ResNet-50 ImageNet rate)'
        lines.append(
            f'| `{snn}` | {size[1]}×{size[0]} | {r["ann"]["macs"] / 1e9:.1f} G | '
            f'{r["snn"]["macs"] / 1e9:.2f} G | {r["snn"]["acs"] / 1e9:.2f} G | '
            f'{r["ann"]["energy_pj"] / 1e9:.1f} mJ | {r["snn"]["energy_pj"] / 1e9:.2f} mJ | '
            f'**{r["efficiency_ratio"]:.1f}×** | {how} |')
    args.results = results
    return '\n'.join(lines)


# ---------------------------------------------------------------- GPU-hours
#: the one GPU measurement of the project (docs/results/benchmarks.md, one H100): the demo
#: network of that time (configs/demo/yolov3_hoyer_vgg_digits.py before the taps and the
#: backbone skip: 3.18 GMACs per image at 320², counted by ann_gmacs then) at batch 32 × 320²,
#: ANN twin 156 ms per training step; SNN 1.30× that (step time) with 1.23× the GPU kernel time
H100_REF = dict(gmacs=3.18, size=(320, 320), batch=32,
                ann_step_s=0.156, snn_step_ratio=1.30, snn_kernel_ratio=1.23)
#: (stage, config, train size (H, W), images per epoch, epochs, GPUs of the documented command)
SCHEDULES = [
    ('stage 1: HoyerVGG16, ImageNet-1k', 'configs/pretrain/cls_hoyer_vgg16_in1k.py', (224, 224),
     1281167, 150, 8),
    ('stage 1: HoyerResNet-50, ImageNet-1k', 'configs/pretrain/cls_hoyer_r50_in1k.py',
     (224, 224), 1281167, 400, 4),
    ('stage 2: YOLOv3, COCO (multi-scale 320-608: 480² ≈ RMS side)', 'configs/yolov3_relu_vgg.py',
     (480, 480), 117266, 273, 8),
    ('stage 2: SSD300, COCO', 'configs/ssd300_relu_vgg.py', (300, 300), 117266, 120, 8),
    ('stage 2: Faster R-CNN R50-FPN, COCO (1x)',
     'configs/faster-rcnn_relu_r50-fpn.py', (800, 1344), 117266, 12, 8),
]


def ann_gmacs(config: str, size) -> float:
    """Dense GMACs per image of the network a config builds (classifier or detector)."""
    model = build(config).eval()
    net = FeatureAndRPN(model) if hasattr(model, 'roi_head') else model
    macs = sum(dense_macs(net, (torch.zeros(1, 3, *size), )).values())
    if hasattr(model, 'roi_head'):  # 512 sampled RoIs per training image (rcnn sampler)
        head = model.roi_head.bbox_head
        side = head.roi_feat_size if isinstance(head.roi_feat_size, int) else \
            head.roi_feat_size[0]
        macs += sum(dense_macs(head, (torch.zeros(512, head.in_channels, side, side), )).values())
    return macs / 1e9


#: lower bound's throughput: 30 % of an H100/H200's dense TF32 tensor-core peak (~494 TFLOP/s,
#: the datasheet's 989 with sparsity), the precision cuDNN uses for fp32 convolutions by default
LOWER_FLOPS = 0.3 * 494e12


def hours_table(args) -> str:
    ref = H100_REF
    ref_gmacs = ref['gmacs']  # the network that was measured, not today's demo
    s_per_gmac = ref['ann_step_s'] / ref['batch'] / ref_gmacs
    lines = ['| stage | GMACs / image (train size) | images × epochs | ANN twin GPU-hours, '
             'low – high | SNN GPU-hours, low – high | SNN wall time on the documented GPUs |',
             '|---|---:|---:|---:|---:|---|']
    for stage, config, size, images, epochs, gpus in SCHEDULES:
        gmacs = ann_gmacs(config, size)
        low = 6 * gmacs * 1e9 * images * epochs / LOWER_FLOPS / 3600  # fwd + bwd: 3 × 2 FLOP/MAC
        high = gmacs * s_per_gmac * images * epochs / 3600
        snn_lo, snn_hi = low * ref['snn_kernel_ratio'], high * ref['snn_step_ratio']
        lines.append(f'| {stage} | {gmacs:.1f} | {images:,} × {epochs} | {low:,.0f} – {high:,.0f}'
                     f' | {snn_lo:,.0f} – {snn_hi:,.0f} | {snn_lo / gpus / 24:.1f} – '
                     f'{snn_hi / gpus / 24:.1f} days on {gpus} GPUs |')
    return (f'An estimate, not a measurement (no full-size step has run on a GPU yet: '
            f'`tools/analysis_tools/gpu_check.sh` measures them). Low: 6 FLOPs per MAC of a '
            f'training image (forward and backward) at 30 % of an H100\'s dense TF32 peak '
            f'({LOWER_FLOPS / 1e12:.0f} TFLOP/s). High: GPU time proportional to the MACs, '
            f'calibrated on the project\'s one GPU measurement (one H100: the demo '
            f'network of that time at {ref["batch"]} × {ref["size"][0]}², {ref_gmacs:.2f} GMACs per image, '
            f'ANN twin {ref["ann_step_s"] * 1e3:.0f} ms per step, {s_per_gmac * 1e3:.2f} ps per '
            f'MAC) — small quarter-width convolutions use a GPU far worse than full-width ones, '
            f'so the truth lies between. SNN: the ANN figure times the GPU kernel-time ratio '
            f'(1.23×, low) and the step-time ratio (1.30×, high) measured there. Data loading '
            f'is not counted.\n\n' + '\n'.join(lines))


# ---------------------------------------------------------------- one full-size step
def training_step(model, optim, data, spiking: bool):
    """Forward + loss (+ the Hoyer term and the configs' spike recomputation) + backward +
    AdamW; returns the loss."""
    if spiking:
        with recompute_spikes():  # what the configs' SpikeRecomputeHook does
            losses = model(**data, mode='loss')
        losses['loss_hoyer'] = 1e-8 * torch.stack(take_hoyer_terms(model)).sum()
    else:
        losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    optim.zero_grad(set_to_none=True)
    loss.backward()
    optim.step()
    return loss


def measure_step(config: str, size, steps: int, warmup: int, threads: int, batch: int,
                 device: str, impl: str = None) -> dict:
    """Median training step at ``batch`` × ``size`` on ``device`` after ``warmup`` steps; on
    the CPU the activations autograd saves and the process's peak resident memory, on CUDA
    the peak allocated memory and the number of GPU kernels one step launches."""
    from mmdet.testing import demo_mm_inputs
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cuda = device.startswith('cuda')
    model = build(config).to(device).train()
    spiking = bool(hoyer_layers(model))
    set_regularize(model, True)  # what HoyerRegularizerHook switches on
    if impl:
        set_impl(model, impl)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    head = model.bbox_head if hasattr(model, 'bbox_head') else model.roi_head.bbox_head
    packed = demo_mm_inputs(batch, [(3, *size)] * batch, num_items=[3] * batch,
                            num_classes=head.num_classes)
    data = model.data_preprocessor(packed, True)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    saved, seen = 0, set()

    def pack(t):
        nonlocal saved
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        if key not in seen:
            seen.add(key)
            saved += key[1]
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        training_step(model, optim, data, spiking)  # first step: saved activations
    for _ in range(max(warmup - 1, 0)):
        training_step(model, optim, data, spiking)
    times = []
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for _ in range(steps):
        sync()
        t0 = time.perf_counter()
        loss = training_step(model, optim, data, spiking)
        sync()
        times.append(time.perf_counter() - t0)
        if not torch.isfinite(loss):
            raise RuntimeError(f'non-finite loss {loss.item()}')
    out = dict(step_s=statistics.median(times), saved_bytes=saved,
               peak_bytes=torch.cuda.max_memory_allocated() if cuda else
               resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    if cuda:  # kernels launched by one step
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            training_step(model, optim, data, spiking)
            sync()
        out['kernels'] = sum(e.device_type.name == 'CUDA' for e in prof.events())
    return out


def step_table(args) -> str:
    cuda = args.device.startswith('cuda')
    mem = 'peak GPU memory' if cuda else 'peak RSS'
    lines = [f'| config | batch × size | network | step (s) | ×ANN | {mem} (GiB) | ×ANN | '
             'saved activations (GiB) | ×ANN |' + (' kernels / step | ×ANN |' if cuda else ''),
             '|---|---|---|---:|---:|---:|---:|---:|---:|' + ('---:|---:|' if cuda else '')]
    for name in args.configs:
        snn, ann, _, size = CONFIGS[name]
        batch = args.batch or BATCH
        res = {}
        for label, config in (('SNN', snn), ('ANN twin', ann)):
            cmd = [sys.executable, __file__, '_step', json.dumps(dict(
                config=config, size=size, steps=args.steps, warmup=args.warmup,
                threads=args.threads, batch=batch, device=args.device,
                impl=args.impl if label == 'SNN' else None))]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if proc.returncode:
                raise SystemExit(f'error: step of {config} failed:\n{proc.stderr[-3000:]}')
            res[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        a = res['ANN twin']
        for label in ('SNN', 'ANN twin'):
            r = res[label]
            row = (f'| `{snn if label == "SNN" else ann}` | {batch} × {size[1]}×{size[0]} | '
                   f'{label} | {r["step_s"]:.3f} | {r["step_s"] / a["step_s"]:.2f}× | '
                   f'{r["peak_bytes"] / 2**30:.2f} | {r["peak_bytes"] / a["peak_bytes"]:.2f}× | '
                   f'{r["saved_bytes"] / 2**30:.2f} | {r["saved_bytes"] / a["saved_bytes"]:.2f}× |')
            if cuda:
                row += f' {r["kernels"]} | {r["kernels"] / a["kernels"]:.2f}× |'
            lines.append(row)
    dev = torch.cuda.get_device_name() if cuda else \
        f'CPU ({platform.processor() or platform.machine()}, {args.threads} threads)'
    impl = f", HoyerSpike impl {args.impl!r}" if args.impl else ''
    return (f'Median of {args.steps} steps after {args.warmup} warm-up, each network in its own '
            f'process, SNN then ANN twin; {dev}, torch {torch.__version__}{impl}. '
            + ('Peak GPU memory: `torch.cuda.max_memory_allocated` of the timed steps; kernels: '
               'CUDA kernels of one step (torch.profiler).' if cuda else
               'Peak RSS: the process\'s maximum resident memory (weights, optimizer state, '
               'activations); saved activations: the tensors autograd keeps for backward.')
            + '\n\n' + '\n'.join(lines))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='operations, energy and training-step cost of the '
                                'full-scale configs')
    sub = p.add_subparsers(dest='what', required=True)
    ops = sub.add_parser('ops', help='per-image MACs/ACs and energy, SNN vs ANN twin')
    ops.add_argument('--rates', help='JSON of per-layer input firing rates (read; written when '
                     '--demo-stats is given)')
    ops.add_argument('--demo-stats', nargs='+', metavar='NAME=STATS_JSON',
                     help='take the rates of config NAME from a demo run\'s spike_stats.py '
                     'stats.json')
    sub.add_parser('hours', help='estimated GPU-hours of both stages (calibrated on the '
                   'H100 measurement of docs/results/benchmarks.md)')
    step = sub.add_parser('step', help='one full-size training step on this machine')
    step.add_argument('--steps', type=int, default=2)
    step.add_argument('--warmup', type=int, default=1)
    step.add_argument('--batch', type=int, help=f'images per step (default {BATCH})')
    step.add_argument('--threads', type=int, default=torch.get_num_threads())
    step.add_argument('--device', default='cpu')
    step.add_argument('--impl', choices=HoyerSpike.IMPLS,
                      help="the SNN's HoyerSpike impl (default: the config's, 'auto')")
    for q in sub.choices.values():
        q.add_argument('--configs', nargs='+', default=list(CONFIGS), choices=list(CONFIGS))
        q.add_argument('--out', help='markdown file to write the table into (between markers)')
    args = p.parse_args(argv)
    if args.what == 'step':
        if args.steps < 1 or args.threads < 1 or args.warmup < 1 or (args.batch or 2) < 2:
            raise SystemExit('error: --steps, --threads and --warmup must be >= 1, --batch >= 2')
        if args.device.startswith('cuda') and not torch.cuda.is_available():
            raise SystemExit('error: --device cuda but no CUDA device is available')
    for item in getattr(args, 'demo_stats', None) or []:
        name, _, path = item.partition('=')
        if name not in CONFIGS or not osp.isfile(path):
            raise SystemExit(f'error: --demo-stats {item!r}: expected NAME=PATH with NAME in '
                             f'{list(CONFIGS)} and PATH a stats.json of spike_stats.py')
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == '_step':  # worker process of `step`
        print(json.dumps(measure_step(**json.loads(argv[1]))))
        return
    args = parse_args(argv)
    text = dict(ops=ops_table, step=step_table, hours=hours_table)[args.what](args)
    print(text)
    if args.out:
        write_between_markers(args.out, f'scale-{args.what}', text,
                              ['tools/analysis_tools/scale_cost.py', *argv], new_page='# Scale\n')


if __name__ == '__main__':
    main()
