"""Build the bundled demo detection set from scikit-learn's handwritten digits.

    python tools/dataset_converters/make_digits_detection.py --out-dir data/digits_det

Writes COCO-format train/val splits (10 classes '0'..'9'), a Pascal VOC copy of the same
images and boxes under <out-dir>/VOCdevkit/VOC2007 (skip it with --no-voc) and one square crop
per box in ImageNet's layout under <out-dir>/crops, stage 1's classification set (skip it with
--no-crops); deterministic by --seed.
"""
import argparse
import json

from mmdet_hoyer.datasets import make_digits_detection


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--out-dir', default='data/digits_det', help='output directory')
    p.add_argument('--num-train', type=int, default=1000, help='training images')
    p.add_argument('--num-val', type=int, default=200, help='validation images')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    p.add_argument('--size-range', type=int, nargs=2, default=(128, 160),
                   metavar=('MIN', 'MAX'), help='image side range in px')
    p.add_argument('--digit-range', type=int, nargs=2, default=(16, 44),
                   metavar=('MIN', 'MAX'), help='digit height range in px')
    p.add_argument('--num-range', type=int, nargs=2, default=(2, 5), metavar=('MIN', 'MAX'),
                   help='digits per image')
    p.add_argument('--no-voc', action='store_true', help='do not write the VOC-layout copy')
    p.add_argument('--no-crops', action='store_true',
                   help='do not write the ImageNet-layout box crops (stage 1)')
    return p.parse_args()


def main():
    args = parse_args()
    files = make_digits_detection(args.out_dir, args.num_train, args.num_val, args.seed,
                                  args.size_range, args.digit_range, args.num_range,
                                  voc=not args.no_voc, crops=not args.no_crops)
    for split, path in files.items():
        with open(path) as f:
            coco = json.load(f)
        print(f'{split}: {len(coco["images"])} images, {len(coco["annotations"])} boxes -> {path}')
    if not args.no_voc:
        print(f'VOC copy -> {args.out_dir}/VOCdevkit/VOC2007 (ImageSets/Main/{{train,val}}.txt)')
    if not args.no_crops:
        print(f'box crops (ImageNet layout) -> {args.out_dir}/crops (meta/{{train,val}}.txt)')


if __name__ == '__main__':
    main()
