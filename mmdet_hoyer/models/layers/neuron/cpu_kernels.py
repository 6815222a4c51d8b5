"""Build and load the fused CPU kernels of the Hoyer neuron (``csrc/hoyer_spike_cpu.cpp``), the
``cpp`` backend's operators (:mod:`.backend_cpp`).

The kernels are compiled once per torch version and Python (``torch.utils.cpp_extension``, about
20 s on 2 cores; ``make setup`` does it) into ``$MMDET_HOYER_CACHE/ops`` (default
``~/.cache/mmdet-hoyer/ops``) and registered under ``torch.ops.mmdet_hoyer``: ``hoyer_forward``
(moments, extremum, regularizer, running update and spikes in one call), ``hoyer_moments`` (the
first pass alone, for distributed training), ``hoyer_spike_map`` (``1[u ≥ E]``, for saved-spike
recomputation) and ``hoyer_backward``. A changed source is rebuilt on its next load.
"""
import functools
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Optional

import torch

SOURCE = Path(__file__).resolve().parent / 'csrc' / 'hoyer_spike_cpu.cpp'
LIBRARY = 'mmdet_hoyer_cpu_ops'


def build_directory() -> Path:
    """Where the compiled library is kept: per torch version and Python version."""
    root = Path(os.environ.get('MMDET_HOYER_CACHE', Path.home() / '.cache' / 'mmdet-hoyer'))
    tag = f'torch{torch.__version__}-cp{sys.version_info[0]}{sys.version_info[1]}'
    return root / 'ops' / tag.replace('+', '_')


def _build_search_path() -> Optional[str]:
    """``PATH`` for the build, with the pip package's ``ninja`` when none is on ``PATH`` (a
    virtualenv's ``bin`` is not on it unless activated, e.g. under ``.venv/bin/python``); None
    when there is no ninja at all."""
    path = os.environ.get('PATH', '')
    if shutil.which('ninja') is not None:
        return path
    try:
        import ninja
    except ImportError:
        return None
    return os.pathsep.join([ninja.BIN_DIR, path]) if path else ninja.BIN_DIR


@functools.lru_cache(maxsize=None)
def _build_and_load() -> Optional[str]:
    """Compile (if needed) and load the library once per process; the reason it failed, or None."""
    cxx = os.environ.get('CXX', 'c++')
    if shutil.which(cxx) is None:
        return f'no C++ compiler ({cxx!r} not found) to build {SOURCE.name}'
    search_path = _build_search_path()
    if search_path is None:
        return f'ninja is needed to build {SOURCE.name} (pip install ninja)'
    try:
        # importing cpp_extension on a machine without CUDA logs 'No CUDA runtime is found': it
        # does not concern a CPU-only build, so keep it out of training logs
        log = logging.getLogger('torch.utils.cpp_extension')
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            from torch.utils.cpp_extension import load
        finally:
            log.setLevel(level)
        directory = build_directory()
        directory.mkdir(parents=True, exist_ok=True)
        path = os.environ.get('PATH')
        os.environ['PATH'] = search_path  # torch runs `ninja` from PATH
        try:
            load(name=LIBRARY, sources=[str(SOURCE)], build_directory=str(directory),
                 extra_cflags=['-O3', '-DNDEBUG', '-fopenmp'], extra_ldflags=['-fopenmp'],
                 is_python_module=False, verbose=False)
        finally:
            if path is None:
                os.environ.pop('PATH', None)
            else:
                os.environ['PATH'] = path
    except Exception as exc:  # a compiler error: report it, the caller decides what to do
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f'building {SOURCE.name} failed ({first}); see {build_directory()}'
    return None


def hoyer_cpu_ops_unavailable_reason() -> Optional[str]:
    """Why the fused CPU kernels cannot run in this process (building them on first call), or
    ``None`` when ``torch.ops.mmdet_hoyer`` holds them."""
    return _build_and_load()


def hoyer_cpu_ops():
    """``torch.ops.mmdet_hoyer`` with the fused CPU kernels (built on first use)."""
    reason = _build_and_load()
    if reason is not None:
        raise RuntimeError(f'mmdet_hoyer fused CPU kernels unavailable: {reason}')
    return torch.ops.mmdet_hoyer
