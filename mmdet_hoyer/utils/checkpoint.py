"""Let torch >= 2.6 load MMEngine checkpoints with ``weights_only=True``.

torch 2.6 made ``torch.load(weights_only=True)`` the default. MMEngine 0.10.7 calls
``torch.load`` without the argument and stores its message hub (``HistoryBuffer`` objects
holding numpy arrays) in every checkpoint, so ``load_from``, ``--resume`` and ``tools/test.py``
fail with "Weights only load failed ... HistoryBuffer". Instead of turning the safe loader off
(``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``), this allow-lists exactly the classes MMEngine writes;
anything else in a file is still refused by torch's restricted unpickler.

One of them needs care: a ``HistoryBuffer`` pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``. Allow-listing the builtin ``getattr`` would let a crafted
file reach any attribute of any allowed object, so the name ``builtins.getattr`` is bound to
:func:`_history_buffer_getattr`, which only resolves public attributes of ``HistoryBuffer``.
"""
import pickle

import numpy as np
import torch


def _numpy_globals() -> list:
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = [type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int8, np.int16,
                                          np.int32, np.int64, np.uint8, np.bool_)]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtypes]


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to the public methods of MMEngine's ``HistoryBuffer``."""
    from mmengine.logging import HistoryBuffer
    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and isinstance(name, str) \
            and not name.startswith('_') and callable(getattr(obj, name, None)):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer methods are allowed')


def allow_mmengine_checkpoints() -> None:
    """Allow-list MMEngine's checkpoint contents for torch's ``weights_only`` unpickler."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4: weights_only is not the default, nothing to do
        return
    from mmengine.logging import HistoryBuffer
    add([HistoryBuffer, *_numpy_globals(), (_history_buffer_getattr, 'builtins.getattr')])
