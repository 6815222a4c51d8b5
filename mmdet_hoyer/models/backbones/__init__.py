from .hoyer_resnet import HoyerResNet
from .hoyer_ssd_vgg import HoyerSSDVGG
from .hoyer_vgg import HoyerVGG

__all__ = ['HoyerVGG', 'HoyerSSDVGG', 'HoyerResNet']
