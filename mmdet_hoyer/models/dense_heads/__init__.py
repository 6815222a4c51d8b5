from .box_voting_mixin import BoxVotingMixin
from .membrane_yolov3_head import MembraneYOLOV3Head
from .patched_ssd_head import PatchedSSDHead
from .voting_yolov3_head import VotingYOLOV3Head

__all__ = ['BoxVotingMixin', 'MembraneYOLOV3Head', 'PatchedSSDHead', 'VotingYOLOV3Head']
