"""Detect objects in an event-camera recording with a trained (spiking) detector: the
counterpart of tools/image_demo.py for Prophesee ``.dat`` files.

    python tools/event_demo.py RECORDING_td.dat CONFIG --weights CHECKPOINT [--out-dir outputs]
        [--step-ms 50] [--start-ms 0] [--end-ms END] [--pred-score-thr 0.3] [--no-save-vis]

Every ``--step-ms`` from ``--start-ms`` the detector reads the window of events before that time
through the config's test pipeline (window length and representation as trained). Pictures of
each window's events with the detections drawn by MMDetection's ``DetLocalVisualizer`` go to
``<out-dir>/vis/<recording>_<t_us>.png``, predictions (boxes in sensor pixels, labels, scores,
the window's end in µs) to ``<out-dir>/preds/<recording>.json``; for a spiking model the
firing rate of the run is printed.
"""
import argparse
import json
import os
import os.path as osp

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.analysis import FiringRateRecorder, spiking_layers
from mmdet_hoyer.apis import event_frame, event_window_us, inference_events
from mmdet_hoyer.datasets.events import DatFile, EventFileError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Detection on an event-camera recording')
    p.add_argument('recording', help='a Prophesee *_td.dat file')
    p.add_argument('config', help='model config file (an event-camera config)')
    p.add_argument('--weights', required=True, help='checkpoint file')
    p.add_argument('--out-dir', default='outputs', help='where vis/ and preds/ are written')
    p.add_argument('--step-ms', type=float, default=50.0, help='time between detections')
    p.add_argument('--start-ms', type=float, default=0.0,
                   help='first detection time (default: one window after the first event)')
    p.add_argument('--end-ms', type=float, help='last detection time (default: last event)')
    p.add_argument('--pred-score-thr', type=float, default=0.3,
                   help='draw boxes scoring at least this')
    p.add_argument('--device', default='cpu')
    p.add_argument('--no-save-vis', action='store_true', help='do not write pictures')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    for name, path in (('recording', args.recording), ('config', args.config),
                       ('--weights', args.weights)):
        if not osp.isfile(path):
            raise SystemExit(f'error: {name}: {path!r} is not a file')
    if not 0.0 <= args.pred_score_thr <= 1.0:
        raise SystemExit(f'error: --pred-score-thr must be in [0, 1], got {args.pred_score_thr}')
    if args.step_ms <= 0:
        raise SystemExit(f'error: --step-ms must be > 0, got {args.step_ms}')
    from mmdet.apis import init_detector
    from mmdet.registry import VISUALIZERS
    from mmdet.utils import register_all_modules
    register_all_modules()
    model = init_detector(args.config, args.weights, device=args.device)
    window = event_window_us(model.cfg)
    if window is None:
        raise SystemExit('error: config: its test pipeline has no LoadPropheseeEvents; '
                         'event_demo.py needs an event-camera config (e.g. configs/demo/'
                         'yolov3_hoyer_vgg_events-demo.py); for images use tools/image_demo.py')
    try:
        recording = DatFile(args.recording)
    except EventFileError as e:
        raise SystemExit(f'error: {e}')
    first, last = recording.time_range
    start = max(int(args.start_ms * 1000), first + window)
    end = int(args.end_ms * 1000) if args.end_ms is not None else last
    times = list(range(start, end + 1, int(args.step_ms * 1000)))
    if not times:
        raise SystemExit(f'error: no detection time in [{start}, {end}] µs: the recording spans '
                         f'{first}..{last} µs and the window is {window} µs')
    recorder = FiringRateRecorder(model)
    with recorder:
        results = inference_events(model, args.recording, times)
    stem = osp.basename(args.recording)[:-len('.dat')]
    os.makedirs(osp.join(args.out_dir, 'preds'), exist_ok=True)
    preds = []
    for t, r in zip(times, results):
        p = r.pred_instances
        keep = p.scores >= args.pred_score_thr
        preds.append(dict(t_us=t, labels=p.labels[keep].tolist(), scores=p.scores[keep].tolist(),
                          bboxes=p.bboxes[keep].tolist()))
    with open(osp.join(args.out_dir, 'preds', f'{stem}.json'), 'w') as f:
        json.dump(dict(recording=args.recording, window_us=window, detections=preds), f)
    if not args.no_save_vis:
        vis = VISUALIZERS.build(dict(type='DetLocalVisualizer', name='event_demo', line_width=1))
        vis.dataset_meta = model.dataset_meta
        os.makedirs(osp.join(args.out_dir, 'vis'), exist_ok=True)
        for t, r in zip(times, results):
            frame = event_frame(recording.window(t - window, t), recording.width,
                                recording.height)
            vis.add_datasample('events', frame, r, draw_gt=False, show=False,
                               pred_score_thr=args.pred_score_thr,
                               out_file=osp.join(args.out_dir, 'vis', f'{stem}_{t}.png'))
    print(f'{len(times)} windows of {window / 1000:g} ms, '
          f'{sum(len(p["labels"]) for p in preds)} boxes with score >= {args.pred_score_thr}')
    if spiking_layers(model):
        print(f'{len(spiking_layers(model))} spiking layers, firing rate '
              f'{recorder.mean_rate():.4f} over this run')
    print(f'results written to {args.out_dir}/ (vis/: pictures, preds/: json)')


if __name__ == '__main__':
    main()
