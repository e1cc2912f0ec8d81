"""Ctrl-C during ``python -m gmm_core fit``: one line, exit status 130, nothing on stdout,
and no process of the command left behind (a Dask cluster it started is shut down)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
PROGRESS = re.compile(r"iteration (\d+): mean log-likelihood \S+")
# Enough iterations that no machine finishes them before the signal arrives.
ENDLESS = ["--tol", "0", "--max-iter", str(10**9)]


def twenty_rows() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(np.vstack([rng.normal(0, 1, (10, 2)), rng.normal(5, 1, (10, 2))]),
                        columns=["a", "b"])


def interrupt_once_iterating(*args: str) -> tuple[int, str, list[str], int]:
    """Start the command in its own process group, wait for its first progress line, then
    send SIGINT to the group as a terminal's Ctrl-C does. Returns the exit status, stdout,
    the stderr lines and the first iteration seen."""
    process = subprocess.Popen([sys.executable, "-m", "gmm_core", "fit", *args],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    seen = []
    while not (match := PROGRESS.fullmatch(seen[-1] if seen else "")):
        line = process.stderr.readline()
        assert line, f"no progress line; stderr: {seen}"
        seen.append(line.rstrip("\n"))
    os.killpg(process.pid, signal.SIGINT)
    # Read through the same buffered streams (communicate() would skip what they hold).
    err = process.stderr.read()
    out = process.stdout.read()
    process.wait(timeout=120)
    assert_group_gone(process.pid)
    return process.returncode, out, seen + err.splitlines(), int(match.group(1))


def assert_group_gone(group: int, timeout: float = 60.0) -> None:
    """Every process of the command's group has exited (its Dask workers among them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of group {group} still running")


def assert_one_interrupted_line(status, out, err_lines, first_seen) -> None:
    assert status == 130
    assert out == ""
    *progress, last = err_lines
    assert all(PROGRESS.fullmatch(line) for line in progress), err_lines[-5:]
    stopped = re.fullmatch(r"interrupted after iteration (\d+); nothing written", last)
    assert stopped, last
    assert int(stopped.group(1)) >= first_seen
    assert int(stopped.group(1)) == int(PROGRESS.fullmatch(progress[-1]).group(1))


def test_ctrl_c_in_a_csv_fit_is_one_line_and_status_130(tmp_path):
    path = tmp_path / "rows.csv"
    twenty_rows().to_csv(path, index=False)
    status, out, err_lines, first = interrupt_once_iterating("--csv", str(path), "--progress",
                                                             *ENDLESS)
    assert_one_interrupted_line(status, out, err_lines, first)


@pytest.mark.slow
def test_ctrl_c_in_a_cluster_fit_shuts_its_workers_down(tmp_path):
    path = tmp_path / "rows.parquet"
    twenty_rows().to_parquet(path)
    env_free = {key: value for key, value in os.environ.items()
                if key != "DASK_SCHEDULER_ADDRESS"}
    process_env = os.environ.copy()
    os.environ.clear()
    os.environ.update(env_free)  # two local workers, started by the command itself
    try:
        status, out, err_lines, first = interrupt_once_iterating("--parquet", str(path),
                                                                 *ENDLESS)
    finally:
        os.environ.clear()
        os.environ.update(process_env)
    assert_one_interrupted_line(status, out, err_lines, first)
