"""Detect objects in images with a trained (spiking) detector: MMDetection's ``DetInferencer``.

    python tools/image_demo.py INPUTS CONFIG --weights CHECKPOINT [--out-dir outputs]
        [--pred-score-thr 0.3] [--batch-size 1] [--device cpu] [--no-save-vis] [--no-save-pred]

``INPUTS`` is an image file, a directory of images or several files. A named file that does
not decode is an error naming it; in a directory such files are skipped with a warning and a
count. Visualised results go to
``<out-dir>/vis/``, predictions (boxes in input-image pixels, labels, scores) to
``<out-dir>/preds/*.json``, exactly as MMDetection's ``demo/image_demo.py`` writes them; for a
spiking model the firing rate of the run is printed as well. The plugin is loaded by the
config's ``custom_imports``.
"""
import argparse
import os.path as osp

import mmdet_hoyer  # noqa: F401  (registers the plugin; torch>=2.6 checkpoint loading)
from mmdet_hoyer.analysis import FiringRateRecorder, spiking_layers


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Inference with MMDetection\'s DetInferencer')
    p.add_argument('inputs', nargs='+', help='image file(s) or a directory of images')
    p.add_argument('config', help='model config file')
    p.add_argument('--weights', required=True, help='checkpoint file')
    p.add_argument('--out-dir', default='outputs', help='where vis/ and preds/ are written')
    p.add_argument('--pred-score-thr', type=float, default=0.3,
                   help='draw boxes scoring at least this')
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--no-save-vis', action='store_true', help='do not write pictures')
    p.add_argument('--no-save-pred', action='store_true', help='do not write predictions')
    args = p.parse_args(argv)
    if len(args.inputs) == 1:
        args.inputs = args.inputs[0]
    return args


def readable_images(inputs):
    """The image files to run: each named file must decode (else ``ValueError`` naming it);
    in a folder, files that do not decode are skipped with a warning and a count."""
    import os
    import warnings

    import mmcv
    from mmengine.utils import scandir

    from mmdet.apis.det_inferencer import IMG_EXTENSIONS

    def decodes(path: str) -> bool:
        try:
            return mmcv.imread(path) is not None
        except Exception:
            return False

    files, skipped = [], []
    for item in inputs:
        if os.path.isdir(item):
            found = sorted(os.path.join(item, f) for f in
                           scandir(item, IMG_EXTENSIONS, recursive=True))
            ok = [f for f in found if decodes(f)]
            skipped += [f for f in found if f not in ok]
            files += ok
        elif decodes(item):
            files.append(item)
        else:
            raise ValueError(f'{item}: not a readable image (the file could not be decoded)')
    if skipped:
        warnings.warn(f'skipped {len(skipped)} unreadable image(s): {", ".join(skipped[:5])}'
                      + (' ...' if len(skipped) > 5 else ''), stacklevel=2)
        print(f'skipped {len(skipped)} unreadable image(s)')
    if not files:
        raise ValueError(f'inputs: no readable image in {", ".join(inputs)}')
    return files if len(files) > 1 else files[0]


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmdet.apis import DetInferencer
    inputs = args.inputs if isinstance(args.inputs, list) else [args.inputs]
    missing = [p for p in inputs if not osp.exists(p)]
    if missing:
        raise SystemExit(f'error: inputs: no such file or directory: {", ".join(missing)}')
    for name, path in (('config', args.config), ('--weights', args.weights)):
        if not osp.isfile(path):
            raise SystemExit(f'error: {name}: {path!r} is not a file')
    if not 0.0 <= args.pred_score_thr <= 1.0:
        raise SystemExit(f'error: --pred-score-thr must be in [0, 1], got {args.pred_score_thr}')
    if args.batch_size < 1:
        raise SystemExit(f'error: --batch-size must be >= 1, got {args.batch_size}')

    try:
        args.inputs = readable_images(inputs)
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    inferencer = DetInferencer(model=args.config, weights=args.weights, device=args.device)
    recorder = FiringRateRecorder(inferencer.model)
    with recorder:
        result = inferencer(args.inputs, batch_size=args.batch_size, out_dir=args.out_dir,
                            pred_score_thr=args.pred_score_thr, no_save_vis=args.no_save_vis,
                            no_save_pred=args.no_save_pred)
    for i, pred in enumerate(result['predictions']):
        kept = sum(s >= args.pred_score_thr for s in pred['scores'])
        print(f'image {i}: {kept} boxes with score >= {args.pred_score_thr}')
    if spiking_layers(inferencer.model):
        print(f'{len(spiking_layers(inferencer.model))} spiking layers, firing rate '
              f'{recorder.mean_rate():.4f} over this run')
    if not (args.no_save_vis and args.no_save_pred):
        print(f'results written to {args.out_dir}/ (vis/: pictures, preds/: json)')


if __name__ == '__main__':
    main()
