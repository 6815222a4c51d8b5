from .box_voting_mixin import BoxVotingMixin
from .patched_ssd_head import PatchedSSDHead
from .voting_yolov3_head import VotingYOLOV3Head

__all__ = ['BoxVotingMixin', 'PatchedSSDHead', 'VotingYOLOV3Head']
