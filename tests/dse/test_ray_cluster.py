"""`--executor ray` on a real two-node Ray cluster on this machine: a small simulator
co-design equals the serial run's, also when the worker node is killed mid-run (its tasks
are retried on the head node, never recorded twice)."""

from __future__ import annotations

import sqlite3

import pytest
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.nested import SwConfig
from dlac.passes.mapping import ConvLayer, MatmulLayer

from .ray_cluster import ENV, LocalCluster

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    mp = pytest.MonkeyPatch()
    for k, v in ENV.items():
        mp.setenv(k, v)
    c = LocalCluster()
    try:
        yield c
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.stop()
        mp.undo()


#: layers large enough that a task takes a good fraction of a second on the simulator, so
#: the worker node is mid-task when it is killed
MODELS = {"m": [(ConvLayer("conv", batch=1, in_channels=64, out_channels=64, in_rows=56,
                           in_cols=56, kernel_rows=3, kernel_cols=3, padding=1), 2),
                (MatmulLayer("fc", i=512, j=1024, k=1024), 1)]}


def _opts(space, path, **kw) -> Options:
    return Options(space=space, searcher="dabo", evaluator="sim", budget=Budget(evaluations=6),
                   seed=3, sw=SwConfig("batch", samples=8), db_path=path, progress=False,
                   validate="none", **kw)


def _summary(result) -> tuple:
    return ([t.result.to_dict() for t in result.trials], result.best.to_dict(),
            result.default_best.to_dict())


def _trial_rows(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    finally:
        con.close()


def test_ray_cluster_equals_serial_and_survives_a_lost_node(cluster, small_space,
                                                            tmp_path) -> None:
    models = MODELS
    serial = autotune(models, _opts(small_space, tmp_path / "serial.sqlite"))

    ray.init(address=cluster.address, log_to_driver=False)  # the executor joins this session
    try:
        cluster.wait_for_cpus(ray, 2)
        on_ray = autotune(models, _opts(small_space, tmp_path / "ray.sqlite",
                                        executor="ray", ray_address=cluster.address))
        assert on_ray.execution["executor"] == "ray" and on_ray.execution["workers"] == 2
        assert _summary(on_ray) == _summary(serial)

        alive_at_kill = []

        def kill_worker(trial) -> None:
            if not alive_at_kill:
                alive_at_kill.append(cluster.worker.poll() is None)
                cluster.kill_worker()

        db = tmp_path / "killed.sqlite"
        survived = autotune(models, _opts(small_space, db, executor="ray",
                                          ray_address=cluster.address), on_trial=kill_worker)
    finally:
        ray.shutdown()
    assert alive_at_kill == [True]
    assert _summary(survived) == _summary(serial)
    assert _trial_rows(db) == len(serial.trials)
