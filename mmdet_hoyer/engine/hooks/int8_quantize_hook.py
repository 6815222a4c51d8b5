"""Post-training int8 quantization at test time (:mod:`mmdet_hoyer.deployment.int8`)."""
import copy

import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmdet.registry import HOOKS
from mmdet_hoyer.deployment.int8 import activation_quantizer, quantize_weights_

from .spiking_layers import unwrap


@HOOKS.register_module()
class Int8QuantizeHook(Hook):
    """Before the test loop, quantize the loaded model's conv/linear weights to 8 bits (per
    output channel, symmetric) and, with ``activations``, every such layer's input to 8 bits
    per tensor, its range calibrated on ``calib_images`` training images read with the test
    pipeline. Spike maps are binary and stay exact. The test loop then measures what int8
    costs, with the config's own metric.

    Args:
        activations: also quantize layer inputs (the ANN twin's int8 deployment).
        calib_images: training images for the activation ranges (> 0).
        bits: weight and activation width (2-8).
    """

    priority = 'VERY_HIGH'  # before any hook that reads the model in before_test

    def __init__(self, activations: bool = False, calib_images: int = 64, bits: int = 8) -> None:
        if not (isinstance(calib_images, int) and calib_images > 0):
            raise ValueError(f'Int8QuantizeHook: calib_images must be a positive int, got '
                             f'{calib_images!r}')
        if not (isinstance(bits, int) and 2 <= bits <= 8):
            raise ValueError(f'Int8QuantizeHook: bits must be an int in [2, 8], got {bits!r}')
        self.activations = bool(activations)
        self.calib_images = calib_images
        self.bits = bits
        self.quantizer = None

    def before_test(self, runner) -> None:
        model = unwrap(runner)
        changes = quantize_weights_(model, self.bits)
        runner.logger.info(f'Int8QuantizeHook: {len(changes)} conv/linear weights quantized to '
                           f'{self.bits} bits per channel (largest change '
                           f'{max(changes.values(), default=0.0):.2e})')
        if not self.activations:
            return
        self.quantizer = activation_quantizer(model, self.bits)
        loader = Runner.build_dataloader(self._calibration_loader(runner.cfg))
        seen = 0
        model.eval()
        with torch.no_grad(), self.quantizer.calibrating():
            for batch in loader:
                data = model.data_preprocessor(batch, False)
                model(data['inputs'], mode='tensor')
                seen += data['inputs'].shape[0]
                if seen >= self.calib_images:
                    break
        self.quantizer.attach()
        runner.logger.info(f'Int8QuantizeHook: activation ranges of {len(self.quantizer.high)} '
                           f'layers calibrated on {seen} training images')

    def after_test(self, runner) -> None:
        if self.quantizer is not None:
            self.quantizer.detach()

    @staticmethod
    def _calibration_loader(cfg) -> dict:
        """The test loader's settings over the training set (test pipeline: no augmentation)."""
        dataset = copy.deepcopy(cfg.train_dataloader.dataset)
        while 'dataset' in dataset:  # a wrapper (RepeatDataset, ...): its inner set
            dataset = dataset['dataset']
        dataset['pipeline'] = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
        loader = copy.deepcopy(cfg.test_dataloader)
        loader['dataset'] = dataset
        loader['sampler'] = dict(type='DefaultSampler', shuffle=False)
        return loader
