"""Event-camera data: Prophesee's file formats, the evaluation protocol, representations and
the simulator behind the bundled event demo (pure numpy; the registered dataset, transforms and
metric build on these)."""
from .box_labels import BBOX_DTYPE, load_boxes, save_boxes
from .dat_file import EVENT_DTYPE, DatFile, EventFileError, read_header, write_dat
from .protocol import CAMERAS, Camera, get_camera

__all__ = ['BBOX_DTYPE', 'load_boxes', 'save_boxes', 'EVENT_DTYPE', 'DatFile', 'EventFileError',
           'read_header', 'write_dat', 'CAMERAS', 'Camera', 'get_camera']
