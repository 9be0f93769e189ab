"""What a server plugin is, and a running server: free port, pinned start, readiness, stop."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import process

HOST = "127.0.0.1"
READY_PATH = "/plaintext"

CommandBuilder = Callable[[str, str, int], list[str]]
"""``(python, "module:attr", port) -> argv``: the exact server command line."""


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One ASGI server: how to build its command line (1 worker, logs off, keep-alive on)."""

    name: str
    summary: str
    command: CommandBuilder
    settings: Mapping[str, str] = field(default_factory=dict)


class ServerError(RuntimeError):
    """The server did not start, did not become ready, or died."""


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the server binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_ready(port: int, timeout: float, path: str = READY_PATH) -> bool:
    """True when a GET of the readiness path answers 200 within ``timeout``."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def tcp_open(port: int, timeout: float) -> bool:
    """True when something accepts TCP connections on the port."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


class RunningServer:
    """A server process serving one app target, pinned to a CPU set, in its own group."""

    def __init__(
        self,
        spec: ServerSpec,
        target: str,
        *,
        cpus: Sequence[int],
        env: Mapping[str, str],
        log: Path,
        ready_path: str = READY_PATH,
    ) -> None:
        self.spec = spec
        self.target = target
        self.ready_path = ready_path
        self.port = free_port()
        self.pinned = bool(process.pin_prefix(cpus))
        self.command = [*process.pin_prefix(cpus), *spec.command(sys.executable, target, self.port)]
        self.log = log
        self.env = process.child_env(env)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float) -> None:
        """Start the server and wait until it answers; ServerError (process stopped) if not."""
        with open(self.log, "ab") as handle:
            handle.write(f"$ {' '.join(self.command)}\n".encode())
        self.process = process.spawn(self.command, log=self.log, env=self.env)
        try:
            self._wait_ready(timeout)
        except BaseException:
            # Not ready, or interrupted while waiting: never leave the process group behind.
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        foreign = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise ServerError(
                    f"{self.spec.name} exited with code {code} during startup: "
                    f"{process.tail(self.log)}"
                )
            if tcp_open(self.port, 0.5) and http_ready(self.port, 2.0, self.ready_path):
                if self.listening():
                    return
                # The port was taken between free_port() and the server's bind, and whatever
                # holds it answers: never measure it. Our server fails its bind and exits.
                foreign = True
            time.sleep(0.1)
        state = "port taken by another process" if foreign else "not ready"
        raise ServerError(
            f"{self.spec.name} {state} after {timeout:.0f}s on port {self.port}: "
            f"{process.tail(self.log)}"
        )

    def listening(self) -> bool:
        """True when the server's own process tree holds the listening socket of its port."""
        for proc in self.processes():
            try:
                connections = proc.net_connections(kind="tcp")
            except psutil.Error:
                continue
            for connection in connections:
                if connection.status == psutil.CONN_LISTEN and connection.laddr.port == self.port:
                    return True
        return False

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process is not None and self.process.poll() is None

    def processes(self) -> list[psutil.Process]:
        """The server's process tree (granian and hypercorn run workers as children)."""
        if self.process is None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the whole process group (SIGTERM, then SIGKILL)."""
        if self.process is not None:
            process.stop(self.process, timeout)
