"""compose.yaml kept honest without a Docker engine: its scheduler and two workers run here
as processes with the services' own commands, the dashboard is pointed at them as the
compose file points it, and Chromium sees the Large catalog page fit on them."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from distributed import Client
from playwright.sync_api import expect

from tests.browser.explore_page import VIEWPORT
from tests.browser.streamlit_server import free_port, running_server, running_streamlit
from tests.test_docker import environment

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
WORKERS = 2


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_every_service_runs_the_project_image_and_the_dashboard_finds_the_scheduler():
    for service in SERVICES.values():
        assert service["build"] == "." and service["image"] == "gmm-explorer"
    scheduler = SERVICES["scheduler"]["command"]
    port = option(scheduler, "--port")
    assert SERVICES["worker"]["command"][:3] == ["dask", "worker", f"tcp://scheduler:{port}"]
    dashboard = SERVICES["dashboard"]["environment"]
    assert dashboard["DASK_SCHEDULER_ADDRESS"] == f"tcp://scheduler:{port}"
    assert "8787/health" in " ".join(SERVICES["scheduler"]["healthcheck"]["test"])
    assert SERVICES["worker"]["deploy"]["replicas"] == WORKERS
    mounted = {volume.split(":")[1] for volume in SERVICES["worker"]["volumes"]}
    assert Path(dashboard["GMM_CATALOG"]).parent.as_posix() in mounted
    # The scheduler and workers unpickle tasks naming gmm_core: the image makes it importable.
    assert environment()["PYTHONPATH"] == "/app"


def here(command: list[str], replacements: dict[str, str]) -> list[str]:
    """A service's command with its container addresses and ports made local."""
    local = []
    for word in command:
        for old, new in replacements.items():
            word = word.replace(old, new)
        local.append(word)
    # The image's `dask` is the one next to this interpreter here.
    return [str(Path(sys.executable).parent / local[0]), *local[1:]]


@pytest.fixture(scope="module")
def compose_cluster(tmp_path_factory):
    """The scheduler and two workers of compose.yaml, as processes on local ports."""
    scheduler_port, http_port = free_port(), free_port()
    replacements = {"tcp://scheduler:8786": f"tcp://127.0.0.1:{scheduler_port}",
                    "8786": str(scheduler_port), ":8787": f"127.0.0.1:{http_port}"}
    address = f"tcp://127.0.0.1:{scheduler_port}"
    logs = tmp_path_factory.mktemp("dask_logs")
    # The image's PYTHONPATH=/app (Dockerfile): scheduler and workers unpickle gmm_core.
    image_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with ExitStack() as stack:
        stack.enter_context(running_server(
            here(SERVICES["scheduler"]["command"], replacements),
            url=address, health_url=f"http://127.0.0.1:{http_port}/health", cwd=logs,
            env=image_env, log_dir=logs))
        workers = []
        for index in range(WORKERS):
            log = stack.enter_context(open(logs / f"worker-{index}.log", "wb"))
            workers.append(subprocess.Popen(
                here(SERVICES["worker"]["command"], replacements), cwd=logs, env=image_env,
                stdout=log, stderr=subprocess.STDOUT))
        try:
            with Client(address, timeout=60) as client:
                client.wait_for_workers(WORKERS, timeout=120)
            yield address
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=30)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    directory = tmp_path_factory.mktemp("catalog")
    rng = np.random.default_rng(8)
    for part in range(3):
        values = np.vstack([rng.normal((0, 0), 1, (4_000, 2)), rng.normal((7, 7), 1, (4_000, 2))])
        pd.DataFrame(values, columns=["u", "g"]).to_parquet(directory / f"part-{part}.parquet")
    return directory


def test_the_large_catalog_page_fits_on_the_compose_workers(browser, compose_cluster, catalog,
                                                              tmp_path):
    env = {**os.environ, **SERVICES["dashboard"]["environment"],
           "DASK_SCHEDULER_ADDRESS": compose_cluster,
           "GMM_CATALOG": SERVICES["dashboard"]["environment"]["GMM_CATALOG"].replace(
               "/catalog", str(catalog))}
    with running_streamlit(ROOT / "app.py", cwd=ROOT, env=env, log_dir=tmp_path) as server:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"{server.url}/large_catalog")
        expect(page.get_by_text("Fitting on the cluster").or_(
            page.get_by_text("Iteration 1: mean log-likelihood"))).to_be_visible(timeout=120_000)
        expect(page.get_by_text("24,000 rows fitted on 2 workers")).to_be_visible(
            timeout=180_000)
        chart = page.locator("[data-testid=stPlotlyChart]")
        expect(chart).to_be_visible()
        assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 3
        assert not page.locator("[data-testid=stException]").count()
        context.close()
