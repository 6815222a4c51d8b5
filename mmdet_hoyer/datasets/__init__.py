from .digits_detection import CLASSES as DIGITS_CLASSES
from .digits_detection import make_digits_detection
from .imagenet_crops import coco_to_imagenet_crops, square_crop
from .prophesee_det_dataset import PropheseeDetDataset
from .transforms import EventHistogram, EventVoxelGrid, LoadPropheseeEvents
from .voc_export import coco_to_voc

__all__ = ['make_digits_detection', 'coco_to_voc', 'coco_to_imagenet_crops', 'square_crop',
           'DIGITS_CLASSES', 'PropheseeDetDataset', 'LoadPropheseeEvents', 'EventHistogram',
           'EventVoxelGrid']
