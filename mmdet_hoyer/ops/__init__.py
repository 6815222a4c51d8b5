"""Compiled operators of mmdet-hoyer (C++ sources in ``csrc/``, built on first use)."""
from .hoyer_spike_cpu import build_directory, hoyer_cpu_ops, hoyer_cpu_ops_unavailable_reason

__all__ = ['build_directory', 'hoyer_cpu_ops', 'hoyer_cpu_ops_unavailable_reason']
