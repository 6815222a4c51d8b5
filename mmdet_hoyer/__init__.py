"""mmdet-hoyer: one-time-step spiking detectors trained with the Hoyer regularizer.

Importing the package (``custom_imports=dict(imports=['mmdet_hoyer'])`` in a config) registers
its modules in MMDetection's registries and lets torch >= 2.6 load MMEngine checkpoints.
"""
from .utils import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registers modules)

__all__ = ['__version__']
