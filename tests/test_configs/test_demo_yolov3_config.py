"""The demo YOLOv3 configs (and the demo SSD's 40-epoch copy): train batches of the test size
(its time budget on 2 CPU cores rests on it); from-scratch default and the anneal option; the
skip at both widths; the 40-epoch and VOC copies."""
import pytest
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmdet.registry import DATASETS, MODELS


def batch_shape(cfg: Config, dataloader_cfg: Config, data_root: str, training: bool):
    """Shape of one batch of the whole (tiny) split after the pipeline and the model's
    data preprocessor (which pads the batch to a multiple of 32), and the image shapes."""
    dataset_cfg = dataloader_cfg.dataset.copy()
    dataset_cfg.data_root = data_root + '/'
    dataset = DATASETS.build(dataset_cfg)
    samples = [dataset[i] for i in range(len(dataset))]
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    out = preprocessor(pseudo_collate(samples), training=training)
    return tuple(out['inputs'].shape[-2:]), [s['data_samples'].img_shape for s in samples]


def test_demo_train_batches_are_padded_to_the_test_size(repo_root, tiny_digits):
    """Multi-scale training up to the test size only. YOLOv3 pads every batch to a multiple of
    32: one image with a long side above 128 px would pad the whole batch to 160 px, 1.56x the
    pixels per step (the demo's scales once went up to 144 px: 1.35 instead of 0.82 s/step)."""
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    test_shape, _ = batch_shape(cfg, cfg.test_dataloader, tiny_digits, training=False)
    assert test_shape == tuple(cfg.input_size) == (128, 128)

    train_shape, img_shapes = batch_shape(cfg, cfg.train_dataloader, tiny_digits, training=True)
    assert len(img_shapes) == 24  # the tiny set's 128-160 px images, random scales each
    assert train_shape == test_shape, img_shapes
    long_sides = [max(s) for s in img_shapes]
    assert max(long_sides) <= 128
    assert min(long_sides) < 124, 'the train scales should vary below the test size'


