"""ap_per_iou.py: AP per IoU threshold of CocoMetric result files, seeds, pairs, markers, plot."""
import json
import sys

import pytest

sys.path.insert(0, __import__('conftest').REPO + '/projects/gap_study/tools')
import ap_per_iou  # noqa: E402

#: one image, two classes, a 20 px box each
GT = dict(images=[dict(id=1, width=100, height=100, file_name='a.png')],
          categories=[dict(id=1, name='one'), dict(id=2, name='two')],
          annotations=[dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 20, 20], area=400,
                            iscrowd=0),
                       dict(id=2, image_id=1, category_id=2, bbox=[40, 40, 20, 20], area=400,
                            iscrowd=0)])
#: class 1 exact, class 2 boxed 16.6 px high: IoU 0.83
DETS = [dict(image_id=1, category_id=1, bbox=[10, 10, 20, 20], score=0.9),
        dict(image_id=1, category_id=2, bbox=[40, 40, 20, 16.6], score=0.8)]


def write(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


def test_table_averages_seeds_and_shares_out_the_gap(tmp_path):
    ann = write(tmp_path / 'gt.json', GT)
    exact = [dict(d, bbox=GT['annotations'][i]['bbox']) for i, d in enumerate(DETS)]
    snn0 = write(tmp_path / 'snn0.bbox.json', DETS)  # AP 1 up to IoU 0.8, 0.5 above
    snn1 = write(tmp_path / 'snn1.bbox.json', DETS[:1])  # class 2 missed: AP 0.5 everywhere
    ann_ = write(tmp_path / 'ann.bbox.json', exact)  # AP 1 everywhere
    doc = tmp_path / 'doc.md'
    doc.write_text('# doc\n\n<!-- ap -->\nold\n<!-- /ap -->\n\ntail\n')
    plot = tmp_path / 'fig' / 'ap.png'
    text = ap_per_iou.main([ann, f'SNN={snn0},{snn1}', f'twin={ann_}', '--pair', 'SNN:twin',
                            '--out', str(doc), '--marker', 'ap', '--plot', str(plot)])
    rows = {ln.split('|')[1].strip(): [c.strip() for c in ln.split('|')[2:-1]]
            for ln in text.splitlines()[2:]}
    snn = [float(c) for c in rows['SNN'][1:]]
    assert rows['SNN'][0] == '2' and rows['twin'][0] == '1'
    assert snn[:7] == [0.75] * 7 and snn[7:10] == [0.5] * 3  # IoU 0.50-0.80 | 0.85-0.95
    assert float(rows['SNN'][-1]) == pytest.approx((7 * 0.75 + 3 * 0.5) / 10, abs=5e-4)
    assert [float(c) for c in rows['twin'][1:-1]] == [1.0] * 10
    shares = [float(c) for c in rows['share of the mAP gap (SNN / twin)'][1:-1]]
    assert shares == pytest.approx([0.25 / 3.25] * 7 + [0.5 / 3.25] * 3, abs=5e-4)
    assert rows['twin − SNN'][-1] == '+0.325'
    assert rows['SNN/twin'][-1] == '0.675'
    written = doc.read_text()
    assert written.startswith('# doc\n\n<!-- ap -->\n| run |') and 'old' not in written
    assert written.endswith('<!-- /ap -->\n\ntail\n')
    assert plot.stat().st_size > 1000


def test_bad_arguments_name_what_is_expected(tmp_path):
    ann = write(tmp_path / 'gt.json', GT)
    res = write(tmp_path / 'r.bbox.json', DETS)
    with pytest.raises(SystemExit, match='LABEL=JSON'):
        ap_per_iou.main([ann, res])
    with pytest.raises(SystemExit, match='LOW:HIGH with two run labels'):
        ap_per_iou.main([ann, f'a={res}', '--pair', 'a:b'])
    with pytest.raises(SystemExit, match='ann_file .* is not a file'):
        ap_per_iou.main([str(tmp_path / 'none.json'), f'a={res}'])
    with pytest.raises(SystemExit, match='a: .*missing.json.*outfile_prefix'):
        ap_per_iou.main([ann, f'a={tmp_path}/missing.json'])
    with pytest.raises(SystemExit, match='labels must be distinct'):
        ap_per_iou.main([ann, f'a={res}', f'a={res}'])
