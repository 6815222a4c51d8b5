"""``FoldedSpike``: the eval-mode Hoyer neuron as one compare-and-cast, for export."""
from torch import Tensor, nn

from .functional import channel_view, folded_firing_threshold
from .hoyer_spike import HoyerSpike


class FoldedSpike(nn.Module):
    """``o = 1[z ≥ T]`` cast to ``z``'s dtype, with ``T`` a constant buffer (``firing_threshold``).

    Built from a trained :class:`HoyerSpike` with :meth:`from_neuron`: ``T`` is its eval
    firing threshold ``|θ|·E`` (clip threshold times running extremum) folded exactly
    (:func:`folded_firing_threshold`), so the
    spikes equal the neuron's eval spikes bit for bit. Inference only: no surrogate gradient,
    no statistics, no training behaviour. An exported graph holds it as ``GreaterOrEqual`` +
    ``Cast`` with ``T`` an initializer.
    """

    def __init__(self, firing_threshold: Tensor) -> None:
        super().__init__()
        self.register_buffer('firing_threshold', firing_threshold.detach().float().clone())

    @classmethod
    def from_neuron(cls, neuron: HoyerSpike) -> 'FoldedSpike':
        """Fold a trained neuron's eval threshold (its running extremum times ``|θ|``)."""
        return cls(folded_firing_threshold(neuron.clip_threshold, neuron.extremum()))

    def forward(self, z: Tensor) -> Tensor:
        return (z >= channel_view(self.firing_threshold, z.dim())).to(z.dtype)

    def extra_repr(self) -> str:
        n = self.firing_threshold.numel()
        return (f'firing_threshold={self.firing_threshold.item():.6g}' if n == 1
                else f'channels={n}')
