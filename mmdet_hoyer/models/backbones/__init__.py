from .hoyer_vgg import HoyerVGG

__all__ = ['HoyerVGG']
