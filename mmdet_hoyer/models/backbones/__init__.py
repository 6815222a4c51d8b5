from .hoyer_resnet import HoyerResNet
from .hoyer_vgg import HoyerVGG

__all__ = ['HoyerVGG', 'HoyerResNet']
