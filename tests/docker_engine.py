"""A Docker engine for the image tests, kept on loopback: dockerd without bridge, iptables
or forwarding, every build and container on the host network, and a test-only stand-in for
the Dockerfile's base image (base images cannot be pulled here).

``python -m tests.docker_engine`` runs that dockerd in the foreground (.ci/run starts it
so); the fixtures start one themselves when none answers, and stop what they started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

DOCKERD_COMMAND = ("dockerd", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
                   "--ip-masq=false", "--bridge=none")
ENGINE_START_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.2

# The stand-in for `FROM python:3.11-slim`: Debian bookworm's Python 3.11 with pip and
# venv, tagged with the official image's name so the Dockerfile is built unchanged.
BASE_IMAGE = "python:3.11-slim"
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-pip", "python3-venv", "python-is-python3",
                 "ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# pip inside a build reaches PyPI as this machine's pip does: through this machine's CA
# bundle, with its patience. Only the stand-in carries this, never the project's image.
BASE_PIP_CONF = f"""[global]
cert = {HOST_CA_BUNDLE}
timeout = 180
"""
BUILD_TIMEOUT_S = 1800


def docker(*args: str, timeout: float = 120, check: bool = True,
           input: bytes | None = None) -> subprocess.CompletedProcess:
    """``docker ARGS``, output captured as text unless ``input`` is piped in."""
    return subprocess.run(["docker", *args], capture_output=True, timeout=timeout,
                          check=check, input=input, text=input is None)


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def engine_missing_reason() -> str | None:
    """Why the image tests cannot run here, or None when they can."""
    if shutil.which("docker") is None:
        return "no docker client (install it with `apt-get install docker.io`)"
    if not engine_answers() and shutil.which(DOCKERD_COMMAND[0]) is None:
        return "no Docker engine answers and no dockerd (`apt-get install docker.io`)"
    if not image_exists(BASE_IMAGE) and shutil.which("debootstrap") is None:
        return f"no {BASE_IMAGE} image and no debootstrap to build its stand-in"
    return None


@contextmanager
def running_engine(log_dir: Path) -> Iterator[None]:
    """The engine that answers, or a dockerd started here and stopped on exit."""
    if engine_answers():
        yield
        return
    log_path = log_dir / "dockerd.log"
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(DOCKERD_COMMAND, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + ENGINE_START_TIMEOUT_S
        while not engine_answers():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start; see {log_path}")
            time.sleep(POLL_INTERVAL_S)
        yield
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def image_size_bytes(tag: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)


def ensure_base_image() -> None:
    """Import the stand-in base once; later runs reuse the image the engine keeps."""
    if image_exists(BASE_IMAGE):
        return
    with tempfile.TemporaryDirectory(prefix="standin-base-") as scratch:
        root = Path(scratch) / "root"
        subprocess.run(["debootstrap", "--variant=minbase",
                        f"--include={','.join(BASE_PACKAGES)}", BASE_SUITE, str(root)],
                       check=True, capture_output=True, timeout=BUILD_TIMEOUT_S)
        shutil.copyfile(HOST_CA_BUNDLE, root / HOST_CA_BUNDLE.relative_to("/"))
        (root / "etc/pip.conf").write_text(BASE_PIP_CONF)
        # pip installs into the image's Python, as it does in the official image.
        for marker in (root / "usr/lib").glob("python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "--change", "ENV LANG=C.UTF-8",
                        "--change", 'CMD ["python3"]', "-", BASE_IMAGE],
                       stdin=tar.stdout, check=True, capture_output=True,
                       timeout=BUILD_TIMEOUT_S)
        tar.stdout.close()
        if tar.wait() != 0:
            raise RuntimeError("tar of the stand-in base failed")


def build_image(tag: str, context: Path, *, target: str | None = None) -> str:
    """``docker build`` on the host network (the legacy builder); its output for the log."""
    args = ["build", "--network", "host", "--tag", tag]
    if target is not None:
        args += ["--target", target]
    result = subprocess.run(["docker", *args, str(context)], capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT_S, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    if result.returncode != 0:
        raise RuntimeError(f"docker build failed:\n{result.stdout[-4000:]}\n{result.stderr}")
    return result.stdout


def remove_containers(names: Sequence[str]) -> None:
    docker("rm", "--force", "--volumes", *names, check=False)


if __name__ == "__main__":
    os.execvp(DOCKERD_COMMAND[0], DOCKERD_COMMAND)
