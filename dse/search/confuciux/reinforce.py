"""REINFORCE over ConfuciuX's episodes: sample per-layer levels, learn from the returns.

An episode walks the layers; each step samples one level per action from the policy and
grows the running design (`GemminiEnv.compose`). A step whose running design exceeds the
area budget ends the episode (the paper's L_budget < 0 case). The update is the plain
policy gradient: minus the mean over the batch of log-probability times the episode's
return, returns standardised over the batch (a baseline that keeps the step size
independent of the objective's scale).

Determinism: the agent owns its torch random state (parameter initialisation from
`torch.manual_seed(seed)`, action sampling and the transformer's dropout), restored around
every use with `torch.random.fork_rng`, so it neither disturbs nor depends on any other
torch user in the process; torch runs on one thread with deterministic algorithms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ...models.threads import single_thread
from .env import GemminiEnv


class Policy(Protocol):
    """What the agent needs of a policy network (LstmPolicy, TransformerPolicy)."""

    sizes: tuple[int, ...]

    def start(self, batch: int) -> Any: ...

    def step(self, inputs: Sequence[torch.Tensor], state: Any) -> tuple[torch.Tensor, Any]: ...

    def parameters(self) -> Iterator[nn.Parameter]: ...


@dataclass
class Episodes:
    """A batch of sampled episodes: each one's final levels (B, 4), whether it broke the
    area budget, how many of its steps stayed within it, and its summed log-probability
    (with the graph, for the update)."""

    levels: np.ndarray
    violated: np.ndarray
    survived: np.ndarray
    logp: torch.Tensor


class Reinforce:
    """A policy, its Adam optimiser and its own torch random state."""

    def __init__(self, make_policy: Callable[[], Policy], seed: int, lr: float) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.policy = make_policy()
            self._rng = torch.get_rng_state()
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=lr)

    @contextmanager
    def _torch(self) -> Iterator[None]:
        deterministic = torch.are_deterministic_algorithms_enabled()
        with torch.random.fork_rng(devices=[]), single_thread():
            torch.set_rng_state(self._rng)
            torch.use_deterministic_algorithms(True)
            try:
                yield
            finally:
                self._rng = torch.get_rng_state()
                torch.use_deterministic_algorithms(deterministic)

    def sample(self, env: GemminiEnv, batch: int) -> Episodes:
        """`batch` episodes over all of `env`'s layers."""
        with self._torch():
            running = np.full((batch, len(env.sizes)), -1, dtype=np.int64)
            alive = np.ones(batch, dtype=bool)
            survived = np.zeros(batch, dtype=np.int64)
            logp = torch.zeros(batch)
            state = self.policy.start(batch)
            for step in range(env.steps):
                obs = env.observation(step, np.maximum(running, 0))
                logits, state = self.policy.step([torch.from_numpy(o) for o in obs], state)
                action, step_logp = _choose(logits, self.policy.sizes)
                logp = logp + torch.where(torch.tensor(alive), step_logp, 0.0)
                grown = env.compose(running, action)
                running = np.where(alive[:, None], grown, running)
                alive &= env.within_budget(running)
                survived += alive
            return Episodes(running, ~alive, survived, logp)

    def update(self, logp: torch.Tensor, returns: np.ndarray) -> bool:
        """One policy-gradient step on standardised returns; False (no step) when all
        returns are equal, since then no episode was better than another."""
        std = float(returns.std())
        if len(returns) < 2 or std == 0.0:
            return False
        adv = torch.from_numpy(((returns - returns.mean()) / std).astype(np.float32))
        with self._torch():
            self.optimizer.zero_grad()
            loss = -(logp * adv).mean()
            loss.backward()
            self.optimizer.step()
        return True


def _choose(logits: torch.Tensor, sizes: Sequence[int]) -> tuple[np.ndarray, torch.Tensor]:
    """One sampled level per action head, and the summed log-probability per row."""
    picks, logps = [], []
    for part in torch.split(logits, list(sizes), dim=-1):
        logprob = torch.log_softmax(part, dim=-1)
        pick = torch.multinomial(logprob.detach().exp(), 1)
        picks.append(pick.squeeze(1))
        logps.append(logprob.gather(1, pick).squeeze(1))
    return torch.stack(picks, dim=1).numpy(), torch.stack(logps, dim=1).sum(dim=1)
