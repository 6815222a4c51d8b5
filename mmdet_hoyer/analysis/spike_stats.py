"""Collect a spiking model's activity, thresholds, membrane histograms and energy on real data,
and write them as ``stats.json``, ``report.md`` and PNG plots (tools/analysis_tools/spike_stats.py)."""
import json
import math
import os
import os.path as osp
from collections import OrderedDict
from typing import Iterable, List, Optional, Sequence

import torch
from torch import nn

from .firing_rate import FiringRateRecorder, layer_group, spiking_layers
from .membrane import MembraneRecorder
from .energy_model import energy_model, layer_counts, markdown_table
from .operations import (AC_PJ, MAC_PJ, InputSpikeRecorder, dense_layers, dense_macs,
                         energy_report)

#: a channel that fires at more than this fraction of its positions counts as busy
BUSY_RATE = 0.5


def _default_hist_layers(names: Sequence[str], k: int = 4) -> List[str]:
    """``k`` layers spread evenly from the first to the last spiking layer."""
    if len(names) <= k:
        return list(names)
    return [names[round(i * (len(names) - 1) / (k - 1))] for i in range(k)]


@torch.no_grad()
def collect_spike_stats(model: nn.Module,
                        batches: Iterable[dict],
                        num_images: int,
                        hist_layers: Optional[Sequence[str]] = None,
                        mac_pj: float = MAC_PJ,
                        ac_pj: float = AC_PJ,
                        margin: float = 0.1,
                        event_input: bool = False) -> dict:
    """Run ``model`` (an MMEngine model with a data preprocessor) in eval mode over batches of
    ``batches`` until ``num_images`` images were seen; return the statistics dict.

    Operation counts are per image: dense MACs from MMEngine's FlopAnalyzer on the first
    batch (at its padded input shape) divided by its size; input firing rates and spike
    statistics over all ``num_images`` images.
    """
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    model.eval()
    layers = spiking_layers(model)
    if not layers:
        raise RuntimeError(f'{type(model).__name__} has no HoyerSpike layer: nothing to analyse '
                           '(is this the ANN twin?)')
    names = [n for n, _ in layers]
    hist_layers = list(hist_layers) if hist_layers else _default_hist_layers(names)
    unknown = sorted(set(hist_layers) - set(names))
    if unknown:
        raise ValueError(f'--hist-layers: {unknown} are not spiking layers; choose from {names}')
    by_name = dict(layers)
    fr, ins = FiringRateRecorder(model, layers, per_channel=True), InputSpikeRecorder(model)
    mem = MembraneRecorder([(n, by_name[n]) for n in hist_layers], margin=margin)
    near_all = MembraneRecorder(layers, bins=1, margin=margin)
    macs, seen, input_shape = None, 0, None
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        if macs is None:
            input_shape = list(inputs.shape[1:])
            macs = {k: v / inputs.shape[0] for k, v in dense_macs(model, (inputs, )).items()}
        with fr, ins, mem, near_all:
            model(inputs, mode='tensor')
        seen += inputs.shape[0]
        if seen >= num_images:
            break
    if seen == 0:
        raise RuntimeError('the dataloader yielded no images')

    rates, counts, near = fr.rates(), fr.counts(), near_all.near_fraction()
    channel_rates = fr.channel_rates()
    rows = []
    for name, m in layers:
        if name not in rates:
            continue
        e = m.extremum().float()
        rows.append(OrderedDict(
            name=name, group=layer_group(name), shape=list(fr.shapes[name]),
            neurons=math.prod(fr.shapes[name]), firing_rate=rates[name],
            clip_threshold=float(m.clip_threshold), extremum=float(e.mean()),
            firing_threshold=float(m.firing_threshold().mean()),
            near_threshold_fraction=near[name],
            channels=int(channel_rates[name].numel()),
            silent_channels=float((channel_rates[name] == 0).double().mean()),
            busy_channels=float((channel_rates[name] > BUSY_RATE).double().mean())))
    total = sum(n for _, n in counts.values())
    groups = OrderedDict()
    for r in rows:
        g = groups.setdefault(r['group'], [0.0, 0])
        g[0] += counts[r['name']][0]
        g[1] += counts[r['name']][1]
    event_counts = ({n: v for n, v in ins.mean_values().items()
                     if ins.counts[n] and not ins.binary[n]} if event_input else None)
    ops = energy_report(macs, ins.input_rates(), ins.binary, mac_pj, ac_pj, event_counts)
    fan_in = {n: m.weight[0].numel() for n, m in dense_layers(model)}
    per_image_inputs = {n: t / seen for n, t in ins.total.items()}
    energy = energy_model(layer_counts(ops, fan_in, per_image_inputs))
    channels = sum(r['channels'] for r in rows)
    return OrderedDict(
        num_images=seen, input_shape=input_shape,
        network_firing_rate=sum(o for o, _ in counts.values()) / total,
        group_firing_rate=OrderedDict((g, o / n) for g, (o, n) in groups.items()),
        # channels that never fired on these images / fired at more than half their positions
        silent_channel_fraction=sum(r['silent_channels'] * r['channels'] for r in rows) / channels,
        busy_channel_fraction=sum(r['busy_channels'] * r['channels'] for r in rows) / channels,
        near_threshold_margin=margin,
        layers=rows,
        histograms=OrderedDict(
            (n, dict(edges=mem.bin_edges().tolist(), counts=mem.hist[n].tolist(),
                     below=mem.below[n], above=mem.above[n], extremum=mem.extremum[n],
                     near_threshold_fraction=mem.near_fraction()[n]))
            for n in hist_layers if n in mem.hist),
        operations=ops,
        energy_model=energy)


