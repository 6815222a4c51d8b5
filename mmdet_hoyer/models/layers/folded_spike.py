"""``FoldedSpike``: the eval-mode Hoyer neuron as one compare-and-cast, for export."""
from torch import Tensor, nn

from .hoyer_functional import channel_view, folded_threshold
from .hoyer_spike import HoyerSpike


class FoldedSpike(nn.Module):
    """``o = 1[z ≥ T]`` cast to ``z``'s dtype, with ``T`` a constant buffer.

    Built from a trained :class:`HoyerSpike` with :meth:`from_neuron`: ``T`` is its eval
    threshold ``|θ|·E`` (running extremum) folded exactly (:func:`folded_threshold`), so the
    spikes equal the neuron's eval spikes bit for bit. Inference only: no surrogate gradient,
    no statistics, no training behaviour. An exported graph holds it as ``GreaterOrEqual`` +
    ``Cast`` with ``T`` an initializer.
    """

    def __init__(self, threshold: Tensor) -> None:
        super().__init__()
        self.register_buffer('threshold', threshold.detach().float().clone())

    @classmethod
    def from_neuron(cls, neuron: HoyerSpike) -> 'FoldedSpike':
        """Fold a trained neuron's eval threshold (its running extremum times ``|θ|``)."""
        return cls(folded_threshold(neuron.theta_abs, neuron.extremum()))

    def forward(self, z: Tensor) -> Tensor:
        return (z >= channel_view(self.threshold, z.dim())).to(z.dtype)

    def extra_repr(self) -> str:
        n = self.threshold.numel()
        return f'threshold={self.threshold.item():.6g}' if n == 1 else f'channels={n}'
