from .output_distillation import flatten_tensors, output_distillation_loss

__all__ = ['flatten_tensors', 'output_distillation_loss']
