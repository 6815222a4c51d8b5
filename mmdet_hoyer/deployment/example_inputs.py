"""Preprocessed detector inputs for an image (or a window of events), exactly as MMDetection's
inference builds them."""
from typing import List, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import Compose, pseudo_collate
from torch import Tensor, nn

#: an image path, a BGR array, or a dataset sample (an event window: its ``data_info``)
ImageLike = Union[str, np.ndarray, dict]


def preprocess_images(model: nn.Module, images: Sequence[ImageLike]) -> Tuple[Tensor, List]:
    """``(inputs, data_samples)`` for ``images`` (paths, BGR arrays, or the ``data_info`` dicts
    of an event dataset's samples, which the pipeline reads as they are): the config's test
    pipeline (``model.cfg``, as :func:`mmdet.apis.init_detector` sets it) and the model's
    data preprocessor, as :func:`mmdet.apis.inference_detector` runs them. ``inputs`` is the
    normalised, padded ``(N, 3, H, W)`` batch the exported graph takes."""
    from mmdet.utils import get_test_pipeline_cfg
    if not hasattr(model, 'cfg'):
        raise ValueError('preprocess_images: the model has no .cfg; build it with '
                         'mmdet.apis.init_detector(config, checkpoint)')
    pipeline_cfg = get_test_pipeline_cfg(model.cfg.copy())
    arrays = isinstance(images[0], np.ndarray)
    if arrays:
        pipeline_cfg[0].type = 'mmdet.LoadImageFromNDArray'
    pipeline = Compose(pipeline_cfg)
    items = [pipeline(dict(img) if isinstance(img, dict) else
                      dict(img=img, img_id=i) if arrays else dict(img_path=img, img_id=i))
             for i, img in enumerate(images)]
    data = model.data_preprocessor(pseudo_collate(items), False)
    return data['inputs'], data['data_samples']


def first_test_images(cfg, n: int) -> List[ImageLike]:
    """The image paths of the first ``n`` samples of ``cfg``'s test set; for an event dataset
    (its samples carry a ``timestamp``) the samples themselves."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    infos = [dataset.get_data_info(i) for i in range(min(n, len(dataset)))]
    if infos and 'timestamp' in infos[0]:
        return infos
    return [d['img_path'] for d in infos]


def describe(image: ImageLike) -> str:
    """How a report names a check input: its path, or ``<recording>@<t>us`` for a window."""
    if isinstance(image, dict):
        return f"{image['img_path']}@{image['timestamp']}us"
    return image if isinstance(image, str) else f'array{tuple(image.shape)}'


def load_for_export(config: str, checkpoint: str, out: str, suffix: str,
                    images: Sequence[str] = None, num_images: int = 2, cfg_options=None):
    """What an export tool starts from, its arguments checked with errors that name them:
    ``(cfg, model, images, inputs, data_samples)`` — the config (``cfg_options`` merged), the
    eval model on the CPU, the check images' names (``images``, else the first ``num_images``
    of the test set: windows of events for an event-camera config) and their preprocessed
    batch. Raises ``ValueError`` for a bad argument."""
    import os.path as osp
    from mmdet.apis import init_detector
    from mmengine.config import Config
    from mmdet_hoyer.utils import check_data_paths
    if not out.endswith(suffix):
        raise ValueError(f'--out must name a {suffix} file, got {out!r}')
    if not osp.isfile(checkpoint):
        raise ValueError(f'checkpoint {checkpoint!r} is not a file')
    if num_images < 1:
        raise ValueError(f'--num-images must be >= 1, got {num_images}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    from mmdet_hoyer.apis import event_window_us
    if images and event_window_us(cfg) is not None:
        raise ValueError('--images: an event-camera config reads windows of its test set; '
                         'choose how many with --num-images')
    if images:
        missing = [p for p in images if not osp.isfile(p)]
        if missing:
            raise ValueError(f'--images: not a file: {", ".join(missing)}')
    else:
        try:
            check_data_paths(cfg, splits=('test', ))
        except FileNotFoundError as e:
            raise ValueError(f'{e} (or pass --images)') from None
        images = first_test_images(cfg, num_images)
    model = init_detector(cfg, checkpoint, device='cpu')
    inputs, data_samples = preprocess_images(model, images)
    return cfg, model, [describe(x) for x in images], inputs, data_samples
