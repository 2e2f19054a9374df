"""The Ray executor: layer tasks as Ray tasks, on a cluster (`--ray-address HEAD:PORT`)
or, without an address, on a Ray instance started on this machine with `--jobs` CPUs.

Ray is optional (`pip install -e ".[ray]"`); this is the only module that imports it.
Each task needs one CPU and is retried by Ray when its worker or node dies
(`max_retries`), so a lost worker costs time, never a result: a task's outcome is a pure
function of the task and the driver receives exactly one outcome per task. Every node
needs dlac installed; the simulator library of a target is built once per node.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import DseError
from ..registry import EXECUTORS
from ..tasks import LayerOutcome, Task, run_task
from .base import Executor, check_jobs

try:
    import ray
except ImportError:  # optional dependency: reported when the executor is chosen
    ray = None

MAX_RETRIES = 5
LOCAL_OBJECT_STORE_BYTES = 100_000_000
CONNECT_TIMEOUT_S = 5.0


def _check_reachable(address: str) -> None:
    """A one-line error unless something listens at HOST:PORT (ray.init would otherwise
    retry for a long time and then raise a multi-line error)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise DseError(f"--ray-address {address!r} is not HOST:PORT (the head's address, "
                       "e.g. 10.0.0.1:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise DseError(f"--ray-address {address}: no Ray cluster answers there "
                       f"({err.strerror or err}); start its head with `ray start --head "
                       f"--port {port}` or omit --ray-address for a local Ray "
                       "instance") from None


@EXECUTORS.register("ray")
class RayExecutor(Executor):
    name = "ray"

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        if ray is None:
            raise DseError('--executor ray needs Ray, which is not installed: pip install '
                           '-e ".[ray]" (or pip install ray), or use --executor process')
        local_cpus = check_jobs(jobs)
        if address is not None and address != "auto":
            _check_reachable(address)
        self._owner = not ray.is_initialized()
        if self._owner:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": logging.ERROR}
            if address is None:
                kwargs.update(num_cpus=local_cpus,
                              object_store_memory=LOCAL_OBJECT_STORE_BYTES)
            try:
                ray.init(address=address, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as err:
                first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                raise DseError(f"--ray-address {address}: cannot join the Ray cluster "
                               f"({first})") from None
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(run_task)

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, LayerOutcome]]:
        refs = {self._remote.remote(task): i for i, task in enumerate(tasks)}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                yield refs[ref], ray.get(ref)

    def close(self) -> None:
        if self._owner and ray.is_initialized():
            ray.shutdown()
