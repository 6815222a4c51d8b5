"""Preprocessed detector inputs for an image, exactly as MMDetection's inference builds them."""
from typing import List, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import Compose, pseudo_collate
from torch import Tensor, nn

ImageLike = Union[str, np.ndarray]


def preprocess_images(model: nn.Module, images: Sequence[ImageLike]) -> Tuple[Tensor, List]:
    """``(inputs, data_samples)`` for ``images`` (paths or BGR arrays): the config's test
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
    items = [pipeline(dict(img=img, img_id=i) if arrays else dict(img_path=img, img_id=i))
             for i, img in enumerate(images)]
    data = model.data_preprocessor(pseudo_collate(items), False)
    return data['inputs'], data['data_samples']


def first_test_images(cfg, n: int) -> List[str]:
    """The image paths of the first ``n`` samples of ``cfg``'s test set."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return [dataset.get_data_info(i)['img_path'] for i in range(min(n, len(dataset)))]


def load_for_export(config: str, checkpoint: str, out: str, suffix: str,
                    images: Sequence[str] = None, num_images: int = 2, cfg_options=None):
    """What an export tool starts from, its arguments checked with errors that name them:
    ``(cfg, model, images, inputs, data_samples)`` — the config (``cfg_options`` merged), the
    eval model on the CPU, the check images (``images``, else the first ``num_images`` of the
    test set) and their preprocessed batch. Raises ``ValueError`` for a bad argument."""
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
    return cfg, model, list(images), inputs, data_samples
