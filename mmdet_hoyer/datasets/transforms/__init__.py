from .event_representations import EventHistogram, EventVoxelGrid
from .loading_events import LoadPropheseeEvents

__all__ = ['LoadPropheseeEvents', 'EventHistogram', 'EventVoxelGrid']
