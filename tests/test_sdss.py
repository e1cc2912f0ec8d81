"""The SDSS corrected spectra: finding, validating, loading and downloading the file.

Files in spec4000 format are built by the tests (tests/spec4000_fixture.py); downloads
go to fake HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import numpy as np
import pytest
from astroML.datasets.sdss_corrected_spectra import DATA_URL
from spec4000_fixture import (
    COEFF0,
    COEFF1,
    FakeDownloadServer,
    closed_port_url,
    make_spec4000_arrays,
    write_spec4000,
)

from gmm_core.datasets import (
    DatasetError,
    fetch_sdss,
    list_datasets,
    load_dataset,
    sdss_available,
    sdss_file_path,
)


@pytest.fixture
def spec_file(data_home):
    return write_spec4000(data_home, n=120, seed=3)


def test_file_path_follows_astroml_data_home(data_home):
    assert sdss_file_path() == data_home / "spec4000.npz"
    assert not sdss_available()
    assert not next(info for info in list_datasets() if info.name == "sdss").available


def test_loads_features_labels_and_default_view(spec_file):
    dataset = load_dataset("sdss")
    arrays = make_spec4000_arrays(n=120, seed=3)
    n_bins, n_ev = arrays["spectra"].shape[1], arrays["coeffs"].shape[1]

    assert dataset.frame.shape == (120, n_bins + n_ev + 3)
    assert dataset.default_view == ("flux_0", "flux_1")
    np.testing.assert_array_equal(dataset.matrix(dataset.default_view),
                                  arrays["spectra"][:, :2])
    families = dataset.families()
    assert {family: len(names) for family, names in families.items()} == {
        "flux": n_bins, "pca": n_ev, "bpt": 2, "redshift": 1}
    np.testing.assert_array_equal(dataset.matrix(families["pca"]), arrays["coeffs"])
    np.testing.assert_array_equal(dataset.matrix(["z"])[:, 0], arrays["z"])
    assert dataset.features["log_NII_Ha"].label == "log([NII]/Hα)"
    assert dataset.features["log_OIII_Hb"].label == "log([OIII]/Hβ)"
    assert dataset.citation
    assert next(info for info in list_datasets() if info.name == "sdss").available


def test_flux_labels_are_rest_wavelengths(spec_file):
    dataset = load_dataset("sdss")
    expected = 10 ** (COEFF0 + COEFF1 * np.arange(1000))
    np.testing.assert_allclose(dataset.extras["wavelengths"], expected)
    assert dataset.features["flux_0"].label == "flux 3162 Å"
    assert dataset.features["flux_1"].label == "flux 3165 Å"
    labels = [dataset.features[f"flux_{j}"].label for j in range(1000)]
    assert labels == [f"flux {wavelength:.0f} Å" for wavelength in expected]


def test_known_labels_have_readable_class_names(spec_file):
    dataset = load_dataset("sdss")
    arrays = make_spec4000_arrays(n=120, seed=3)
    spec = dataset.known_labels["spec_cln"]
    line = dataset.known_labels["lineindex_cln"]
    assert len(spec) == len(line) == 120
    assert (spec[arrays["spec_cln"] == 2] == "galaxy").all()
    assert (spec[arrays["spec_cln"] == 3] == "QSO").all()
    assert (line[arrays["lineindex_cln"] == 4] == "emission galaxy").all()
    assert (line[arrays["lineindex_cln"] == 5] == "narrow-line QSO").all()
    assert not any(name.startswith("class ") for name in set(spec) | set(line))


def test_notes_say_how_often_the_bluest_bin_is_empty(spec_file):
    dataset = load_dataset("sdss")
    zeros = int((dataset.frame["flux_0"] == 0).sum())
    assert 0 < zeros < 120
    assert any(f"exactly 0 in {zeros} of 120" in note for note in dataset.notes)


def test_fingerprint_is_stable_and_follows_content(data_home):
    write_spec4000(data_home, n=60, seed=1)
    first = load_dataset("sdss").fingerprint
    assert load_dataset("sdss").fingerprint == first
    write_spec4000(data_home, n=60, seed=2)
    assert load_dataset("sdss").fingerprint != first


def test_missing_file_names_url_size_and_path(data_home):
    with pytest.raises(DatasetError) as caught:
        load_dataset("sdss")
    message = str(caught.value)
    assert DATA_URL in message
    assert "27 MB" in message
    assert str(data_home / "spec4000.npz") in message


def _corrupt(arrays, key, value):
    arrays = dict(arrays)
    if value is None:
        del arrays[key]
    else:
        arrays[key] = value
    return arrays


N = 40
BAD_FILES = [
    ("missing key", lambda a: _corrupt(a, "mask", None), "lacks the key(s) mask"),
    ("mask with wrong shape", lambda a: _corrupt(a, "mask", a["mask"][:, :-1]),
     "key 'mask' has shape (40, 999), but L = 1000"),
    ("spectra not 2-D", lambda a: _corrupt(a, "spectra", a["spectra"][:, 0]),
     "key 'spectra' has shape (40,); expected (N, L)"),
    ("fewer redshifts than spectra", lambda a: _corrupt(a, "z", a["z"][:-1]),
     "key 'z' has shape (39,), but N = 40"),
    ("object array", lambda a: _corrupt(a, "spec_cln", a["spec_cln"].astype(object)),
     "key 'spec_cln' holds Python objects"),
    ("float class codes", lambda a: _corrupt(a, "spec_cln", a["spec_cln"] + 0.5),
     "key 'spec_cln' has dtype float64; expected integer"),
    ("string spectra", lambda a: _corrupt(a, "spectra", a["spectra"].astype(str)),
     "key 'spectra' has dtype <U"),
    ("two wavelength origins", lambda a: _corrupt(a, "coeff0", np.array([3.5, 3.6])),
     "key 'coeff0' should be one finite number"),
]


@pytest.mark.parametrize(("corrupt", "message"),
                         [pytest.param(c, m, id=name) for name, c, m in BAD_FILES])
def test_invalid_files_are_refused_with_the_reason(data_home, corrupt, message):
    arrays = corrupt(make_spec4000_arrays(n=N, seed=0))
    with (data_home / "spec4000.npz").open("wb") as out:
        np.savez(out, **arrays)
    with pytest.raises(DatasetError) as caught:
        load_dataset("sdss")
    assert message in str(caught.value)
    assert str(data_home / "spec4000.npz") in str(caught.value)


@pytest.mark.parametrize(("content", "message"), [
    (b"this is not a zip archive at all", "is not a NumPy .npz archive"),
    (None, "is not a NumPy .npz archive"),  # the first half of a valid file
])
def test_non_archives_are_refused(data_home, content, message):
    path = data_home / "spec4000.npz"
    if content is None:
        whole = write_spec4000(data_home, n=N).read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset("sdss")


# ----------------------------------------------------------------------------- downloads
@pytest.fixture
def valid_bytes(tmp_path):
    return write_spec4000(tmp_path / "source.npz", n=N, seed=5).read_bytes()


def test_complete_download_gives_a_valid_file(data_home, valid_bytes):
    calls = []
    with FakeDownloadServer(valid_bytes) as server:
        path = fetch_sdss(progress=lambda done, total: calls.append((done, total)),
                          url=server.url)
    assert path == data_home / "spec4000.npz"
    assert path.read_bytes() == valid_bytes
    assert [entry.name for entry in data_home.iterdir()] == ["spec4000.npz"]
    assert calls[-1] == (len(valid_bytes), len(valid_bytes))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert load_dataset("sdss").n_samples == N


def test_interrupted_download_leaves_no_file(data_home, valid_bytes):
    calls = []
    with FakeDownloadServer(valid_bytes, cut=len(valid_bytes) // 2) as server, \
            pytest.raises(DatasetError) as caught:
        fetch_sdss(progress=lambda done, total: calls.append((done, total)), url=server.url)
    assert list(data_home.iterdir()) == []
    assert calls and calls[-1][0] < len(valid_bytes) and calls[-1][1] == len(valid_bytes)
    message = str(caught.value)
    assert server.url in message and "27 MB" in message
    assert str(data_home / "spec4000.npz") in message


def test_complete_but_invalid_download_is_not_kept(data_home):
    with FakeDownloadServer(b"<html>rate limited</html>") as server, \
            pytest.raises(DatasetError, match=r"not a valid spec4000\.npz, so nothing was saved"):
        fetch_sdss(url=server.url)
    assert list(data_home.iterdir()) == []


def test_http_error_gives_the_offline_message(data_home):
    with FakeDownloadServer(b"missing", status=404) as server, \
            pytest.raises(DatasetError) as caught:
        fetch_sdss(url=server.url)
    assert "404" in str(caught.value)
    assert list(data_home.iterdir()) == []


def test_offline_message_names_url_size_and_exact_path(data_home):
    url = closed_port_url()
    with pytest.raises(DatasetError) as caught:
        fetch_sdss(url=url)
    message = str(caught.value)
    assert message.startswith(f"could not download the SDSS corrected spectra (27 MB) from {url}")
    assert f"copy it to {data_home / 'spec4000.npz'}" in message
    assert "$ASTROML_DATA" in message
    assert "\n" not in message
    assert list(data_home.iterdir()) == []


def test_existing_file_is_used_without_downloading(spec_file):
    assert fetch_sdss(url=closed_port_url()) == spec_file


def test_existing_invalid_file_is_reported_not_replaced(data_home):
    path = data_home / "spec4000.npz"
    path.write_bytes(b"junk")
    with pytest.raises(DatasetError, match=r"delete .* and fetch again"):
        fetch_sdss(url=closed_port_url())
    assert path.read_bytes() == b"junk"
