"""Side-by-side detections: ground truth, the spiking detector, its ANN twin, and the spike maps
of one backbone and one neck layer of the spiking detector for the same image.

    python tools/analysis_tools/detection_figure.py SNN_CONFIG SNN_CHECKPOINT \
        [--ann ANN_CONFIG ANN_CHECKPOINT] [--num-images 4] [--score-thr 0.3] \
        [--spike-layers NAME NAME] [--out docs/results/demo_detections.png]

Images are the first ``--num-images`` of the SNN config's test set (``--indices`` to choose);
for an event-camera config, the frames of the windows the detectors read (ON red, OFF blue).
Both detectors run through MMDetection's ``init_detector`` / ``inference_detector`` (events:
``mmdet_hoyer.apis.inference_events``, the same test pipeline); boxes are
drawn by MMDetection's ``DetLocalVisualizer``. Spike maps show one channel of each layer's
binary output (black = spike): the channel firing most selectively inside the ground-truth
boxes over the images shown, the same channel in every row.
"""
import argparse
import os
import os.path as osp

import torch

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.analysis import FeatureMapRecorder, spiking_layers
from mmdet_hoyer.apis import inference_sample, sample_picture
from mmdet_hoyer.analysis.detection_figure import (box_mask, default_spike_layers,
                                                   draw_instances, gt_sample,
                                                   named_spiking_layers,
                                                   object_selective_channel,
                                                   plot_detection_figure)
from mmdet_hoyer.utils.cli import add_snn_ann_args, check_snn_ann_files, load_snn_ann


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='ground truth | SNN | ANN | spike maps, per image')
    add_snn_ann_args(p)
    p.add_argument('--num-images', type=int, default=4)
    p.add_argument('--indices', type=int, nargs='+', help='test-set indices (instead of the '
                   'first --num-images)')
    p.add_argument('--score-thr', type=float, default=0.3, help='draw predictions >= this')
    p.add_argument('--spike-layers', nargs='+', help='spiking layers to show (module names; '
                   'default: one backbone, one neck layer)')
    p.add_argument('--out', default='docs/results/demo_detections.png')
    return p.parse_args(argv)


def _check_files(args) -> None:
    check_snn_ann_files(args)
    if not 0.0 <= args.score_thr <= 1.0:
        raise SystemExit(f'error: --score-thr must be in [0, 1], got {args.score_thr}')
    if args.num_images < 1:
        raise SystemExit(f'error: --num-images must be >= 1, got {args.num_images}')


def main(argv=None) -> None:
    args = parse_args(argv)
    _check_files(args)
    from mmdet.registry import VISUALIZERS

    snn, ann, dataset = load_snn_ann(args)
    if not spiking_layers(snn):
        raise SystemExit(f'error: {args.config} has no spiking layers (HoyerSpike)')
    indices = args.indices or list(range(min(args.num_images, len(dataset))))
    bad = [i for i in indices if not 0 <= i < len(dataset)]
    if bad:
        raise SystemExit(f'error: --indices {bad} outside the test set (0..{len(dataset) - 1})')

    visualizer = VISUALIZERS.build(dict(type='DetLocalVisualizer', name='detection_figure',
                                        line_width=1, alpha=0.9))
    visualizer.dataset_meta = snn.dataset_meta
    names = args.spike_layers
    if names is None:  # probe the shapes once
        with FeatureMapRecorder(spiking_layers(snn)) as rec:
            inference_sample(snn, dataset.get_data_info(indices[0]))
        shapes = {n: tuple(m.shape[1:]) for n, m in rec.maps.items()}
        names = default_spike_layers(shapes)
    try:
        layers = named_spiking_layers(snn, names)
    except ValueError as e:
        raise SystemExit(f'error: --{e}')
    rows, spike_maps, masks = [], {n: [] for n in names}, {n: [] for n in names}
    for i in indices:
        info = dataset.get_data_info(i)
        image = sample_picture(snn.cfg, info)  # for events: the window's frame
        with FeatureMapRecorder(layers) as rec, torch.no_grad():
            snn_result = inference_sample(snn, info)
        maps = {n: m[0] for n, m in rec.maps.items()}  # batch of one image
        gt = gt_sample(info)
        panels = [('ground truth', draw_instances(visualizer, image, gt, True, 0)),
                  ('spiking (SNN)', draw_instances(visualizer, image, snn_result, False,
                                                   args.score_thr))]
        if ann is not None:
            ann_result = inference_sample(ann, info)
            panels.append(('ANN twin', draw_instances(visualizer, image, ann_result, False,
                                                      args.score_thr)))
        # ground truth in the network's input pixels (resized image), then in map cells
        sx, sy = snn_result.metainfo['scale_factor']
        boxes = gt.gt_instances.bboxes * torch.tensor([sx, sy, sx, sy])
        input_h = snn_result.metainfo['batch_input_shape'][0]
        for name in names:
            spike_maps[name].append(maps[name])
            masks[name].append(box_mask(tuple(maps[name].shape[-2:]), boxes,
                                        maps[name].shape[-2] / input_h))
        rows.append(dict(index=i, panels=panels))
    for name in names:  # one channel per layer, the same in every row
        c = object_selective_channel(spike_maps[name], masks[name])
        short = name.replace('.activate', '').replace('.act', '')
        for row, spikes in zip(rows, spike_maps[name]):
            row['panels'].append((f'{short} ch{c}\nspikes, layer rate '
                                  f'{float(spikes.float().mean()):.2f}',
                                  spikes[c].float().numpy()))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    plot_detection_figure(rows, args.out)
    print(f'figure written to {args.out} ({len(rows)} images; spike maps of {", ".join(names)})'
          + ('' if ann is not None else '; no ANN column (pass --ann CONFIG CHECKPOINT, e.g. '
             'after make demo-ann)'))


if __name__ == '__main__':
    main()
