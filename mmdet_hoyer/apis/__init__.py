from .inference_events import (event_frame, event_window_us, events_window, inference_events,
                               inference_sample, sample_picture)

__all__ = ['inference_events', 'inference_sample', 'events_window', 'event_frame',
           'event_window_us', 'sample_picture']
