"""ConfuciuX-TF's policy network (Choi and Hong, Figure 5): the three inputs concatenated
into one linear layer, a transformer encoder over the layers seen so far in the episode,
and one linear layer to the action logits.

The paper's settings: d_model 16, feed-forward 128, 2 heads, 2 layers, dropout 0.3, no
positional encoding (the inputs carry the layer index as the action status) and no
embedding layer (equal values of different inputs must not share an embedding). What the
encoder attends over is `context`: "episode" (default) is the episode's steps so far (so
no causal mask is needed), which gives it the memory of earlier layers the LSTM has but
reruns the encoder over the prefix at every step; "step" is the current step alone, one
token, which makes the encoder a feed-forward network with residuals and layer norms,
cheaper per step (the paper does not say which of the two it ran).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

State = list[torch.Tensor]
CONTEXTS = ("episode", "step")


class TransformerPolicy(nn.Module):
    """Linear in, transformer encoder, linear out (two linear layers)."""

    def __init__(self, obs_dims: Sequence[int], sizes: Sequence[int], *, d_model: int = 16,
                 d_hid: int = 128, nhead: int = 2, nlayers: int = 2,
                 dropout: float = 0.3, context: str = "episode") -> None:
        super().__init__()
        self.context = context
        self.sizes = tuple(sizes)
        self.inp = nn.Linear(sum(obs_dims), d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.out = nn.Linear(d_model, sum(self.sizes))

    def start(self, batch: int) -> State:
        return []

    def step(self, inputs: Sequence[torch.Tensor], state: State) -> tuple[torch.Tensor, State]:
        """Logits of every action (B, sum(sizes)) for the newest layer, and the prefix."""
        token = self.inp(torch.cat(list(inputs), dim=-1))
        prefix = [*state, token] if self.context == "episode" else [token]
        h = self.encoder(torch.stack(prefix, dim=1))
        return self.out(h[:, -1]), prefix
