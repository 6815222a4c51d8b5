"""The .dat reader and writer against the format and against a maintained decoder."""
import numpy as np
import pytest

from mmdet_hoyer.datasets.events.dat_file import (EVENT_DTYPE, DatFile, EventFileError,
                                                   read_header, write_dat)


def make_events(n=5000, width=304, height=240, seed=0):
    rng = np.random.RandomState(seed)
    ev = np.zeros(n, EVENT_DTYPE)
    ev['t'] = np.sort(rng.randint(0, 3_000_000, n))
    ev['x'], ev['y'], ev['p'] = rng.randint(0, width, n), rng.randint(0, height, n), rng.randint(0, 2, n)
    return ev


def test_header_and_layout_follow_the_format(tmp_path):
    ev = make_events(3)
    path = str(tmp_path / 'rec_td.dat')
    write_dat(path, ev, 304, 240)
    raw = open(path, 'rb').read()
    header_end = raw.index(b'% Width 304\n') + len(b'% Width 304\n')
    assert raw[:header_end].count(b'% ') == 5
    assert raw[header_end:header_end + 2] == bytes([0, 8])  # event type, event size
    words = np.frombuffer(raw[header_end + 2:], '<u4').reshape(-1, 2)
    assert (words[:, 0] == ev['t']).all()
    # x bits 0-13, y bits 14-27, polarity bit 28
    assert (words[:, 1] & 0x3FFF == ev['x']).all()
    assert ((words[:, 1] >> 14) & 0x3FFF == ev['y']).all()
    assert ((words[:, 1] >> 28) == ev['p']).all()
    h = read_header(path)
    assert (h.width, h.height, h.version, h.num_events) == (304, 240, 2, 3)


def test_expelliarmus_reads_what_we_write_and_we_read_what_it_writes(tmp_path):
    expelliarmus = pytest.importorskip('expelliarmus')
    ev = make_events()
    ours = str(tmp_path / 'ours_td.dat')
    write_dat(ours, ev, 304, 240)
    theirs = expelliarmus.Wizard(encoding='dat').read(ours)
    for k in 't', 'x', 'y', 'p':
        np.testing.assert_array_equal(theirs[k], ev[k])
    # and its writer's file through our reader (its header has no size lines: pass the sensor)
    path = str(tmp_path / 'theirs_td.dat')
    expelliarmus.Wizard(encoding='dat').save(path, theirs)
    back = DatFile(path, sensor_size=(304, 240)).window(0, 2 ** 32)
    for k in 't', 'x', 'y', 'p':
        np.testing.assert_array_equal(back[k], ev[k])


def test_window_is_the_half_open_time_slice(tmp_path):
    ev = make_events(20000)
    path = str(tmp_path / 'rec_td.dat')
    write_dat(path, ev, 304, 240)
    f = DatFile(path)
    for t0, t1 in [(0, 50_000), (1_234_567, 1_284_567), (2_990_000, 3_100_000), (-5, 10)]:
        got = f.window(t0, t1)
        want = ev[(ev['t'] >= t0) & (ev['t'] < t1)]
        np.testing.assert_array_equal(got, want)
    assert f.time_range == (int(ev['t'][0]), int(ev['t'][-1]))
    # the reader memory-maps: the window is found without reading the file
    assert isinstance(f._raw, np.memmap)


def corrupt(tmp_path, name, mutate):
    path = str(tmp_path / name)
    write_dat(path, make_events(10), 304, 240)
    raw = bytearray(open(path, 'rb').read())
    open(path, 'wb').write(bytes(mutate(raw)))
    return path


def test_bad_files_are_clear_errors_naming_the_file(tmp_path):
    truncated = corrupt(tmp_path, 'trunc_td.dat', lambda r: r[:-3])
    with pytest.raises(EventFileError, match='trunc_td.dat: truncated or corrupt'):
        DatFile(truncated)
    no_header = corrupt(tmp_path, 'raw_td.dat', lambda r: r[r.index(b'% Width 304\n') + 12:])
    with pytest.raises(EventFileError, match='raw_td.dat: not a Prophesee .dat file'):
        DatFile(no_header)

    def evt3(r):
        i = r.index(b'% Width 304\n') + 12
        r[i] = 12
        return r
    with pytest.raises(EventFileError, match='event type 12 of 8 bytes is not supported'):
        DatFile(corrupt(tmp_path, 'evt_td.dat', evt3))
    with pytest.raises(EventFileError, match='header says 304x240'):
        DatFile(corrupt(tmp_path, 'size_td.dat', lambda r: r), sensor_size=(1280, 720))
    with pytest.raises(FileNotFoundError, match='missing_td.dat'):
        DatFile(str(tmp_path / 'missing_td.dat'))


def test_corrupt_events_are_errors_not_wrong_samples(tmp_path):
    ev = make_events(100)
    ev['t'][50] = 0  # a timestamp going back
    path = str(tmp_path / 'back_td.dat')
    with pytest.raises(ValueError, match='time order'):
        write_dat(path, ev, 304, 240)
    ev = make_events(100)
    write_dat(path, ev, 304, 240)
    raw = bytearray(open(path, 'rb').read())
    end = raw.index(b'% Width 304\n') + 14
    raw[end + 8 * 10 + 4:end + 8 * 10 + 8] = np.uint32(400).tobytes()  # x = 400 > 303
    open(path, 'wb').write(bytes(raw))
    with pytest.raises(EventFileError, match='outside the 304x240 sensor'):
        DatFile(path).window(0, 2 ** 32)


def test_consecutive_windows_tile_the_recording_exactly(tmp_path):
    # events sharing timestamps at the window edges: each lands in exactly one window
    ev = make_events(30000)
    ev['t'] = np.sort(np.random.RandomState(1).randint(0, 200_000, len(ev)))
    path = str(tmp_path / 'rec_td.dat')
    write_dat(path, ev, 304, 240)
    f = DatFile(path)
    edges = np.unique(np.r_[0, np.random.RandomState(2).randint(1, 200_000, 40),
                            ev['t'][::997], 200_001])
    parts = [f.window(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
    np.testing.assert_array_equal(np.concatenate(parts), ev)
    assert sum(len(p) for p in parts) == len(ev)
