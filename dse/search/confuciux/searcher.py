"""`confuciux` and `confuciux-tf`: ConfuciuX's RL agent (REINFORCE, LSTM or transformer
policy) assigning Gemmini's resources layer by layer, then GA fine-tuning.

An episode is one pass over the unique layers and yields one shared design (env.py); its
design is evaluated by the driver like any other searcher's point (the nested layer
search). `ask_batch` returns the fresh designs of one batch of `batch` episodes, which the
driver evaluates in parallel; once all are told the policy takes one REINFORCE step.

Reward: the paper's R = P_t - P_min if the area budget holds, else Penalty. The driver
tells one objective per design (log of the models' EDP, or latency/energy), not per layer,
so the per-step performance P_t collapses to one terminal reward, P = -objective of the
episode's design; P_min is the worst P found so far, so a design's return is >= 0. An
episode that breaks the budget is not evaluated (it costs no evaluation) and gets the
Penalty, which in the paper cancels its per-step rewards so far; there, the steps before
the violation still keep a positive reward-to-go that grows with how long the budget
held, which is what teaches a fresh policy to stay within it. With one terminal reward
that signal is gone (a fresh policy's running maximum over ResNet-50's 24 layers breaks
the edge budget in every episode, so all returns tie and nothing is learnt), so a
violation returns -(layers left unassigned) / layers: below every design, and better the
later it happened. A design that no layer mapping could run (objective inf) returns 0.

Budget: the RL stage spends `(1 - ga_fraction)` of an evaluation budget (or `episodes`
evaluations, which a wall-clock budget needs), counting evaluated episodes; episodes
whose design was already evaluated reuse its value for free. The GA stage (finetune_ga.py)
takes the rest, and also takes over early when `patience` batches in a row propose no new
design (the policy has converged).

Resume: everything follows from the seed and the tells (numpy Generator for the GA, the
agent's own torch state for the policy), so replaying stored tells reproduces the asks.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...errors import DseError
from ...registry import SEARCHERS
from ..base import HW_CONFIG, Domain, SearchConfig, Searcher
from .env import GemminiEnv
from .finetune_ga import FineTuneGA
from .policy_lstm import LstmPolicy
from .policy_tf import CONTEXTS, TransformerPolicy
from .reinforce import Episodes, Policy, Reinforce


@SEARCHERS.register("confuciux")
class ConfuciuX(Searcher):
    """REINFORCE with ConfuciuX's LSTM policy, then GA fine-tuning."""

    name = "confuciux"

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                 batch: int = 4, lr: float = 0.01, ga_fraction: float = 0.3,
                 population: int = 8, elite: float = 0.25, mutation: float = 0.3,
                 episodes: int = 0, patience: int = 20) -> None:
        super().__init__(domain, seed, config)
        checks = [(batch >= 2, f"batch must be >= 2 episodes, got {batch}"),
                  (lr > 0, f"lr must be positive, got {lr}"),
                  (0 <= ga_fraction < 1, f"ga_fraction must be in [0, 1), got {ga_fraction}"),
                  (population >= 1, f"population must be >= 1, got {population}"),
                  (0 < elite <= 1, f"elite must be in (0, 1], got {elite}"),
                  (0 <= mutation <= 1, f"mutation must be in [0, 1], got {mutation}"),
                  (episodes >= 0, f"episodes must be >= 0, got {episodes}"),
                  (patience >= 1, f"patience must be >= 1, got {patience}")]
        for ok, message in checks:
            if not ok:
                raise DseError(f"{self.name}: {message}")
        self.batch, self.lr, self.ga_fraction = batch, lr, ga_fraction
        self.population, self.elite, self.mutation = population, elite, mutation
        self.episodes, self.patience = episodes, patience
        self.env: GemminiEnv | None = None
        self.agent: Reinforce | None = None
        self.ga: FineTuneGA | None = None
        self.rl_budget = 0
        self.rl_evaluations = 0
        self.stage = "rl"
        self._stale = 0
        self._values: dict[bytes, float] = {}
        self._points: dict[bytes, np.ndarray] = {}
        self._open: tuple[Episodes, list[bytes | None], np.ndarray] | None = None
        self._waiting: set[bytes] = set()
        self.policy_seconds = 0.0
        """Time in the agent (sampling and updates), for the per-iteration comparison."""
        self.episodes_sampled = 0

    # ------------------------------------------------------------------ driver hooks
    def prepare(self, nested: Any, budget: Any) -> None:
        """Builds the environment from the layers and splits the budget; rejects a budget
        that leaves no RL episode."""
        evaluations = budget.evaluations
        if self.episodes:
            self.rl_budget = self.episodes
        elif evaluations is None:
            raise DseError(f"{self.name}: a wall-clock budget needs episodes=N (the RL "
                           "episodes before GA fine-tuning)")
        else:
            self.rl_budget = int(evaluations * (1 - self.ga_fraction))
        if self.rl_budget < 1:
            least = next(n for n in range(1, 1 << 20) if int(n * (1 - self.ga_fraction)) >= 1)
            raise DseError(f"{self.name}: a budget of {evaluations} evaluations leaves zero RL "
                           f"episodes at ga_fraction={self.ga_fraction:g}; give at least "
                           f"{least}")
        self.env = GemminiEnv(self.domain, nested.layers())
        env = self.env
        self.agent = Reinforce(lambda: self._policy(env), self.seed, self.lr)
        self.ga = FineTuneGA(env, self.rng, population=self.population, elite=self.elite,
                             mutation=self.mutation)

    def _policy(self, env: GemminiEnv) -> Policy:
        return LstmPolicy(env.obs_dims, env.sizes)

    def ask(self) -> np.ndarray | None:
        xs = self.ask_batch(1)
        return xs[0] if xs else None

    def ask_batch(self, n: int) -> list[np.ndarray]:
        if self.env is None:
            raise DseError(f"{self.name} needs the driver's prepare(nested, budget) first")
        if self.stage == "rl":
            xs = self._ask_rl(n)
            if xs:
                return xs
            self.stage = "ga"
        return self._ask_ga(n)

    def tell(self, x: np.ndarray, y: float) -> None:
        super().tell(x, y)
        key = self.domain.keys(np.atleast_2d(x))[0]
        self._values.setdefault(key, float(y))
        self._points.setdefault(key, np.asarray(x, dtype=np.float64))
        self._waiting.discard(key)
        if self._open is not None and not self._waiting:
            self._learn()

    # ------------------------------------------------------------------ RL stage
    def _ask_rl(self, n: int) -> list[np.ndarray]:
        """Fresh designs of the next batch of episodes (at most n and the RL budget left);
        batches with none are learnt from at once, up to `patience` in a row."""
        assert self.env is not None and self.agent is not None
        while self.rl_evaluations < self.rl_budget and self._stale < self.patience:
            left = min(n, self.rl_budget - self.rl_evaluations)
            t0 = time.perf_counter()
            episodes = self.agent.sample(self.env, self.batch)
            self.policy_seconds += time.perf_counter() - t0
            self.episodes_sampled += self.batch
            keys: list[bytes | None] = []
            fresh: dict[bytes, np.ndarray] = {}
            keep = np.ones(self.batch, dtype=bool)
            for i in range(self.batch):
                if episodes.violated[i]:
                    keys.append(None)
                    continue
                x = self.env.point(episodes.levels[i])
                key = self.domain.keys(x[None, :])[0]
                keys.append(key)
                if key in self._values or key in fresh:
                    continue
                if len(fresh) < left:
                    fresh[key] = x
                else:
                    keep[i] = False
            self._open = (episodes, keys, keep)
            if fresh:
                self._stale = 0
                self.rl_evaluations += len(fresh)
                self._waiting = set(fresh)
                return list(fresh.values())
            self._stale += 1
            self._learn()
        return []

    def _learn(self) -> None:
        """The paper's reward per kept episode of the open batch, then one update."""
        assert self._open is not None and self.agent is not None
        episodes, keys, keep = self._open
        self._open = None
        finite = [v for v in self._values.values() if np.isfinite(v)]
        worst = max(finite) if finite else 0.0
        returns = []
        steps = self.env.steps if self.env is not None else 1
        for i in np.flatnonzero(keep):
            if keys[i] is None:
                returns.append(-(steps - int(episodes.survived[i])) / steps)
                continue
            y = self._values[keys[i]]
            returns.append(worst - y if np.isfinite(y) else 0.0)
        t0 = time.perf_counter()
        self.agent.update(episodes.logp[np.flatnonzero(keep)], np.array(returns))
        self.policy_seconds += time.perf_counter() - t0

    # ------------------------------------------------------------------ GA stage
    def _ask_ga(self, n: int) -> list[np.ndarray]:
        """Unseen children of the next generation (at most n); after `patience`
        generations without one, an unseen random feasible point."""
        assert self.ga is not None
        ranked = sorted(self._values, key=lambda k: self._values[k])
        points = [self._points[k] for k in ranked]
        if points:
            for _ in range(self.patience):
                fresh: dict[bytes, np.ndarray] = {}
                for x in self.ga.generation(points):
                    key = self.domain.keys(x[None, :])[0]
                    if key not in self._values and key not in fresh and len(fresh) < n:
                        fresh[key] = x
                if fresh:
                    return list(fresh.values())
        rest = self._unseen(self.domain.candidates(self.config.n_candidates, self.rng))
        return [rest[0]] if len(rest) else []


@SEARCHERS.register("confuciux-tf")
class ConfuciuXTF(ConfuciuX):
    """ConfuciuX-TF: the same agent with the transformer-encoder policy."""

    name = "confuciux-tf"

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                 batch: int = 4, lr: float = 0.01, ga_fraction: float = 0.3,
                 population: int = 8, elite: float = 0.25, mutation: float = 0.3,
                 episodes: int = 0, patience: int = 20, context: str = "episode") -> None:
        if context not in CONTEXTS:
            raise DseError(f"{self.name}: context must be one of {', '.join(CONTEXTS)}, "
                           f"got {context!r}")
        self.context = context
        super().__init__(domain, seed, config, batch=batch, lr=lr, ga_fraction=ga_fraction,
                         population=population, elite=elite, mutation=mutation,
                         episodes=episodes, patience=patience)

    def _policy(self, env: GemminiEnv) -> Policy:
        return TransformerPolicy(env.obs_dims, env.sizes, context=self.context)
