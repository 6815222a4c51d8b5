import io
from collections import OrderedDict
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmdet_hoyer  # noqa: F401  (allow-lists MMEngine's checkpoint classes on import)


class _GetAttr:

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


def roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf)  # weights_only=True: torch's default since 2.6


def test_message_hub_history_buffers_load_with_weights_only():
    buf = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buf.update(v)
    loaded = roundtrip({'log_scalars': {'train/loss': buf}, 'w': torch.ones(2)})
    assert loaded['log_scalars']['train/loss'].mean() == pytest.approx(7 / 3)


@pytest.mark.parametrize('obj, name', [(HistoryBuffer, '__init__'), (OrderedDict, 'fromkeys'),
                                       (HistoryBuffer, '_set_default_statistics')])
def test_getattr_is_restricted_to_public_history_buffer_methods(obj, name):
    with pytest.raises(pickle.UnpicklingError):
        roundtrip({'x': _GetAttr(obj, name)})
