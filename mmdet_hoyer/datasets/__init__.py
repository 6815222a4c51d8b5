from .box_crops import BoxCropsDataset
from .digits_detection import CLASSES as DIGITS_CLASSES
from .digits_detection import make_digits_detection

__all__ = ['make_digits_detection', 'DIGITS_CLASSES', 'BoxCropsDataset']
