"""Prophesee ``.dat`` event files (Gen1 and 1Mpx "td" files): read by time window, write.

The format, as Prophesee's automotive dataset toolbox reads and writes it
(``src/io/dat_events_tools.py``: ``parse_header``, ``write_header``, ``write_event_buffer``):

* text header lines, each starting with ``"% "`` (``% Version 2``, ``% Date ...``,
  ``% Height 240``, ``% Width 304``);
* one byte event type (0: ``Event2D``, a CD event) and one byte event size (8);
* then fixed-size events of two little-endian 32-bit words: the timestamp in µs (uint32),
  and x (bits 0-13), y (bits 14-27) and polarity (bit 28) packed into one int32.

Events are stored in time order, so a window ``[t0, t1)`` is one contiguous slice of the event
region. :class:`DatFile` memory-maps that region and finds the slice by binary search: a
window of a 60 s, ~100 MB Gen1 file reads a few pages, never the whole file. (``expelliarmus``
decodes the same files in C, but only sequentially, from the start or chunk after chunk; the
tests use it as the reference decoder of what this module writes and reads.)
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

#: decoded events: timestamp (µs), x, y, polarity (0 or 1)
EVENT_DTYPE = np.dtype([('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', 'u1')])
#: one event as stored (the toolbox's ``EV_TYPE = [('t', 'u4'), ('_', 'i4')]``)
RAW_DTYPE = np.dtype([('t', '<u4'), ('xyp', '<u4')])
#: the only event type the detection sets use: Event2D (CD events), 8 bytes each
EVENT_TYPE_CD, EVENT_SIZE_CD = 0, 8
_X_MASK, _Y_SHIFT, _Y_MASK, _P_SHIFT = 0x3FFF, 14, 0x3FFF, 28
#: x and y have 14 bits each
MAX_COORD = (1 << 14) - 1


class EventFileError(ValueError):
    """A ``.dat`` or ``_bbox.npy`` file that is not what the format says (the message names it)."""


@dataclass(frozen=True)
class DatHeader:
    """What a ``.dat`` header says, and where the events lie in the file."""
    path: str
    width: Optional[int]
    height: Optional[int]
    version: Optional[int]
    data_offset: int
    num_events: int


def read_header(path: str) -> DatHeader:
    """Parse the header of a ``.dat`` file; raise :class:`EventFileError` naming the file when
    it has no ``% `` header, another event type or size, or a truncated event region."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such event file')
    size = osp.getsize(path)
    fields = {}
    with open(path, 'rb') as f:
        lines = 0
        while True:
            start = f.tell()
            line = f.readline()
            if not line.startswith(b'% '):
                break
            lines += 1
            words = line[2:].decode('latin-1').split()
            if len(words) >= 2:
                fields[words[0]] = words[1]
        if lines == 0:
            raise EventFileError(
                f'{path}: not a Prophesee .dat file (no header line starting with "% "; '
                'expected "% Version 2", "% Height H", "% Width W", then the event type and size '
                'bytes)')
        f.seek(start)
        type_size = f.read(2)
    if len(type_size) < 2:
        raise EventFileError(f'{path}: truncated after the header (no event type and size bytes)')
    ev_type, ev_size = type_size[0], type_size[1]
    if ev_type != EVENT_TYPE_CD or ev_size != EVENT_SIZE_CD:
        raise EventFileError(
            f'{path}: event type {ev_type} of {ev_size} bytes is not supported (expected type '
            f'{EVENT_TYPE_CD}, Event2D / CD events, of {EVENT_SIZE_CD} bytes, as in Gen1 and 1Mpx)')
    data_offset = start + 2
    payload = size - data_offset
    if payload % EVENT_SIZE_CD:
        raise EventFileError(
            f'{path}: truncated or corrupt: {payload} bytes of events is not a multiple of '
            f'{EVENT_SIZE_CD} (the last event is cut off)')

    def number(key: str) -> Optional[int]:
        if key not in fields:
            return None
        try:
            return int(fields[key])
        except ValueError:
            raise EventFileError(f'{path}: header "% {key} {fields[key]}" is not an integer')

    return DatHeader(path=path, width=number('Width'), height=number('Height'),
                     version=number('Version'), data_offset=data_offset,
                     num_events=payload // EVENT_SIZE_CD)


def decode(raw: np.ndarray) -> np.ndarray:
    """Unpack stored events (:data:`RAW_DTYPE`) into :data:`EVENT_DTYPE`."""
    out = np.empty(len(raw), EVENT_DTYPE)
    xyp = raw['xyp']
    out['t'] = raw['t']
    out['x'] = xyp & _X_MASK
    out['y'] = (xyp >> _Y_SHIFT) & _Y_MASK
    out['p'] = (xyp >> _P_SHIFT) & 1
    return out


def encode(events: np.ndarray) -> np.ndarray:
    """Pack events (fields ``t``, ``x``, ``y``, ``p``) into :data:`RAW_DTYPE`."""
    raw = np.empty(len(events), RAW_DTYPE)
    raw['t'] = events['t']
    raw['xyp'] = (events['x'].astype(np.uint32) | (events['y'].astype(np.uint32) << _Y_SHIFT)
                  | ((events['p'] > 0).astype(np.uint32) << _P_SHIFT))
    return raw


class DatFile:
    """Random access to the events of one ``.dat`` file by time window.

    Args:
        path: the ``*_td.dat`` file.
        sensor_size: ``(width, height)`` to use when the header has no ``% Width`` /
            ``% Height`` lines (older files); a header that has them must agree.
    """

    def __init__(self, path: str, sensor_size: Optional[Tuple[int, int]] = None) -> None:
        self.header = read_header(path)
        self.path = path
        w, h = self.header.width, self.header.height
        if sensor_size is not None:
            if w is not None and h is not None and (w, h) != tuple(sensor_size):
                raise EventFileError(
                    f'{path}: header says {w}x{h} (width x height), the dataset expects '
                    f'{sensor_size[0]}x{sensor_size[1]}')
            w, h = sensor_size if w is None or h is None else (w, h)
        if w is None or h is None:
            raise EventFileError(f'{path}: the header has no "% Width" / "% Height" lines; pass '
                                 'the sensor size (the dataset\'s camera does)')
        self.width, self.height = int(w), int(h)
        self._raw = (np.memmap(path, RAW_DTYPE, mode='r', offset=self.header.data_offset,
                               shape=(self.header.num_events,))
                     if self.header.num_events else np.empty(0, RAW_DTYPE))

    def __len__(self) -> int:
        return self.header.num_events

    @property
    def time_range(self) -> Tuple[int, int]:
        """Timestamps (µs) of the first and the last event; ``(0, 0)`` for an empty file."""
        if not len(self):
            return 0, 0
        return int(self._raw['t'][0]), int(self._raw['t'][-1])

    def _first_at(self, t: int) -> int:
        """Index of the first event with timestamp >= ``t``: a binary search that reads one
        timestamp per step (``np.searchsorted`` would copy the strided column: the whole file)."""
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if int(self._raw[mid]['t']) < t:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def window(self, t_start: int, t_end: int) -> np.ndarray:
        """The events with ``t_start <= t < t_end`` (µs), decoded; checks that they are in time
        order and inside the sensor (a corrupt file is an error, not a wrong sample)."""
        lo, hi = self._first_at(t_start), self._first_at(t_end)
        events = decode(np.asarray(self._raw[lo:hi]))
        if len(events) > 1 and np.any(np.diff(events['t']) < 0):
            raise EventFileError(f'{self.path}: timestamps decrease inside [{t_start}, {t_end}) '
                                 'µs; the file is corrupt (events must be in time order)')
        if len(events) and (events['x'].max() >= self.width or events['y'].max() >= self.height):
            raise EventFileError(
                f'{self.path}: events at x={int(events["x"].max())}, y={int(events["y"].max())} '
                f'lie outside the {self.width}x{self.height} sensor; the file is corrupt')
        return events


def write_dat(path: str, events: np.ndarray, width: int, height: int,
              date: str = '2019-01-01 00:00:00') -> None:
    """Write events (fields ``t``, ``x``, ``y``, ``p``, in time order) as a Prophesee ``.dat``
    file with the header the toolbox's ``write_header`` writes."""
    if max(width, height) > MAX_COORD:
        raise ValueError(f'{path}: a {width}x{height} sensor exceeds the format\'s 14-bit '
                         'coordinates')
    if len(events) and np.any(np.diff(events['t'].astype(np.int64)) < 0):
        raise ValueError(f'{path}: events must be written in time order')
    if len(events) and (events['t'].min() < 0 or events['t'].max() > np.iinfo(np.uint32).max):
        raise ValueError(f'{path}: timestamps must fit in 32 bits of µs')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(('% Data file containing Event2D events.\n% Version 2\n'
                 f'% Date {date}\n% Height {height}\n% Width {width}\n').encode('latin-1'))
        f.write(bytes([EVENT_TYPE_CD, EVENT_SIZE_CD]))
        encode(events).tofile(f)
