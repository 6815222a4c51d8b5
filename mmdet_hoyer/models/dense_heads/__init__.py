from .membrane_yolov3_head import MembraneYOLOV3Head
from .patched_ssd_head import PatchedSSDHead

__all__ = ['MembraneYOLOV3Head', 'PatchedSSDHead']
