from .patched_ssd_head import PatchedSSDHead

__all__ = ['PatchedSSDHead']
