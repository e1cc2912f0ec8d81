"""Run a real Streamlit server and a Debian Chromium for browser tests and load benchmarks.

Shared by ``tests/browser/``, ``tests/test_docker.py`` and ``benchmarks/load_sessions.py``:
one way to start a server, wait for its health endpoint, stop it, and launch Chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_PATH = Path("/usr/bin/chromium")
# Debian's Chromium in a root container: no sandbox, no GPU, and nothing that phones home
# (Playwright's own browser download cannot run here).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HEALTH_POLL_INTERVAL_S = 0.1
LOG_TAIL_CHARS = 4000


class ServerError(RuntimeError):
    """The server exited or did not become healthy in time."""


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when Chromium is installed."""
    if CHROMIUM_PATH.exists():
        return None
    return f"no Chromium at {CHROMIUM_PATH} (install it with `apt-get install chromium`)"


def chromium_launch_options() -> dict:
    """Keyword arguments for ``playwright.chromium.launch`` (sync or async API)."""
    return {"executable_path": str(CHROMIUM_PATH), "headless": True, "args": list(CHROMIUM_ARGS)}


def launch_chromium(playwright):
    """A headless Debian Chromium from a sync ``Playwright`` instance."""
    return playwright.chromium.launch(**chromium_launch_options())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health_answer(url: str, timeout: float = 2.0) -> str | None:
    """The body of a GET on ``url``, or None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode("utf-8", "replace").strip()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@dataclass
class ServerProcess:
    """A server started from a command line, with its output kept in a log file."""

    process: subprocess.Popen
    url: str
    health_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-LOG_TAIL_CHARS:]

    def wait_until_healthy(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Poll the health URL until it answers ``ok``; fail early if the server exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"server exited with status {self.process.returncode} before "
                                  f"{self.health_url} answered; log:\n{self.log_tail()}")
            if health_answer(self.health_url) == "ok":
                return
            time.sleep(HEALTH_POLL_INTERVAL_S)
        raise ServerError(f"{self.health_url} did not answer ok within {timeout:.0f} s; "
                          f"log:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def running_server(command: Sequence[str], *, url: str, health_url: str, cwd: Path | str,
                   env: Mapping[str, str] | None = None, log_dir: Path | str | None = None,
                   timeout: float = STARTUP_TIMEOUT_S) -> Iterator[ServerProcess]:
    """Start ``command``, wait until ``health_url`` answers ok, and stop it on exit."""
    log_dir = Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="server-"))
    log_path = log_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env or os.environ),
                                   stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = ServerProcess(process, url, health_url, log_path)
    try:
        server.wait_until_healthy(timeout)
        yield server
    finally:
        server.stop()


def streamlit_command(app: Path | str, port: int, python: str = sys.executable) -> list[str]:
    """``streamlit run`` on 127.0.0.1:port, headless, without usage statistics.

    The file watcher is off because other work may edit sources while a test runs.
    """
    return [python, "-m", "streamlit", "run", str(app),
            "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"]


@contextmanager
def running_streamlit(app: Path | str, *, cwd: Path | str | None = None,
                      env: Mapping[str, str] | None = None,
                      log_dir: Path | str | None = None,
                      timeout: float = STARTUP_TIMEOUT_S,
                      port: int | None = None) -> Iterator[ServerProcess]:
    """``streamlit run app`` with the running interpreter, on ``port`` (a free one if
    None), until exit."""
    app = Path(app).resolve()
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with running_server(streamlit_command(app, port), url=url,
                        health_url=f"{url}/_stcore/health", cwd=cwd or app.parent, env=env,
                        log_dir=log_dir, timeout=timeout) as server:
        yield server
