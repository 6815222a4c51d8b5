from .box_voting import box_voting, check_box_voting
from .membrane_shortcut import MembraneShortcutStage
from .multistep_lif import MultiStepLIF, lif_multistep
from .neuron import *  # noqa: F401,F403  (the Hoyer neuron, its maths, backends and switches)
from .neuron import __all__ as _neuron_all

__all__ = ['box_voting', 'check_box_voting', 'MembraneShortcutStage', 'MultiStepLIF', 'lif_multistep'] + list(_neuron_all)
