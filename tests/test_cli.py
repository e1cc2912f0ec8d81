"""``python -m gmm_core``: fit, datasets, fetch; exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from spec4000_fixture import (
    FakeDownloadServer,
    closed_port_url,
    make_spec4000_arrays,
    write_spec4000,
)

from gmm_core.__main__ import main
from gmm_core.datasets import load_dataset
from gmm_core.selection import sweep, top_models

REPO = Path(__file__).resolve().parents[1]
FIT_KEYS = {"k", "covariance_type", "n_iter", "converged", "mean_loglik", "loglik", "bic",
            "aic", "icl", "weights", "means", "covariances", "counts", "events", "dataset",
            "columns", "preprocessing"}


@pytest.fixture
def points_csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = np.vstack([rng.normal(0, 1, (60, 3)), rng.normal(8, 1, (40, 3))])
    path = tmp_path / "points.csv"
    lines = ["name,a,b,c"] + [f"p{i},{x:.6f},{y:.6f},{z:.6f}" for i, (x, y, z) in
                              enumerate(rows)]
    lines[5] = "p4,nan,1.0,2.0"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_module(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gmm_core", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_sdss_fit_end_to_end_as_a_subprocess(data_home):
    write_spec4000(data_home, n=200, seed=0)
    done = run_module("fit", "--dataset", "sdss", "--k", "2", "--json",
                      env={**os.environ, "ASTROML_DATA": str(data_home)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= FIT_KEYS
    assert result["dataset"] == "sdss"
    assert result["columns"] == ["flux_0", "flux_1"]
    assert result["k"] == 2 and len(result["weights"]) == 2
    assert np.array(result["means"]).shape == (2, 2)
    assert np.array(result["covariances"]).shape == (2, 2, 2)
    assert sum(result["counts"]) == result["n_samples"] == 200
    # the zero spike and the covered spectra: one component sits at (0, 0)
    assert min(np.abs(result["means"]).max(axis=1)) < 1e-6
    assert np.isclose(sum(result["weights"]), 1.0)
    assert result["loglik"] == pytest.approx(result["mean_loglik"] * 200)


def test_bad_input_in_a_subprocess_is_one_error_line():
    done = run_module("fit", "--csv", "does-not-exist.csv")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["error: file not found: does-not-exist.csv"]


def test_csv_fit_json_shape(capsys, points_csv):
    status, out, err = run_main(capsys, "fit", "--csv", str(points_csv), "--k", "2",
                                "--covariance", "diag", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert set(result) >= FIT_KEYS
    assert result["columns"] == ["a", "b", "c"]
    assert result["covariance_type"] == "diag"
    assert np.array(result["covariances"]).shape == (2, 3)
    assert sorted(result["counts"]) == [40, 59]
    assert any("name (text such as 'p0')" in note for note in result["notes"])
    assert any("dropped 1 of 100 rows" in note for note in result["notes"])
    assert result["preprocessing"]["method"] == "none"
    assert result["request"]["k"] == 2
    assert isinstance(result["events"], list)


def test_columns_and_standardize_are_recorded(capsys, points_csv):
    status, out, _ = run_main(capsys, "fit", "--csv", str(points_csv), "--columns", "c,a",
                              "--standardize", "--json")
    assert status == 0
    result = json.loads(out)
    assert result["columns"] == ["c", "a"]
    assert result["n_samples"] == 99
    preprocessing = result["preprocessing"]
    assert preprocessing["method"] == "standardize"
    assert len(preprocessing["mean"]) == len(preprocessing["scale"]) == 2
    # standardized data: the weighted means of the components average to zero
    means = np.array(result["means"])
    np.testing.assert_allclose(np.array(result["weights"]) @ means, 0, atol=1e-6)


def test_dataset_parameters_reach_the_loader(capsys):
    status, out, _ = run_main(capsys, "fit", "--dataset", "blobs", "--param",
                              "n_components=4", "--param", "separation=10", "--k", "4",
                              "--json")
    assert status == 0
    result = json.loads(out)
    assert result["request"]["dataset_params"] == {"n_components": "4", "separation": "10"}
    assert sorted(result["counts"]) == [150] * 4


def test_readable_summary(capsys):
    status, out, _ = run_main(capsys, "fit", "--dataset", "iris", "--k", "3")
    assert status == 0
    assert "data: Iris flowers (Fisher 1936): 150 rows × petal length [cm], petal width" in out
    assert "converged after" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 3


@pytest.mark.parametrize(("args", "message"), [
    (["fit", "--csv", "{missing}"], "file not found"),
    (["fit", "--csv", "{csv}", "--columns", "a,nope"], "'nope' does not exist"),
    (["fit", "--csv", "{csv}", "--columns", "name"], "'name' is not numeric"),
    (["fit", "--csv", "{text}"], "no numeric column"),
    (["fit", "--csv", "{two_rows}", "--k", "3"], "2 usable rows; at least 3"),
    (["fit", "--csv", "{nonfinite}"], "no usable rows"),
    (["fit", "--csv", "{big}"], "big.csv is 60.8 MB; uploads are limited to 50 MB"),
    (["fit", "--csv", "{just_over}"], "is 50,000,001 bytes; uploads are limited to 50 MB"),
    (["fit", "--csv", "{csv}", "--param", "a=1"], "--param applies to --dataset"),
    (["fit", "--dataset", "nope"], "unknown data set 'nope'"),
    (["fit", "--dataset", "iris", "--columns", "petal"], "unknown column 'petal' in iris"),
    (["fit", "--dataset", "blobs", "--param", "n_components=x"], "n_components must be int"),
    (["fit", "--dataset", "blobs", "--param", "n_components"], "expected KEY=VALUE"),
    (["fit", "--dataset", "sdss"], "the SDSS corrected spectra are not on this machine"),
    (["fit", "--dataset", "blobs", "--k", "0"], "k must be at least 1"),
    (["fit", "--dataset", "blobs", "--tol", "-1"], "tol must be zero or positive"),
    (["fit", "--dataset", "blobs", "--k", "abc"], "invalid int value: 'abc'"),
    (["fit", "--dataset", "blobs", "--covariance", "weird"], "invalid choice: 'weird'"),
    (["fit", "--dataset", "iris", "--columns", "a,,b"], "empty column name"),
    (["fit"], "one of the arguments --csv --dataset --parquet is required"),
    (["fetch", "gaia"], "invalid choice: 'gaia'"),
    ([], "required: COMMAND"),
])
def test_bad_input_exits_2_with_one_error_line(capsys, tmp_path, data_home, points_csv,
                                               args, message):
    files = {"missing": tmp_path / "missing.csv", "csv": points_csv,
             "text": tmp_path / "text.csv", "two_rows": tmp_path / "two.csv",
             "nonfinite": tmp_path / "nonfinite.csv", "big": tmp_path / "big.csv",
             "just_over": tmp_path / "just_over.csv"}
    for name, size in (("big", 60_800_000), ("just_over", 50_000_001)):
        with files[name].open("wb") as sparse:  # its size without writing its bytes
            sparse.truncate(size)
    files["text"].write_text("name,city\nann,paris\n")
    files["two_rows"].write_text("x,y\n1,2\n3,4\n")
    files["nonfinite"].write_text("x,y\nnan,1\ninf,2\n")
    status, out, err = run_main(capsys, *[arg.format(**files) for arg in args])
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0]


def test_rows_with_nan_in_the_chosen_columns_are_dropped_and_reported(capsys, data_home):
    arrays = make_spec4000_arrays(n=60, seed=2)
    arrays["z"][:5] = np.nan
    arrays["log_OIII_Hb"][:] = np.inf
    with (data_home / "spec4000.npz").open("wb") as out:
        np.savez(out, **arrays)
    status, out, _ = run_main(capsys, "fit", "--dataset", "sdss", "--columns",
                              "z,log_NII_Ha", "--json")
    assert status == 0
    result = json.loads(out)
    assert result["n_samples"] == 55
    assert "dropped 5 of 60 rows with NaN or infinite values in z, log_NII_Ha" in result["notes"]

    status, _, err = run_main(capsys, "fit", "--dataset", "sdss", "--columns", "log_OIII_Hb")
    assert status == 2
    assert err == "error: every row of log_OIII_Hb has a NaN or infinite value\n"


def test_degenerate_fit_under_raise_exits_1(capsys, data_home):
    write_spec4000(data_home, n=200, seed=0)
    status, out, err = run_main(capsys, "fit", "--dataset", "sdss", "--k", "2", "--init",
                                "notebook", "--on-degenerate", "raise", "--seed", "42")
    assert status == 1
    assert out == ""
    assert err.startswith("error: ") and "identical" in err and len(err.splitlines()) == 1


def test_help_exits_0(capsys):
    status, out, _ = run_main(capsys, "fit", "--help")
    assert status == 0
    assert "--covariance" in out


def test_datasets_lists_features(capsys, data_home):
    status, out, _ = run_main(capsys, "datasets")
    assert status == 0
    assert "sdss: SDSS corrected spectra (not downloaded)" in out
    assert str(data_home / "spec4000.npz") in out
    assert "iris: Iris" in out and "petal_length, petal_width (petal length, petal width)" in out
    assert "parameters: n_components=3, separation=4.0, n_samples=600, seed=0" in out

    write_spec4000(data_home, n=30)
    status, out, _ = run_main(capsys, "datasets")
    assert "(not downloaded)" not in out
    assert "flux: flux_0, flux_1, flux_2, …, flux_999 (1000 in all) (flux 3162 Å … " in out
    assert "known labels: spec_cln, lineindex_cln" in out


def test_fetch_downloads_with_a_progress_bar(capsys, data_home, tmp_path):
    body = write_spec4000(tmp_path / "source.npz", n=40).read_bytes()
    with FakeDownloadServer(body) as server:
        status, out, err = run_main(capsys, "fetch", "sdss", "--url", server.url)
    assert status == 0
    assert out.strip() == f"saved {data_home / 'spec4000.npz'}"
    assert "100% of" in err.split("\r")[-1]
    assert (data_home / "spec4000.npz").read_bytes() == body

    status, out, _ = run_main(capsys, "fetch", "sdss", "--url", closed_port_url())
    assert status == 0
    assert out.strip() == f"already present: {data_home / 'spec4000.npz'}"


def test_fetch_failure_prints_the_offline_message(capsys, data_home, tmp_path):
    body = write_spec4000(tmp_path / "source.npz", n=40).read_bytes()
    with FakeDownloadServer(body, cut=len(body) // 3) as server:
        status, out, err = run_main(capsys, "fetch", "sdss", "--url", server.url)
    assert status == 1
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1
    assert server.url in error_lines[0] and "27 MB" in error_lines[0]
    assert str(data_home / "spec4000.npz") in error_lines[0]
    assert list(data_home.iterdir()) == []


def test_fetch_offline_as_a_subprocess(data_home):
    url = closed_port_url()
    done = run_module("fetch", "sdss", "--url", url,
                      env={**os.environ, "ASTROML_DATA": str(data_home)})
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(
        f"error: could not download the SDSS corrected spectra (27 MB) from {url}")
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ a reader that goes away
@pytest.mark.parametrize("buffering", ["1", ""], ids=["unbuffered", "block-buffered"])
@pytest.mark.parametrize("args", [("datasets",), ("fit", "--dataset", "iris", "--k", "3"),
                                  ("fit", "--dataset", "iris", "--json"), ("--help",)],
                         ids=" ".join)
def test_output_into_a_closed_pipe_ends_quietly(args, buffering, data_home):
    # The pipe's reader is closed before the command writes a byte, as when `head`
    # has exited: every write (or the flush at exit) meets a broken pipe.
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "ASTROML_DATA": str(data_home), "PYTHONUNBUFFERED": buffering}
    try:
        done = subprocess.run([sys.executable, "-m", "gmm_core", *args], cwd=REPO, env=env,
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    finally:
        os.close(write_end)
    assert done.stderr == ""
    # argparse itself ignores a failed write of the help text, so unbuffered it ends 0
    assert done.returncode == 141 or (args == ("--help",) and done.returncode == 0)


def test_datasets_piped_into_head_prints_one_line_and_no_traceback(data_home):
    env = {**os.environ, "ASTROML_DATA": str(data_home), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(f"'{sys.executable}' -m gmm_core datasets | head -1; "
                          "echo \"statuses ${PIPESTATUS[*]}\"", shell=True,
                          executable="/bin/bash", cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    first, statuses = done.stdout.splitlines()
    assert first == "sdss: SDSS corrected spectra (not downloaded)"
    assert done.stderr == ""
    # 141 when `head` left before the listing ended (the usual case), 0 if it read it all
    assert statuses in ("statuses 141 0", "statuses 0 0")


def test_csv_fit_with_an_mclust_model(capsys, points_csv):
    status, out, err = run_main(capsys, "fit", "--csv", str(points_csv), "--k", "2",
                                "--covariance", "VEV", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert result["covariance_type"] == "VEV"
    assert np.array(result["covariances"]).shape == (2, 3, 3)
    # ICL adds twice the classification's entropy to BIC: never below it.
    assert result["icl"] >= result["bic"]


def test_csv_fit_from_mclusts_start_is_the_same_for_every_seed(capsys, points_csv):
    results = []
    for seed in ("1", "2"):
        status, out, err = run_main(capsys, "fit", "--csv", str(points_csv), "--k", "2",
                                    "--init", "hierarchical", "--seed", seed, "--json")
        assert status == 0, err
        results.append(json.loads(out))
    assert results[0]["request"]["init"] == "hierarchical"
    assert results[0]["means"] == results[1]["means"]
    assert sorted(results[0]["counts"]) == [40, 59]


def test_sweep_prints_the_criterion_by_model_and_mclusts_top_three(capsys):
    status, out, err = run_main(capsys, "sweep", "--dataset", "iris", "--k-max", "3",
                                "--models", "VEV,VVV,EII", "--criterion", "icl")
    assert status == 0, err
    X = load_dataset("iris").matrix(["petal_length", "petal_width"])
    result = sweep(X, range(1, 4), ["VEV", "full", "EII"])
    top = top_models(result, "icl")
    lines = out.splitlines()
    assert lines[1] == "ICL by k and model (lower is better; mclust prints it negated):"
    assert lines[2].split() == ["model", "VEV", "VVV", "EII"]
    assert [float(v) for v in lines[5].split()[1:]] == pytest.approx(
        result.by_type("icl").loc[2].tolist(), rel=1e-5)
    assert lines[-4].split() == ["model,k", "ICL", "difference", "to", "the", "best"]
    for line, (model_k, icl, difference) in zip(
            lines[-3:], top[["model,k", "icl", "difference to the best"]].to_numpy(),
            strict=True):
        shown = line.split()
        assert shown[0] == model_k
        assert [float(v) for v in shown[1:]] == pytest.approx([icl, difference], abs=1e-3)


def test_sweep_json_has_every_criterion_and_the_top_three(capsys):
    status, out, err = run_main(capsys, "sweep", "--dataset", "iris", "--k-max", "2",
                                "--json")
    assert status == 0, err
    result = json.loads(out)
    assert len(result["table"]) == 2 * 14  # mclust's 14 models, the default
    assert {"bic", "icl", "aic"} <= set(result["table"][0])
    best = min((row for row in result["table"] if not row["singular"]),
               key=lambda row: row["bic"])
    assert result["top"][0]["bic"] == best["bic"]
    assert result["top"][0]["difference to the best"] == 0


def test_sweep_with_noise_is_the_sweep_with_a_noise_component(capsys):
    status, out, err = run_main(capsys, "sweep", "--dataset", "iris", "--k-max", "2",
                                "--models", "VEV,EII", "--noise", "--json")
    assert status == 0, err
    X = load_dataset("iris").matrix(["petal_length", "petal_width"])
    expected = sweep(X, range(1, 3), ["VEV", "EII"], noise=True).table
    plain = sweep(X, range(1, 3), ["VEV", "EII"]).table
    shown = [row["bic"] for row in json.loads(out)["table"]]
    assert shown == pytest.approx(expected["bic"].to_list(), rel=1e-12)
    assert not np.allclose(shown, plain["bic"])


@pytest.mark.parametrize(("args", "message"), [
    (["--models", "VEV,nope"], "got 'nope'"),
    (["--models", "E"], "it needs one feature; got 2"),
    (["--k-max", "0"], "a sweep needs at least one k"),
    (["--k-max", "200"], "k must lie between 1 and the number of rows (150)"),
])
def test_a_bad_sweep_is_one_error_line(capsys, args, message):
    status, out, err = run_main(capsys, "sweep", "--dataset", "iris", *args)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
