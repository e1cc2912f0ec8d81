"""Catalogs (Parquet files, directories, globs, CSV globs) and the CLI fit on a cluster."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import zarr

from gmm_core import cli
from gmm_core.catalog import CatalogError, catalog_columns, open_catalog

PARTS = 3
ROWS_PER_PART = 2_000


def catalog_frames() -> list[pd.DataFrame]:
    """Two clusters in (a, b), a third numeric column, a text column, and bad cells."""
    rng = np.random.default_rng(11)
    frames = []
    for part in range(PARTS):
        half = ROWS_PER_PART // 2
        values = np.vstack([rng.normal((0, 0), 1, (half, 2)), rng.normal((8, 8), 1, (half, 2))])
        frame = pd.DataFrame(values, columns=["a", "b"])
        frame["mag"] = rng.normal(size=ROWS_PER_PART)
        frame["name"] = [f"obj{part}-{i}" for i in range(ROWS_PER_PART)]
        frame.loc[part, "a"] = np.nan  # one missing a per part
        frame.loc[part + 10, "b"] = np.inf  # one infinite b per part
        frame.loc[part + 20, "mag"] = np.nan  # only matters when mag is chosen
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("catalog")
    for part, frame in enumerate(catalog_frames()):
        frame.to_parquet(directory / f"part-{part}.parquet")
        frame.to_csv(directory / f"part-{part}.csv", index=False)
    # The same table as a Zarr group: one 1-D array per numeric column, chunked.
    group = zarr.open_group(directory / "catalog.zarr", mode="w")
    table = pd.concat(catalog_frames())
    for name in ("a", "b", "mag"):
        group.create_array(name, data=table[name].to_numpy(), chunks=(2_500,))
    return directory


@pytest.mark.parametrize("source", ["{d}", "{d}/*.parquet", "{d}/*.csv", "{d}/catalog.zarr"])
def test_a_catalog_keeps_the_finite_rows_of_the_chosen_columns(catalog_dir, source):
    catalog = open_catalog(source.format(d=catalog_dir), ["a", "b"])
    assert catalog.columns == ("a", "b")
    assert catalog.n_dropped == 2 * PARTS
    assert catalog.n_rows == PARTS * ROWS_PER_PART - 2 * PARTS
    assert catalog.rows.shape == (catalog.n_rows, 2)
    assert sum(catalog.rows.chunks[0]) == catalog.n_rows
    expected = pd.concat(catalog_frames())[["a", "b"]].to_numpy()
    expected = expected[np.isfinite(expected).all(axis=1)]
    np.testing.assert_array_equal(catalog.rows.compute(), expected)


def test_one_file_and_the_default_columns(catalog_dir):
    catalog = open_catalog(str(catalog_dir / "part-0.parquet"))
    assert catalog_columns(str(catalog_dir / "part-0.parquet")) == ("a", "b", "mag")
    assert catalog.columns == ("a", "b", "mag")
    assert catalog.n_dropped == 3


def test_a_sample_is_reproducible_and_drawn_from_the_rows(catalog_dir):
    catalog = open_catalog(str(catalog_dir), ["a", "b"])
    sample = catalog.sample(50, seed=3)
    np.testing.assert_array_equal(sample, catalog.sample(50, seed=3))
    rows = catalog.rows.compute()
    assert sample.shape == (50, 2)
    assert all((rows == row).all(axis=1).any() for row in sample)


@pytest.mark.parametrize(("source", "columns", "message"), [
    ("{d}", ["a", "zz"], "no numeric column 'zz'"),
    ("{d}", ["name"], "no numeric column 'name'"),
    ("{d}", ["a", "a"], "listed twice"),
    ("{d}/nothing-*.parquet", None, "no Parquet or CSV files"),
    ("{d}/*", None, "more than one kind"),
    ("{d}/catalog.zarr", ["a", "zz"], "no numeric column 'zz'"),
])
def test_bad_catalog_requests_get_one_clear_line(catalog_dir, source, columns, message):
    with pytest.raises(CatalogError, match=message):
        open_catalog(source.format(d=catalog_dir), columns)


def test_the_cli_fits_a_parquet_glob_on_the_cluster(catalog_dir, dask_client, capsys):
    status = cli.main(["fit", "--parquet", f"{catalog_dir}/*.parquet", "--columns", "a,b",
                       "--k", "2", "--scheduler", dask_client.scheduler.address, "--json"])
    captured = capsys.readouterr()
    assert status == 0
    result = json.loads(captured.out)
    assert result["n_samples"] == PARTS * ROWS_PER_PART - 2 * PARTS
    assert result["n_dropped"] == 2 * PARTS
    means = sorted(result["means"])
    np.testing.assert_allclose(means, [[0, 0], [8, 8]], atol=0.15)
    progress = [line for line in captured.err.splitlines() if line.startswith("iteration ")]
    assert len(progress) == result["n_iter"]


def test_the_cli_refuses_an_unknown_column_with_status_2(catalog_dir, dask_client, capsys):
    status = cli.main(["fit", "--parquet", str(catalog_dir), "--columns", "a,zz",
                       "--scheduler", dask_client.scheduler.address])
    assert status == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("error: no numeric column 'zz'")
    assert cli.main(["fit", "--dataset", "blobs", "--scheduler", "tcp://x:1"]) == 2
