"""ConfuciuX's policy network (the paper's Figure 4): an encoder per input, linear layers
to the hidden size, an LSTM over the layers of the episode, and a linear head per action.

The LSTM carries what was decided for earlier layers into the next layer's choice, which
layer-sequential assignment needs: the design is the running maximum of all choices.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]


class LstmPolicy(nn.Module):
    """Three input encoders, a three-layer trunk, an LSTM cell and one head per action
    (ten linear layers with the default four actions)."""

    def __init__(self, obs_dims: Sequence[int], sizes: Sequence[int], *, embed: int = 32,
                 hidden: int = 128) -> None:
        super().__init__()
        self.sizes = tuple(sizes)
        self.hidden = hidden
        self.encoders = nn.ModuleList(nn.Sequential(nn.Linear(d, embed), nn.ReLU())
                                      for d in obs_dims)
        self.trunk = nn.Sequential(nn.Linear(embed * len(obs_dims), hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, n) for n in self.sizes)

    def start(self, batch: int) -> State:
        zeros = torch.zeros(batch, self.hidden)
        return zeros, zeros.clone()

    def step(self, inputs: Sequence[torch.Tensor], state: State) -> tuple[torch.Tensor, State]:
        """Logits of every action (B, sum(sizes)) for one layer, and the new state."""
        z = torch.cat([enc(x) for enc, x in zip(self.encoders, inputs, strict=True)], dim=-1)
        h, c = self.lstm(self.trunk(z), state)
        return torch.cat([head(h) for head in self.heads], dim=-1), (h, c)
