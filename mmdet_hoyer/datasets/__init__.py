from .box_crops import BoxCropsDataset
from .digits_detection import CLASSES as DIGITS_CLASSES
from .digits_detection import make_digits_detection
from .voc_export import coco_to_voc

__all__ = ['make_digits_detection', 'coco_to_voc', 'DIGITS_CLASSES', 'BoxCropsDataset']
