"""ConfuciuX and ConfuciuX-TF: policy shapes, one shared design per episode within the
area budget, determinism, resume, the CLI end to end and the zero-episode budget."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from dlac.dse.domains import HwDomain
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.errors import DseError
from dlac.dse.evaluators import make_evaluator
from dlac.dse.models.features import WorkloadProfile
from dlac.dse.nested import NestedEvaluator, SwConfig
from dlac.dse.search import make_searcher, parse_options
from dlac.dse.search.confuciux.env import GemminiEnv
from dlac.dse.search.confuciux.finetune_ga import FineTuneGA
from dlac.dse.search.confuciux.policy_lstm import LstmPolicy
from dlac.dse.search.confuciux.policy_tf import TransformerPolicy
from dlac.dse.search.confuciux.reinforce import Reinforce
from dlac.ir.hwcost import area_mm2

from .conftest import interrupted_then_resumed, run_dlac, tiny_models

SW = SwConfig("batch", samples=100)
NAMES = ["confuciux", "confuciux-tf"]
BENCH = Path(__file__).parents[1] / "bench" / "bench_confuciux.py"


def _problem(space) -> tuple[HwDomain, NestedEvaluator]:
    models = {"tiny": tiny_models()["tiny"]}
    nested = NestedEvaluator(models, make_evaluator("analytical"), SW)
    grid = space.grid()
    feasible = grid.widest_bus(grid.feasible(nested.layers()))
    profile = WorkloadProfile.from_layers(models["tiny"])
    return HwDomain(grid, feasible, profile), nested


def _toy(domain: HwDomain, x: np.ndarray) -> float:
    """A cheap objective with an interior optimum (a mid-sized array, big buffers)."""
    t = domain.target(x)
    return abs(np.log2(t.dim) - 3) - 0.01 * (t.sp_kib + t.acc_kib) / 8


@pytest.mark.parametrize("policy", [LstmPolicy, TransformerPolicy,
                                    partial(TransformerPolicy, context="step")])
def test_policy_output_shapes(policy) -> None:
    sizes = (3, 12, 12, 2)
    net = policy((7, 4, 1), sizes)
    state = net.start(5)
    for _ in range(3):
        logits, state = net.step([torch.zeros(5, 7), torch.zeros(5, 4), torch.zeros(5, 1)],
                                 state)
        assert logits.shape == (5, sum(sizes))
    if isinstance(net, TransformerPolicy):
        assert len(state) == (3 if net.context == "episode" else 1)
        assert state[0].shape == (5, 16)
        layers = net.encoder.layers
        assert len(layers) == 2 and layers[0].self_attn.num_heads == 2
        assert layers[0].linear1.out_features == 128 and layers[0].dropout.p == 0.3
    else:
        assert state[0].shape == (5, 128)


def test_episodes_compose_to_one_design_within_budget(small_space) -> None:
    domain, nested = _problem(small_space)
    env = GemminiEnv(domain, nested.layers())
    agent = Reinforce(lambda: LstmPolicy(env.obs_dims, env.sizes), 0, 0.01)
    episodes = agent.sample(env, 16)
    assert episodes.logp.shape == (16,) and episodes.logp.requires_grad
    for levels, violated in zip(episodes.levels, episodes.violated, strict=True):
        assert bool(env.within_budget(levels[None, :])[0]) != violated
        if not violated:
            target = domain.target(env.point(levels))
            assert area_mm2(target) <= small_space.area_budget_mm2 * (1 + 1e-12)
    running = np.array([[-1, -1, -1, -1]])
    a = env.compose(running, np.array([[0, 5, 1, 0]]))
    b = env.compose(a, np.array([[2, 1, 3, 0]]))
    assert b[0, :3].tolist() == [2, 5, 3]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finetune_ga_children_are_feasible_and_seeded(small_space, seed: int) -> None:
    """Crossover and every mutation (DIM step, buffer scaling, dataflow) end on a feasible
    grid point within the area budget; the same Generator seed gives the same children."""
    domain, nested = _problem(small_space)
    env = GemminiEnv(domain, nested.layers())
    ranked = [domain.encode_target(domain.grid.target(int(i))) for i in domain.feasible[:4]]
    feasible = {int(i) for i in domain.feasible}

    def children(s: int) -> list[np.ndarray]:
        ga = FineTuneGA(env, np.random.default_rng(s), population=32, elite=0.5, mutation=1.0)
        return ga.generation(ranked)

    kids = children(seed)
    for x in kids:
        assert domain.index(x) in feasible
        assert area_mm2(domain.target(x)) <= small_space.area_budget_mm2 * (1 + 1e-12)
    assert [tuple(x) for x in kids] == [tuple(x) for x in children(seed)]


def _asks(name: str, seed: int, space, n: int = 14, tells: int | None = None,
          replay: list | None = None) -> list[tuple]:
    domain, nested = _problem(space)
    s = make_searcher(name, domain, seed)
    s.prepare(nested, Budget(evaluations=n))
    asked: list[tuple] = []
    while len(asked) < n:
        xs = s.ask_batch(n - len(asked))
        assert xs
        for x in xs:
            asked.append(tuple(x))
        for x in xs:
            s.tell(x, _toy(domain, x))
    return asked


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed(small_space, name: str) -> None:
    a = _asks(name, 3, small_space)
    assert a == _asks(name, 3, small_space)
    assert a != _asks(name, 4, small_space)
    assert len(set(a)) == len(a)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    _asks(name, 3, small_space)
    assert torch.rand(1) == before, "the agent must not touch the global torch RNG"


def _opts(space, tmp_path, name: str, n: int, **kw) -> Options:
    return Options(space=space, searcher=name, budget=Budget(evaluations=n), seed=1, sw=SW,
                   db_path=tmp_path / "db.sqlite", progress=False, validate="none", **kw)


@pytest.mark.parametrize("name", NAMES)
def test_resume_equals_uninterrupted(models, small_space, tmp_path, name: str) -> None:
    full = autotune(models, _opts(small_space, tmp_path / "a", name, 10))
    assert full.searcher.stage == "ga" and full.searcher.rl_evaluations == 7

    resumed = interrupted_then_resumed(models, _opts(small_space, tmp_path / "b", name, 10), at=5)
    assert resumed.resumed_trials == 6
    assert [t.result.target for t in resumed.trials] == [t.result.target for t in full.trials]
    assert resumed.best.objective == full.best.objective


def test_zero_rl_episodes_is_one_line(models, small_space, tmp_path) -> None:
    with pytest.raises(DseError, match="leaves zero RL episodes at ga_fraction=0.3; give at "
                                       "least 2"):
        autotune(models, _opts(small_space, tmp_path, "confuciux", 1))
    assert not (tmp_path / "db.sqlite").exists()
    with pytest.raises(DseError, match="wall-clock budget needs episodes=N"):
        autotune(models, Options(**{**_opts(small_space, tmp_path, "confuciux-tf", 1).__dict__,
                                    "budget": Budget(seconds=5)}))
    domain = _problem(small_space)[0]
    with pytest.raises(DseError, match="confuciux-tf: batch must be >= 2"):
        make_searcher("confuciux-tf", domain, 0, **parse_options("confuciux-tf", ["batch=1"]))
    with pytest.raises(DseError, match="context must be one of episode, step"):
        make_searcher("confuciux-tf", domain, 0, context="all")
    with pytest.raises(DseError, match="searcher 'confuciux' has no option 'context'"):
        parse_options("confuciux", ["context=step"])


def test_cli_smoke_emits_bit_exact_c(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_dlac(tmp_path, "zoo:mlp", "--autotune", "--searcher", "confuciux", "--budget", "4",
                 "-o", str(out), "--db", str(tmp_path / "t.sqlite"), "--no-progress",
                 "--sim-check", "none")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["bit_exact"] is True
    assert (out / "model.c").exists()


def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert set(data["rows"]) == set(NAMES) and "tf_edp_improvement" in data["claims"]


def test_cli_zero_episode_budget(tmp_path: Path) -> None:
    proc = run_dlac(tmp_path, "zoo:mlp", "--autotune", "--searcher", "confuciux-tf", "--budget",
                 "1", "-o", str(tmp_path / "out"), "--db", str(tmp_path / "t.sqlite"))
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlac: error: confuciux-tf: a budget of 1")
