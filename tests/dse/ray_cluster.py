"""A real Ray cluster on this machine for tests: a head and one worker node process
(`ray start ... --block`, one CPU each, every port chosen free, a private temp dir),
each in its own process group so the test can stop (or kill) exactly what it started.
Token authentication is off: the cluster only listens on this machine and lives for one
test module."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
#: fast detection of a dead node, so a killed worker's tasks are retried within seconds
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_health_check_period_ms": "500",
       "RAY_health_check_timeout_ms": "500", "RAY_health_check_failure_threshold": "3"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_args() -> list[str]:
    ports = [free_port() for _ in range(7)]
    return ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats",
            "--object-store-memory", "80000000", "--block",
            "--node-manager-port", str(ports[0]), "--object-manager-port", str(ports[1]),
            "--metrics-export-port", str(ports[2]), "--dashboard-agent-listen-port",
            str(ports[3]), "--dashboard-agent-grpc-port", str(ports[4]),
            "--runtime-env-agent-port", str(ports[5]), "--min-worker-port", str(ports[6]),
            "--max-worker-port", str(ports[6] + 100)]


class LocalCluster:
    """Head plus one worker node; `address` is the head's HOST:PORT."""

    def __init__(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="dlacray", dir="/tmp")  # short: unix sockets
        self.env = {**os.environ, **ENV}
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        self.log = open(Path(self.tmp) / "nodes.log", "ab")  # noqa: SIM115
        self.head = self._start(["--head", "--port", str(port), "--temp-dir", self.tmp,
                                 "--include-dashboard", "false", "--dashboard-port",
                                 str(free_port())])
        self._wait(lambda: socket.create_connection(("127.0.0.1", port), 1).close())
        self.worker = self._start(["--address", self.address])

    def _start(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen([RAY, "start", *args, *_node_args()], env=self.env,
                                start_new_session=True, stdout=self.log,
                                stderr=subprocess.STDOUT)

    @staticmethod
    def _wait(probe, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                probe()
                return
            except (OSError, AssertionError):
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)

    def wait_for_cpus(self, ray, n: int) -> None:
        def ready() -> None:
            assert ray.cluster_resources().get("CPU", 0) >= n
        self._wait(ready, timeout=180.0)  # a node starts slowly on a loaded 2-core machine

    def kill_worker(self) -> None:
        """SIGKILL the worker node's process group (its raylet and its workers)."""
        if self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(30)

    def stop(self) -> None:
        for proc in (self.worker, self.head):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
