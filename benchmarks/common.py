"""What every benchmark shares: the machine it ran on, timing, a sample frame, a real API server, and writing the
figures."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion_core.timing import machine_info, median_and_p95, sample_frame  # noqa: F401  (shared by the benchmarks)


def timed(function, repeats: int) -> dict[str, float]:
    """Median and 95th percentile of ``repeats`` calls, in milliseconds, after 10 warm-up calls."""
    return median_and_p95(function, repeats=repeats)


def command_line(argv: list[str] | None = None) -> str:
    """The running benchmark's command, ``python -m benchmarks.<name> ...`` (``argv``: its arguments, by default
    this process's)."""
    return shlex.join(["python", "-m", f"benchmarks.{Path(sys.argv[0]).stem}",
                       *(sys.argv[1:] if argv is None else argv)])


def save_results(results: dict[str, Any], path: Path) -> None:
    """Write the figures as JSON, with the command that made them unless the results name it already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"command": command_line(), **results}, indent=2) + "\n")
    print(f"wrote {path}")


@dataclass(frozen=True)
class ApiServer:
    """A running ``serve`` process on 127.0.0.1 and an admin's bearer token."""

    process: subprocess.Popen
    port: int
    token: str

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


@contextlib.contextmanager
def api_server(*serve_args: str) -> Iterator[ApiServer]:
    """``python -m emotion_core serve`` on a free loopback port with a fresh home (the real app, as in production),
    answering ``/health`` before this yields; stopped afterwards."""
    env = {**os.environ, "EMOTION_LENS_HOME": tempfile.mkdtemp(prefix="emotion-lens-bench-")}
    run = [sys.executable, "-m", "emotion_core"]
    subprocess.run([*run, "users", "add", "bench", "--role", "admin"], input="x" * 12 + "\n", text=True, env=env,
                   check=True, capture_output=True)
    token = subprocess.run([*run, "token", "create", "--user", "bench"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([*run, "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args], env=env,
                               stderr=subprocess.DEVNULL)
    server = ApiServer(process=process, port=port, token=token)
    try:
        for _ in range(200):
            try:
                connection = server.connection(timeout=2)
                connection.request("GET", "/api/v1/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(10)
