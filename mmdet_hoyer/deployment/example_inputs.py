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
