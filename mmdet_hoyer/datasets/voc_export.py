"""Write a COCO-format detection set in Pascal VOC's layout (for VOCDataset / VOCMetric)."""
import json
import os
import os.path as osp
import shutil
from typing import Dict
from xml.etree import ElementTree as ET


def _xml(file_name: str, width: int, height: int, objects) -> ET.ElementTree:
    root = ET.Element('annotation')
    ET.SubElement(root, 'folder').text = 'VOC2007'
    ET.SubElement(root, 'filename').text = file_name
    size = ET.SubElement(root, 'size')
    for tag, value in (('width', width), ('height', height), ('depth', 3)):
        ET.SubElement(size, tag).text = str(value)
    for name, (xmin, ymin, xmax, ymax) in objects:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'difficult').text = '0'
        box = ET.SubElement(obj, 'bndbox')
        for tag, value in (('xmin', xmin), ('ymin', ymin), ('xmax', xmax), ('ymax', ymax)):
            ET.SubElement(box, tag).text = str(value)
    return ET.ElementTree(root)


def coco_to_voc(data_root: str, splits: Dict[str, str], year: str = '2007') -> str:
    """Export ``{split: COCO json}`` of ``data_root`` to ``<data_root>/VOCdevkit/VOC<year>``.

    Images are hard-linked (copied where links fail) as ``JPEGImages/<split>_<name>.jpg``, one
    ``Annotations/<id>.xml`` per image and ``ImageSets/Main/<split>.txt`` per split. Boxes use
    VOC's 1-based inclusive pixel convention: a COCO box ``[x, y, w, h]`` on the integer pixel
    grid becomes ``xmin = x + 1, ymin = y + 1, xmax = x + w, ymax = y + h``, which MMDetection's
    ``XMLDataset`` reads back as ``[x, y, x + w - 1, y + h - 1]`` and ``VOCMetric`` measures
    with VOC's legacy ``+1`` widths, i.e. the same boxes. Images without boxes are listed too.

    Returns the ``VOCdevkit`` directory (the VOC configs' ``data_root``).
    """
    devkit = osp.join(data_root, 'VOCdevkit')
    voc = osp.join(devkit, f'VOC{year}')
    for sub in ('JPEGImages', 'Annotations', osp.join('ImageSets', 'Main')):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    for split, ann_file in splits.items():
        with open(ann_file) as f:
            coco = json.load(f)
        names = {c['id']: c['name'] for c in coco['categories']}
        by_image = {img['id']: [] for img in coco['images']}
        for a in coco['annotations']:
            x, y, w, h = a['bbox']
            if any(abs(v - round(v)) > 1e-6 for v in (x, y, w, h)):
                raise ValueError(f'coco_to_voc: {ann_file}: box {a["bbox"]} is not on the integer '
                                 'pixel grid VOC annotations use')
            x, y, w, h = (int(round(v)) for v in (x, y, w, h))
            by_image[a['image_id']].append((names[a['category_id']], (x + 1, y + 1, x + w, y + h)))
        ids = []
        for img in coco['images']:
            stem = f'{split}_{osp.splitext(img["file_name"])[0]}'
            src = osp.join(data_root, split, img['file_name'])
            dst = osp.join(voc, 'JPEGImages', stem + '.jpg')
            if not osp.exists(dst):
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copyfile(src, dst)
            _xml(stem + '.jpg', img['width'], img['height'], by_image[img['id']]).write(
                osp.join(voc, 'Annotations', stem + '.xml'))
            ids.append(stem)
        with open(osp.join(voc, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
    return devkit