def _short(name: str) -> str:
    """Layer label for plots: the module path without its trailing activation name."""
    for suffix in ('.activate', '.act'):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _fmt(x: float) -> str:
    for unit, scale in (('G', 1e9), ('M', 1e6), ('k', 1e3)):
        if abs(x) >= scale:
            return f'{x / scale:.2f}{unit}'
    return f'{x:.1f}'


def plot_firing_rates(stats: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = stats['layers']
    groups = list(OrderedDict.fromkeys(r['group'] for r in rows))
    colors = {g: f'C{i}' for i, g in enumerate(groups)}
    fig, ax = plt.subplots(figsize=(max(6, 0.28 * len(rows) + 2), 3.6), dpi=90)
    ax.bar(range(len(rows)), [r['firing_rate'] for r in rows],
           color=[colors[r['group']] for r in rows])
    ax.axhline(stats['network_firing_rate'], color='k', ls='--', lw=1,
               label=f"network mean {stats['network_firing_rate']:.3f}")
    from matplotlib.patches import Patch
    handles = [Patch(color=colors[g], label=g) for g in groups]
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([_short(r['name']) for r in rows], rotation=90, fontsize=6)
    ax.set_ylabel('firing rate (fraction of ones)')
    ax.set_title(f"Firing rate per spiking layer ({stats['num_images']} images)")
    handles.append(ax.get_legend_handles_labels()[0][0])
    ax.legend(handles=handles, fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_membrane_histograms(stats: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    hists = stats['histograms']
    n = len(hists)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 2.8), dpi=90, squeeze=False)
    m = stats['near_threshold_margin']
    for ax, (name, h) in zip(axes[0], hists.items()):
        edges = h['edges']
        centers = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
        total = sum(h['counts']) + h['below'] + h['above']
        ax.bar(centers, [c / total for c in h['counts']], width=edges[1] - edges[0], color='C0')
        ax.axvline(h['extremum'], color='C3', lw=1.2, label=f"extremum E={h['extremum']:.2f}")
        ax.axvspan(h['extremum'] - m, h['extremum'] + m, color='C3', alpha=0.15,
                   label=f"±{m}: {h['near_threshold_fraction']:.1%}")
        ax.axvspan(0, 1, color='0.5', alpha=0.08)
        ax.set_title(_short(name), fontsize=8)
        ax.set_xlabel('u = z/|θ|  (grey: clip range [0,1])', fontsize=7)
        ax.set_yscale('log')
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel('fraction of units')
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown_report(stats: dict, title: str = 'Spike statistics') -> str:
    ops = stats['operations']
    c = ops['constants']
    lines = [
        f'# {title}', '',
        f"{stats['num_images']} images, input {stats['input_shape']} (padded batch shape); "
        f"eval mode (running thresholds).", '',
        f"Network firing rate (weighted by neurons): **{stats['network_firing_rate']:.4f}**; "
        + ', '.join(f'{g} {r:.4f}' for g, r in stats['group_firing_rate'].items()), '',
        f"Channels that never fired on these images: {stats['silent_channel_fraction']:.3f}; "
        f"that fired at more than {BUSY_RATE:.0%} of their positions: "
        f"{stats['busy_channel_fraction']:.3f} (of all spiking channels).", '',
        '## Operations and energy per image', '',
        f"MAC {c['mac_pj']} pJ, AC {c['ac_pj']} pJ (45 nm). SNN: layers with spike input cost "
        'ACs = MACs × input firing rate, a layer reading event counts ACs = MACs × mean count; '
        'layers with analog input cost MACs. ANN twin: every MAC.',
        '', '| | MACs | ACs | energy |', '|---|---:|---:|---:|',
        f"| SNN | {_fmt(ops['snn']['macs'])} | {_fmt(ops['snn']['acs'])} | "
        f"{ops['snn']['energy_pj'] / 1e6:.3f} µJ |",
        f"| ANN twin | {_fmt(ops['ann']['macs'])} | 0 | {ops['ann']['energy_pj'] / 1e6:.3f} µJ |",
        '', f"Compute-efficiency ratio ANN/SNN: **{ops['efficiency_ratio']:.2f}×**", '',
        *energy_section(stats),
        '## Spiking layers', '',
        f"| layer | shape | firing rate | clip threshold θ | extremum E | firing threshold θ·E | near ±{stats['near_threshold_margin']} | silent / busy channels |",
        '|---|---|---:|---:|---:|---:|---:|---:|']
    for r in stats['layers']:
        lines.append(f"| {r['name']} | {'×'.join(map(str, r['shape']))} | {r['firing_rate']:.4f} | "
                     f"{r['clip_threshold']:.3f} | {r['extremum']:.3f} | {r['firing_threshold']:.3f} | "
                     f"{r['near_threshold_fraction']:.3f} | "
                     f"{r['silent_channels']:.2f} / {r['busy_channels']:.2f} |")
    lines += ['', '## Dense layers', '', '| layer | MACs | input | input rate | ACs |',
              '|---|---:|---|---:|---:|']
    for r in ops['layers']:
        lines.append(f"| {r['name']} | {_fmt(r['macs'])} | "
                     f"{_input_kind(r)} | {r['input_rate']:.4f} | "
                     f"{_fmt(r['acs'])} |")
    lines += ['', '![firing rates](firing_rate.png)', '', '![membrane](membrane_hist.png)', '']
    return '\n'.join(lines)


def energy_section(stats: dict) -> List[str]:
    """The energy under float32 / int8 arithmetic, with and without memory traffic
    (:mod:`.energy_model`; absent in reports written before it)."""
    model = stats.get('energy_model')
    if model is None:
        return []
    return ['## Energy under other assumptions', '',
            'float32 and int8 operations (Horowitz 2014), each alone and with SRAM traffic '
            f"({model['constants']['sram_pj_per_bit']:.3f} pJ/bit; Lemaire et al. 2022's "
            'no-reuse counting): `mmdet_hoyer/analysis/energy_model.py`.', '',
            markdown_table(model), '',
            f"The assumption that moves ANN/SNN most: **{model['largest_move']}**.", '']


def _input_kind(row: dict) -> str:
    return 'spikes' if row['binary_input'] else 'events' if row.get('event_input') else 'analog'


def write_spike_report(stats: dict, out_dir: str, title: str = 'Spike statistics') -> dict:
    """Write ``stats.json``, ``report.md``, ``firing_rate.png``, ``membrane_hist.png``."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {k: osp.join(out_dir, f) for k, f in (
        ('json', 'stats.json'), ('md', 'report.md'), ('rates', 'firing_rate.png'),
        ('hist', 'membrane_hist.png'))}
    with open(paths['json'], 'w') as f:
        json.dump(stats, f, indent=1)
    with open(paths['md'], 'w') as f:
        f.write(markdown_report(stats, title))
    plot_firing_rates(stats, paths['rates'])
    plot_membrane_histograms(stats, paths['hist'])
    return paths
