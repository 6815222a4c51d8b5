"""Common base of the analysis recorders: hooks on a list of named layers while attached."""
from typing import Callable, Iterable, Tuple

from torch import nn


class LayerHookRecorder:
    """Registers ``self._hook(name)`` on every ``(name, module)`` of ``layers`` while attached —
    as a forward hook, or as a forward pre-hook when the subclass sets ``pre = True`` — and
    removes them on :meth:`detach`. Use as a context manager or call attach/detach."""

    pre: bool = False

    def __init__(self, layers: Iterable[Tuple[str, nn.Module]]) -> None:
        self.layers = list(layers)
        self._handles: list = []

    def _hook(self, name: str) -> Callable:
        raise NotImplementedError

    def attach(self):
        self.detach()
        for name, m in self.layers:
            register = m.register_forward_pre_hook if self.pre else m.register_forward_hook
            self._handles.append(register(self._hook(name)))
        return self

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()
