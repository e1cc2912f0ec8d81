"""The Docker image built and run for real: the dashboard served from a container to
Chromium, as the non-root user, brought back by its restart policy after its process is
killed; and compose.yaml's scheduler and two workers fitting the Large catalog page while
one worker container is killed. Every build and container uses the host network
(tests/docker_engine.py), on ports chosen here; what a test starts, it removes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from distributed import Client
from playwright.sync_api import expect

from tests.browser.explore_page import (
    APP_IDLE,
    EXCEPTION,
    VIEWPORT,
    animated_chart,
    slider_handle,
)
from tests.browser.streamlit_server import free_port, health_answer
from tests.docker_engine import (
    BASE_IMAGE,
    build_image,
    docker,
    engine_missing_reason,
    ensure_base_image,
    image_size_bytes,
    remove_containers,
    running_engine,
)
from tests.test_docker import IMAGE_VENV, exec_form, the_only

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.timeout(2400),  # a first build downloads and installs everything
              # This process's client beside the image's Python: patch levels may differ.
              pytest.mark.filterwarnings("ignore:Mismatched versions found")]

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "gmm-explorer:test"
APP_UID = "10001"
HEALTHY_TIMEOUT_S = 30.0  # the image's HEALTHCHECK start period
COMPOSE_UP_TIMEOUT_S = 600  # the cluster's first imports compile, on a machine maybe busy
POLL_INTERVAL_S = 0.2
WORKERS = 2
ROWS_PER_FILE = 1_000_000
COMPOSE_FILES = ("-f", str(ROOT / "compose.yaml"),
                 "-f", str(ROOT / "tests" / "compose.host-network.yaml"))


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    reason = engine_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    with running_engine(tmp_path_factory.mktemp("dockerd")):
        ensure_base_image()
        started = time.monotonic()
        build_image(IMAGE, ROOT)
        added = image_size_bytes(IMAGE) - image_size_bytes(BASE_IMAGE)
        print(f"\nimage built in {time.monotonic() - started:.0f} s; "
              f"{added / 1e6:.0f} MB above its base {BASE_IMAGE}")
        yield IMAGE


def inspect(container: str, template: str) -> str:
    return docker("inspect", "--format", template, container).stdout.strip()


def wait_until_healthy(container: str, timeout: float = HEALTHY_TIMEOUT_S) -> float:
    """Seconds until the image's own HEALTHCHECK reports healthy."""
    started = time.monotonic()
    while (status := inspect(container, "{{.State.Health.Status}}")) != "healthy":
        if inspect(container, "{{.State.Running}}") != "true" and \
                inspect(container, "{{.State.Restarting}}") != "true":
            raise AssertionError(f"{container} stopped:\n{docker('logs', container).stderr}")
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{container} is {status} after {timeout:.0f} s:\n"
                                 f"{docker('logs', container).stderr[-3000:]}")
        time.sleep(POLL_INTERVAL_S)
    return time.monotonic() - started


def in_container(container: str, *argv: str) -> subprocess.CompletedProcess:
    return docker("exec", container, *argv, check=False)


@pytest.fixture
def dashboard_container(image):
    """The image's CMD on loopback at a free port, /data on a named volume, restarted
    unless stopped, checked by its HEALTHCHECK every second."""
    port = free_port()
    name = f"gmm-explorer-test-{port}"
    command = [arg.replace("--server.address=0.0.0.0", "--server.address=127.0.0.1")
               for arg in exec_form(the_only("CMD"))]
    try:
        docker("run", "--detach", "--name", name, "--network", "host",
               "--restart", "unless-stopped", "--health-interval", "1s",
               "--env", f"STREAMLIT_SERVER_PORT={port}", "--volume", f"{name}:/data",
               image, *command)
        print(f"\ncontainer healthy {wait_until_healthy(name):.1f} s after docker run")
        yield name, f"http://127.0.0.1:{port}"
    finally:
        remove_containers([name])
        docker("volume", "rm", name, check=False)