def test_demo_trains_from_scratch_and_the_anneal_is_an_option(repo_root):
    """The default demo SNN has membrane shortcuts in backbone and neck and no warm-up; the
    anneal config adds the ReLU-to-spike anneal, ending in binary spikes before training ends."""
    from mmdet_hoyer.models.layers import MembraneShortcutStage
    from mmdet_hoyer.models.necks.hoyer_yolo_neck import MembraneDetectionBlock
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    assert 'SpikeWarmupHook' not in [h['type'] for h in cfg.custom_hooks]
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    convs, pool5 = model.backbone.stages[:5], model.backbone.stages[5:]
    assert all(isinstance(s, MembraneShortcutStage) for s in convs)
    # tap_before_pool: a sixth stage max-pools conv5_3's spikes, without parameters
    assert len(pool5) == 1 and not list(pool5.parameters())
    assert all(isinstance(getattr(model.neck, f'detect{i}'), MembraneDetectionBlock)
               for i in (1, 2, 3))
    anneal = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_anneal_digits.py')
    hooks = {h['type']: h for h in anneal.custom_hooks}
    assert hooks['SpikeWarmupHook']['ramp'] == 'relu'
    assert hooks['SpikeWarmupHook']['end'] < anneal.train_cfg.max_epochs
    assert anneal.model == Config.fromfile(
        f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py').model


def test_head_reads_out_the_bridge_membrane(repo_root):
    """Membrane read-out: the head's 3x3 bridge convs read the neck's spikes and hand their BN
    output (analog) to the 1x1 predictions; the head has no neuron. The ANN twin's bridges are
    conv + BN + ReLU."""
    import torch

    from mmdet_hoyer.models.layers import HoyerSpike
    cfg = Config.fromfile(f'{repo_root}/configs/demo/yolov3_hoyer_vgg_digits.py')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.eval()
    head = model.bbox_head
    assert not any(isinstance(m, HoyerSpike) for m in head.modules())
    assert any(isinstance(m, HoyerSpike) for m in model.neck.modules())
    torch.manual_seed(0)
    for m in head.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    feats = model.neck(model.backbone(torch.rand(1, 3, 128, 128)))
    assert all(((f == 0) | (f == 1)).all() for f in feats)  # the bridges read spikes
    seen = []
    hooks = [p.register_forward_pre_hook(lambda mod, a: seen.append(a[0]))
             for p in head.convs_pred]
    head(feats)
    for h in hooks:
        h.remove()
    for f, bridge, x in zip(feats, head.convs_bridge, seen):
        # the prediction conv's input is exactly BN(conv(spikes)): negative values included
        bn_out = bridge.bn(bridge.conv(f))
        assert torch.equal(x, bn_out) and (x < 0).any() and not ((x == 0) | (x == 1)).all()
    ann = Config.fromfile(f'{repo_root}/configs/demo/yolov3_relu_vgg_digits.py')
    assert ann.model.bbox_head.act_cfg == dict(type='ReLU')


@pytest.mark.parametrize('width', ['', '_w05'])
def test_demo_head_reads_the_backbone_past_the_neck(repo_root, width):
    """The demo YOLOv3 and its half-width backbone variant: the
    neck reads conv4_3 / conv5_3 before their pools at strides 8 / 16 / 32, each level hands the
    head its own binary map followed by the backbone's, and the head's bridges are built for
    those widths. The twin is the same network with ReLU: every conv and BN has the same
    shape."""
    import torch

    def build(name):
        """The config, its stage-1 checkpoint and the model built without loading it."""
        cfg = Config.fromfile(f'{repo_root}/configs/demo/{name}')
        stage1 = cfg.model.backbone.init_cfg.checkpoint
        cfg.model.backbone.init_cfg = None
        return cfg, stage1, MODELS.build(cfg.model).eval()

    cfg, snn_stage1, snn = build(f'yolov3_hoyer_vgg{width}_digits.py')
    assert snn.backbone.tap_before_pool and snn.neck.backbone_skip
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        body = snn.backbone(x)
        feats = snn.neck(body)
        assert [f.shape[-1] for f in body] == [16, 8, 4]  # strides 8, 16, 32
        assert [b.shape[1] for b in body] == [int(512 * cfg.model.backbone.widen_factor)] * 3
        assert all(((f == 0) | (f == 1)).all() for f in feats)
        for f, b, bridge in zip(feats, body[::-1], snn.bbox_head.convs_bridge):
            assert f.shape[1] == bridge.conv.in_channels
            assert torch.equal(f[:, -b.shape[1]:], b)  # the backbone map comes last
        snn.bbox_head(feats)  # the bridges accept the concatenation
    ann_cfg, ann_stage1, ann = build(f'yolov3_relu_vgg{width}_digits.py')
    assert ann_cfg.model.backbone.act_cfg == dict(type='ReLU')
    # each network starts from its own stage 1, at its width
    assert [snn_stage1, ann_stage1] == [f'work_dirs/demo_{n}_cls{width}/iter_800.pth'
                                        for n in ('snn', 'ann')]

    snn_shapes = {k: tuple(v.shape) for k, v in snn.state_dict().items()}
    ann_shapes = {k: tuple(v.shape) for k, v in ann.state_dict().items()}
    # the twin is the SNN less its neurons' buffers (threshold, running extremum)
    neuron = ('.threshold', '.running_extremum')
    assert ann_shapes == {k: v for k, v in snn_shapes.items() if not k.endswith(neuron)}


@pytest.mark.parametrize('net', ['hoyer', 'relu'])
@pytest.mark.parametrize('detector,data', [('yolov3', 'digits'), ('yolov3', 'digits-voc'),
                                           ('ssd160', 'digits')])
def test_40_epoch_configs_change_the_budget_and_nothing_else(repo_root, detector, data, net):
    """The *_40e_* configs (the budget of the rows closest to the accuracy goals; the SSD's COCO
    goals hold there) are their 20-epoch configs with the epochs and the cosine's end at 40:
    same network, data, optimiser, hooks and evaluator, SNN and twin alike."""
    base = Config.fromfile(f'{repo_root}/configs/demo/{detector}_{net}_vgg_{data}.py')
    long = Config.fromfile(f'{repo_root}/configs/demo/{detector}_{net}_vgg_40e_{data}.py')
    assert (base.train_cfg.max_epochs, long.train_cfg.max_epochs) == (20, 40)
    assert [s['end'] for s in long.param_scheduler] == [200, 40]  # warm-up in iterations
    assert [s['end'] for s in base.param_scheduler] == [200, 20]
    long.train_cfg.max_epochs = 20
    long.param_scheduler[1]['end'] = 20
    for key in ('model', 'train_cfg', 'param_scheduler', 'optim_wrapper', 'train_dataloader',
                'test_dataloader', 'test_evaluator', 'custom_hooks', 'default_hooks'):
        assert long.get(key) == base.get(key), key


@pytest.mark.parametrize('width', ['', '_w05'])
def test_voc_copies_change_the_data_and_nothing_else(repo_root, width):
    """The *_digits-voc configs are their COCO-format configs on the VOC-layout copy of the
    digits: same network, schedule, optimiser and hooks, SNN and twin alike; the two widths read
    the same VOC data and score it with the same VOCMetric (11-point)."""
    voc_data = set()
    for net in ('hoyer', 'relu'):
        coco = Config.fromfile(f'{repo_root}/configs/demo/yolov3_{net}_vgg{width}_digits.py')
        voc = Config.fromfile(f'{repo_root}/configs/demo/yolov3_{net}_vgg{width}_digits-voc.py')
        for key in ('model', 'train_cfg', 'param_scheduler', 'optim_wrapper', 'custom_hooks',
                    'default_hooks', 'randomness'):
            assert voc.get(key) == coco.get(key), (net, key)
        assert voc.train_dataloader.dataset.type == 'VOCDataset'
        assert voc.train_dataloader.dataset.pipeline == coco.train_dataloader.dataset.pipeline
        assert voc.test_dataloader.dataset.pipeline == coco.test_dataloader.dataset.pipeline
        assert voc.test_evaluator[0] == dict(type='VOCMetric', metric='mAP', eval_mode='11points')
        voc_data.add(repr((voc.train_dataloader, voc.test_dataloader, voc.test_evaluator)))
    assert len(voc_data) == 1  # SNN and twin: the same data and metric
