from .hoyer_ssd_neck import HoyerSSDNeck
from .hoyer_yolo_neck import HoyerYOLOV3Neck

__all__ = ['HoyerYOLOV3Neck', 'HoyerSSDNeck']