def test_the_container_serves_the_explore_figure_as_the_app_user_and_restarts_when_killed(
        browser, dashboard_container):
    name, url = dashboard_container
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    expect(animated_chart(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    context.close()

    main_uid = in_container(name, "awk", "/^Uid:/ {print $2}", "/proc/1/status").stdout
    assert main_uid.strip() == APP_UID, "the server must run as the app user, not root"
    assert in_container(name, "touch", "/data/written").returncode == 0, "/data not writable"
    assert in_container(name, "touch", "/app/written").returncode != 0, "/app is writable"
    pip = in_container(name, "python", "-m", "pip", "--version")
    assert pip.returncode != 0, "the served image should carry no pip"
    assert in_container(name, "ls", f"{IMAGE_VENV}/bin/streamlit").returncode == 0

    # A crash, not a stop: SIGKILL from the host to the server process, which the restart
    # policy answers (`docker kill` or `docker stop` would count as stopping it by hand).
    os.kill(int(inspect(name, "{{.State.Pid}}")), signal.SIGKILL)
    started = time.monotonic()
    while inspect(name, "{{.RestartCount}}") != "1":
        assert time.monotonic() - started < HEALTHY_TIMEOUT_S, "no restart after the kill"
        time.sleep(POLL_INTERVAL_S)
    wait_until_healthy(name)
    print(f"back healthy {time.monotonic() - started:.1f} s after the kill")
    assert health_answer(f"{url}/_stcore/health") == "ok"
    assert in_container(name, "ls", "/data/written").returncode == 0, "/data was not kept"


def compose(files: tuple[str, ...], env: dict[str, str], *args: str,
            check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker-compose", *files, *args], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=COMPOSE_UP_TIMEOUT_S,
                            cwd=ROOT)
    assert result.returncode == 0 or not check, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def host_network_compose_file(env: dict[str, str], path: Path) -> Path:
    """compose.yaml merged with the host-network override, its published ports dropped:
    an override can only add ports, and a container on the host network takes none."""
    merged = yaml.safe_load(compose(COMPOSE_FILES, env, "config").stdout)
    for service in merged["services"].values():
        assert service["network_mode"] == "host"
        service.pop("ports", None)
    path.write_text(yaml.safe_dump(merged))
    return path


@pytest.fixture
def catalog(tmp_path):
    """Three Parquet files of a uniform square, a million rows each: at a tolerance of
    1e-5 EM takes about 50 passes over them, time to kill a worker mid-fit."""
    directory = tmp_path / "catalog"
    directory.mkdir()
    rng = np.random.default_rng(8)
    for part in range(3):
        pd.DataFrame(rng.uniform(0, 10, (ROWS_PER_FILE, 2)), columns=["u", "g"]).to_parquet(
            directory / f"part-{part}.parquet")
    directory.chmod(0o755)
    return directory


@pytest.fixture
def compose_cluster(image, catalog, tmp_path):
    """compose.yaml up with tests/compose.host-network.yaml: its scheduler, two workers
    and the dashboard, on the image built here."""
    if subprocess.run(["docker-compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker-compose (install it with `apt-get install docker-compose`)")
    env = {"GMM_IMAGE": image, "CATALOG_DIR": str(catalog),
           "SCHEDULER_PORT": str(free_port()), "SCHEDULER_HTTP_PORT": str(free_port()),
           "DASHBOARD_PORT": str(free_port())}
    files = ("--project-name", f"gmm-explorer-test-{env['SCHEDULER_PORT']}",
             "-f", str(host_network_compose_file(env, tmp_path / "compose.yaml")))
    networks_before = docker("network", "ls", "--quiet").stdout.split()
    try:
        compose(files, env, "up", "--detach", "--no-build")
        with Client(f"tcp://127.0.0.1:{env['SCHEDULER_PORT']}", timeout=60) as client:
            client.wait_for_workers(WORKERS, timeout=120)
        assert docker("network", "ls", "--quiet").stdout.split() == networks_before, \
            "compose made a network: every service must be on the host network"
        yield files, env
    finally:
        compose(files, env, "down", "--volumes", "--timeout", "10", check=False)


def test_the_large_catalog_page_fits_through_compose_while_a_worker_container_dies(
        browser, compose_cluster):
    files, env = compose_cluster
    dashboard = compose(files, env, "ps", "--quiet", "dashboard").stdout.split()
    wait_until_healthy(dashboard[0], timeout=COMPOSE_UP_TIMEOUT_S)
    workers = compose(files, env, "ps", "--quiet", "worker").stdout.split()
    assert len(workers) == WORKERS
    worker_pid = int(inspect(workers[0], "{{.State.Pid}}"))

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{env['DASHBOARD_PORT']}/large_catalog")
    done = page.get_by_text(re.compile(rf"{3 * ROWS_PER_FILE:,} rows fitted on 2 workers: "
                                       r"(converged after|stopped at) (\d+) iterations"))
    expect(done).to_be_visible(timeout=COMPOSE_UP_TIMEOUT_S * 1000)
    first_fit = done.inner_text()
    # A tolerance of 1e-5 (from 1e-3; the slider sends the two steps as one change): about
    # 50 iterations on this catalog, not 4, so a fit long enough to lose a worker in.
    tolerance = slider_handle(page, "Tolerance")
    tolerance.press("ArrowLeft")
    tolerance.press("ArrowLeft")
    progress = page.get_by_text(re.compile(r"Iteration (\d+): mean log-likelihood"))
    expect(progress).to_be_visible(timeout=COMPOSE_UP_TIMEOUT_S * 1000)
    killed_at = int(re.search(r"Iteration (\d+)", progress.inner_text()).group(1))
    # SIGKILL to the container's first process: its whole PID namespace goes with it.
    os.kill(worker_pid, signal.SIGKILL)
    expect(progress).to_be_visible()  # still fitting: the bar goes when the fit ends

    expect(progress).to_have_count(0, timeout=COMPOSE_UP_TIMEOUT_S * 1000)
    page.wait_for_selector(APP_IDLE)
    expect(done).not_to_have_text(first_fit)
    iterations = int(re.search(r"(\d+) iterations", done.inner_text()).group(1))
    assert iterations > killed_at, f"the fit did not go on after the kill at {killed_at}"
    # The figure redrawn for this fit: the three components' ellipses at least.
    expect(page.locator(".js-plotly-plot .scatterlayer .trace").nth(2)).to_be_attached()
    expect(page.locator(EXCEPTION)).to_have_count(0)
    context.close()
    with Client(f"tcp://127.0.0.1:{env['SCHEDULER_PORT']}", timeout=60) as client:
        assert len(client.scheduler_info()["workers"]) == WORKERS - 1
