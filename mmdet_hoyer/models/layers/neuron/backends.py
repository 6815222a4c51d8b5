"""The neuron's training-step backends behind one table, one contract (:mod:`.step`).

========== ==================================================== ===========================
``impl``   what runs                                            where it can
========== ==================================================== ===========================
``torch``  eager ATen ops (:mod:`.backend_torch`), the readable everywhere
           reference
``cpp``    fused C++ CPU kernels (:mod:`.backend_cpp`): two      CPU tensors, with a C++
           passes forward, one backward                         compiler (built on first use)
``compile`` the same maths fused by ``torch.compile``             a C++ compiler (CPU) or
           (:mod:`.backend_compile`)                            Triton (CUDA)
``auto``   per device the implementation measured fastest:      –
           ``cpp`` on CPU when it builds (else ``torch``, with
           a one-time warning), ``torch`` on CUDA
========== ==================================================== ===========================

All give the same spikes and gradients up to the float32 rounding of the sums (tested).
"""
import warnings
from typing import Callable, Dict, Optional

import torch

from . import backend_compile, backend_cpp, backend_torch
from .step import StepResult

TrainStep = Callable[..., StepResult]

#: impl -> (the backend's step, why it cannot run for a device or None)
BACKENDS: Dict[str, tuple] = {
    'torch': (backend_torch.step, lambda device: None),
    'cpp': (backend_cpp.step, backend_cpp.unavailable_reason),
    'compile': (backend_compile.step, backend_compile.unavailable_reason),
}
IMPLS = ('auto', ) + tuple(BACKENDS)


def unavailable_reason(impl: str, device: torch.device) -> Optional[str]:
    """Why backend ``impl`` cannot run on ``device`` tensors here, or None."""
    return BACKENDS[impl][1](device)


def check_impl(impl: str) -> str:
    """``impl`` after its one check (``ValueError`` naming the choices)."""
    if impl not in IMPLS:
        raise ValueError(f'HoyerSpike: impl must be one of {IMPLS}, got {impl!r}')
    return impl


def resolve_impl(impl: str, device: torch.device) -> str:
    """The backend ``impl`` (checked: :func:`check_impl`) trains with on ``device`` (``'auto'``
    resolved). ``RuntimeError`` saying why when an explicit backend cannot run there."""
    if impl == 'auto':
        if device.type != 'cpu':
            return 'torch'
        reason = unavailable_reason('cpp', device)
        if reason is not None:
            # once per process and reason (warnings' default filter)
            warnings.warn(f"HoyerSpike(impl='auto'): the fused CPU kernels cannot run here "
                          f'({reason}); training with the eager neuron (same results, slower: '
                          'docs/results/benchmarks.md)', stacklevel=3)
            return 'torch'
        return 'cpp'
    reason = unavailable_reason(impl, device)
    if reason is not None:
        raise RuntimeError(f'HoyerSpike: impl={impl!r} cannot run here: {reason}; use '
                           "impl='torch' (or 'auto', which falls back to it)")
    return impl


def train_step(impl: str, device: torch.device) -> TrainStep:
    """The step function of :func:`resolve_impl`'s backend."""
    return BACKENDS[resolve_impl(impl, device)][0]
