"""The noise component (mclust's Vinv): a uniform density 1/hypvol for outliers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gmm_core import GMM
from gmm_core.__main__ import main
from gmm_core.model import bic_from
from gmm_core.noise import log_hypervolume

N_CLEAN, N_OUTLIERS = 600, 60


def planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian clusters, then uniform outliers over a box far wider than them."""
    rng = np.random.default_rng(seed)
    clean = np.vstack([rng.normal([0, 0], 1, (N_CLEAN // 2, 2)),
                       rng.normal([8, 3], [1.5, 0.7], (N_CLEAN // 2, 2))])
    outliers = rng.uniform([-15, -15], [25, 20], (N_OUTLIERS, 2))
    return clean, np.vstack([clean, outliers])


def by_first_mean(model: GMM) -> np.ndarray:
    return np.argsort(model.means_[:, 0])


# ---------------------------------------------------------------- hypvol


def test_hypervolume_is_the_box_along_the_features_when_that_is_smaller():
    rng = np.random.default_rng(1)
    X = rng.uniform([0, 0, 0], [2, 3, 0.5], (4000, 3))
    X[:8] = [[a, b, c] for a in (0, 2) for b in (0, 3) for c in (0, 0.5)]  # the corners
    assert log_hypervolume(X) == pytest.approx(np.log(2 * 3 * 0.5))


def test_hypervolume_is_the_box_along_the_principal_axes_when_that_is_smaller():
    # A 4 x 1 rectangle turned by 30 degrees: its principal axes are its sides, so the
    # box along them is the rectangle (area 4); the box along x and y is larger. A grid
    # over it has exactly these principal axes.
    local = np.stack(np.meshgrid(np.linspace(0, 4, 81), np.linspace(0, 1, 21)), -1).reshape(-1, 2)
    turn = np.radians(30)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    X = local @ rotation.T + [5.0, -2.0]
    box = np.log(np.ptp(X, axis=0)).sum()
    assert box > np.log(4) + 0.5
    assert log_hypervolume(X) == pytest.approx(np.log(4), rel=1e-9)


def test_flat_data_has_no_volume_for_a_noise_component():
    X = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(ValueError, match="no volume"):
        log_hypervolume(X)
    with pytest.raises(ValueError, match="no volume"):
        GMM(k=1, noise=True).fit(X)


# ---------------------------------------------------------------- EM with noise


def test_log_likelihood_never_decreases_with_noise():
    _, X = planted()
    for covariance_type in ("full", "diag", "spherical", "tied"):
        model = GMM(k=3, covariance_type=covariance_type, noise=True, tol=0.0, max_iters=60,
                    seed=3).fit(X)
        steps = np.diff(model.trace_.mean_log_likelihood)
        assert steps.min() >= -1e-10, covariance_type


def test_the_noise_component_catches_planted_outliers_and_leaves_the_clusters_as_clean():
    clean, X = planted()
    noisy = GMM(k=2, noise=True, seed=0).fit(X)
    without = GMM(k=2, seed=0).fit(X)
    reference = GMM(k=2, seed=0).fit(clean)
    labels = noisy.predict(X)
    assert np.mean(labels[N_CLEAN:] == -1) >= 0.85
    assert np.mean(labels[:N_CLEAN] == -1) <= 0.02
    ours, theirs = by_first_mean(noisy), by_first_mean(reference)
    np.testing.assert_allclose(noisy.means_[ours], reference.means_[theirs], atol=0.1)
    np.testing.assert_allclose(noisy.covariances_[ours], reference.covariances_[theirs],
                               atol=0.15)
    # Without it the outliers stretch the Gaussians.
    spread = np.abs(without.covariances_[by_first_mean(without)]
                    - reference.covariances_[theirs]).max()
    assert spread > 1.0
    assert noisy.noise_weight_ == pytest.approx(N_OUTLIERS / len(X), abs=0.02)


def test_weights_and_noise_weight_sum_to_one_at_every_iteration():
    _, X = planted()
    model = GMM(k=2, noise=True, seed=0).fit(X)
    assert model.weights_.sum() + model.noise_weight_ == pytest.approx(1.0)
    trace = model.trace_
    assert trace.noise_weights.shape == (len(trace.iterations),)
    assert trace.noise_weights[0] == pytest.approx(model.noise_init)
    np.testing.assert_allclose(trace.weights.sum(axis=1) + trace.noise_weights, 1.0)
    assert trace.noise_weights[-1] == pytest.approx(model.noise_weight_)
    assert trace.responsibilities.shape[2] == 3  # k Gaussians, then the noise column
    np.testing.assert_allclose(trace.responsibilities.sum(axis=2), 1.0, rtol=1e-5)
    assert trace.to_dict()["noise_weights"] == trace.noise_weights.tolist()


def test_one_em_step_with_noise_is_the_textbook_update():
    # Banfield & Raftery's EM with a noise term, written out: the noise column's
    # responsibility is pi_0 Vinv over the mixture's density, and its new weight their mean.
    _, X = planted()
    weights, means = np.array([0.5, 0.5]), np.array([[1.0, 0.5], [6.0, 2.0]])
    covariances = np.array([[[2.0, 0.3], [0.3, 1.5]], [[3.0, -0.2], [-0.2, 1.0]]])
    model = GMM(k=2, noise=True, noise_init=0.2, weights_init=weights, means_init=means,
                covariances_init=covariances, max_iters=1, tol=0.0, reg_covar=0.0).fit(X)
    vinv = np.exp(-log_hypervolume(X))
    terms = np.column_stack([0.8 * w * multivariate_normal(m, c).pdf(X) for w, m, c in
                             zip(weights, means, covariances, strict=True)] + [
        np.full(len(X), 0.2 * vinv)])
    resp = terms / terms.sum(axis=1, keepdims=True)
    trace = model.trace_
    assert trace.mean_log_likelihood[0] == pytest.approx(np.log(terms.sum(axis=1)).mean(),
                                                         rel=1e-12)
    assert trace.noise_weights[1] == pytest.approx(resp[:, 2].mean(), rel=1e-9)
    np.testing.assert_allclose(trace.weights[1], resp[:, :2].mean(axis=0), rtol=1e-9)
    for j in range(2):
        mean = resp[:, j] @ X / resp[:, j].sum()
        scatter = (resp[:, j, None] * (X - mean)).T @ (X - mean) / resp[:, j].sum()
        np.testing.assert_allclose(trace.means[1][j], mean, rtol=1e-9)
        np.testing.assert_allclose(trace.covariances[1][j], scatter, rtol=1e-8)


def test_density_is_the_gaussians_plus_the_noise_weight_times_vinv():
    _, X = planted()
    model = GMM(k=2, noise=True, seed=0).fit(X)
    density = sum(w * multivariate_normal(m, c).pdf(X) for w, m, c in
                  zip(model.weights_, model.means_, model.covariances_, strict=True))
    density = density + model.noise_weight_ * model.vinv_
    np.testing.assert_allclose(model.score_samples(X), np.log(density), rtol=1e-9)
    assert model.vinv_ == pytest.approx(np.exp(-log_hypervolume(X)))
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba[:, -1], model.noise_weight_ * model.vinv_ / density,
                               rtol=1e-7)
    labels = model.predict(X)
    np.testing.assert_array_equal(labels == -1, proba.argmax(axis=1) == 2)


def test_a_given_vinv_is_the_noise_density():
    _, X = planted()
    model = GMM(k=2, noise=True, vinv=1e-4, seed=0).fit(X)
    assert model.vinv_ == pytest.approx(1e-4)
    # A denser noise explains more rows better than the Gaussians do.
    denser = GMM(k=2, noise=True, vinv=1e-2, seed=0).fit(X)
    assert denser.noise_weight_ > model.noise_weight_ + 0.05


def test_the_noise_fit_is_the_same_in_any_units():
    _, X = planted()
    scale = 2.0**24  # far from 1: the fit runs on internally rescaled features
    unit = GMM(k=2, noise=True, seed=0).fit(X)
    large = GMM(k=2, noise=True, seed=0).fit(X * scale)
    np.testing.assert_allclose(large.means_, unit.means_ * scale, rtol=1e-6)
    assert large.noise_weight_ == pytest.approx(unit.noise_weight_, rel=1e-6)
    assert large.vinv_ == pytest.approx(unit.vinv_ / scale**2, rel=1e-9)
    assert large.score(X * scale) == pytest.approx(unit.score(X) - 2 * np.log(scale),
                                                   rel=1e-9)


def test_noise_adds_one_parameter_to_bic_aic_and_icl():
    _, X = planted()
    noisy = GMM(k=2, noise=True, seed=0).fit(X)
    plain = GMM(k=2, seed=0).fit(X)
    assert noisy.n_parameters() == plain.n_parameters() + 1 == 12
    n = len(X)
    assert noisy.bic(X) == pytest.approx(bic_from(noisy.score(X), n, 12))
    assert noisy.aic(X) == pytest.approx(-2 * noisy.score(X) * n + 2 * 12)
    # ICL's entropy term counts the noise column as one more class.
    proba = noisy.predict_proba(X)
    assert noisy.icl(X) == pytest.approx(noisy.bic(X) - 2 * np.log(proba.max(axis=1)).sum())
    # On these data the noise component earns its parameter.
    assert noisy.bic(X) < plain.bic(X)


def test_without_noise_nothing_changes():
    _, X = planted()
    model = GMM(k=2, seed=0).fit(X)
    assert model.noise_weight_ is None and model.vinv_ is None
    assert model.trace_.noise_weights is None
    assert model.predict_proba(X).shape == (len(X), 2)
    assert "noise_weights" not in model.trace_.to_dict()


@pytest.mark.parametrize(("arguments", "message"), [
    ({"noise": True, "vinv": -1.0}, "vinv must be a finite number > 0"),
    ({"noise": True, "vinv": 0.0}, "vinv must be a finite number > 0"),
    ({"noise": True, "vinv": np.inf}, "vinv must be a finite number > 0"),
    ({"vinv": 1e-3}, "needs noise=True"),
    ({"noise": True, "noise_init": 0.0}, "noise_init must be a proportion"),
    ({"noise": True, "noise_init": 1.0}, "noise_init must be a proportion"),
    ({"noise": "yes"}, "noise must be True or False"),
])
def test_bad_noise_arguments_are_refused(arguments, message):
    _, X = planted()
    with pytest.raises(ValueError, match=message):
        GMM(k=2, **arguments).fit(X)


def test_sample_refuses_a_fit_with_noise():
    _, X = planted()
    with pytest.raises(ValueError, match="noise"):
        GMM(k=2, noise=True, seed=0).fit(X).sample(10)


# ---------------------------------------------------------------- the CLI


@pytest.fixture
def planted_csv(tmp_path):
    _, X = planted()
    path = tmp_path / "planted.csv"
    path.write_text("x,y\n" + "".join(f"{x:.17g},{y:.17g}\n" for x, y in X))
    return path


def test_cli_noise_flag_fits_and_reports_the_noise_component(capsys, planted_csv):
    status = main(["fit", "--csv", str(planted_csv), "--k", "2", "--seed", "0", "--noise",
                   "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    result = json.loads(out)
    _, X = planted()
    model = GMM(k=2, noise=True, seed=0).fit(X)
    assert result["request"]["noise"] is True
    assert result["noise_weight"] == pytest.approx(model.noise_weight_)
    assert result["vinv"] == pytest.approx(model.vinv_)
    assert result["bic"] == pytest.approx(model.bic(X))
    assert sum(result["counts"]) + result["noise_count"] == len(X)
    assert result["noise_count"] == int((model.predict(X) == -1).sum())

    status = main(["fit", "--csv", str(planted_csv), "--k", "2", "--seed", "0", "--noise"])
    out, _ = capsys.readouterr()
    noise_line = next(line for line in out.splitlines() if line.strip().startswith("noise"))
    assert f"{result['noise_count']}" in noise_line and "uniform, density" in noise_line


def test_cli_without_noise_reports_none(capsys, planted_csv):
    assert main(["fit", "--csv", str(planted_csv), "--k", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "noise_weight" not in result and result["request"]["noise"] is False


def test_cli_noise_is_refused_for_a_catalog(capsys, tmp_path):
    status = main(["fit", "--parquet", str(tmp_path / "none.parquet"), "--noise"])
    assert status == 2
    assert "--noise apply to --csv and --dataset" in capsys.readouterr().err


# ---------------------------------------------------------------- the browser's payload


def test_the_animation_draws_noise_rows_in_the_noise_colour_and_tables_its_weight():
    from dashboard.binary_payload import unpack
    from dashboard.figures import BLEND_LEVELS, NOISE_COLOR, component_colors, histogram, plot_data
    from dashboard.fit_payload import animation_payload, density_animation_payload

    _, X = planted()
    model = GMM(k=2, noise=True, seed=0).fit(X)
    trace = model.trace_
    meta, arrays = unpack(animation_payload(plot_data(X, trace.sample_index), trace))
    assert meta["k"] == 2
    assert meta["palette"] == [*component_colors(2), NOISE_COLOR]
    assert meta["noise_code"] == 1 + 2 * BLEND_LEVELS
    shown = arrays["iterations"]
    np.testing.assert_allclose(arrays["noise_weights"], trace.noise_weights[shown], rtol=1e-6)
    last = arrays["colors"][-1]
    is_noise = model.predict(X[trace.sample_index]) == -1
    assert is_noise.sum() >= 50
    np.testing.assert_array_equal(last >= meta["noise_code"], is_noise)
    assert arrays["centres"].shape[1] == 2  # ellipses for the Gaussians only

    meta, arrays = unpack(density_animation_payload(
        plot_data(X[:, :1], trace.sample_index, dims=(0,)), histogram(X[:, :1]), trace))
    assert "noise_weights" in arrays and meta["palette"][-1] == NOISE_COLOR


def test_a_fit_without_noise_sends_no_noise():
    from dashboard.binary_payload import unpack
    from dashboard.figures import plot_data
    from dashboard.fit_payload import animation_payload

    _, X = planted()
    trace = GMM(k=2, seed=0).fit(X).trace_
    meta, arrays = unpack(animation_payload(plot_data(X, trace.sample_index), trace))
    assert "noise_code" not in meta and "noise_weights" not in arrays
    assert len(meta["palette"]) == 2


# ---------------------------------------------------------------- downloads and the Data page


def test_the_parameters_file_keeps_the_noise_component_and_starts_the_same_mixture():
    from gmm_core.export import parameters_json, read_parameters_json

    _, X = planted()
    model = GMM(k=2, noise=True, seed=0).fit(X)
    text = parameters_json(model, X=X)
    read = read_parameters_json(text)
    assert read.noise_weight == pytest.approx(model.noise_weight_)
    assert read.vinv == pytest.approx(model.vinv_)
    restarted = GMM(**read.gmm_init(), max_iters=1).fit(X)
    np.testing.assert_allclose(restarted.trace_.weights[0], model.weights_, rtol=1e-12)
    assert restarted.trace_.noise_weights[0] == pytest.approx(model.noise_weight_, rel=1e-12)
    assert restarted.trace_.mean_log_likelihood[0] == pytest.approx(model.score(X), rel=1e-9)

    document = json.loads(text)
    for name, value, message in (("noise_weight", 1.0, "noise_weight must lie strictly"),
                                 ("vinv", -2.0, "vinv must be a number > 0"),
                                 ("noise_weight", 0.5, "must sum to 1")):
        with pytest.raises(ValueError, match=message):
            read_parameters_json(json.dumps({**document, name: value}))
    with pytest.raises(ValueError, match="noise_weight is missing"):
        read_parameters_json(json.dumps({k: v for k, v in document.items()
                                         if k != "noise_weight"}))


def test_the_data_page_names_noise_rows_and_leaves_them_out_of_the_mean_spectra():
    import pandas as pd

    from dashboard import data_view
    from dashboard.figures import NOISE_COLOR
    from gmm_core.datasets import Dataset, FeatureInfo

    spectra = np.array([[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]])
    mask = np.zeros_like(spectra, dtype=bool)
    clusters = pd.Series([0, 0, -1], index=[0, 1, 2])
    means, sizes = data_view.mean_spectra(spectra, mask, clusters)
    np.testing.assert_allclose(means, [[2.0, 3.0]])
    np.testing.assert_array_equal(sizes, [2])
    assert data_view.cluster_name(-1) == "noise"

    dataset = Dataset("three", "Three rows", pd.DataFrame({"a": [1.0, 2.0, 50.0]}),
                      {"a": FeatureInfo("a", "a")}, ("a",))
    figure = data_view.histogram_figure(dataset, ["a"], clusters)
    noise = [trace for trace in figure.data if trace.name == "noise"]
    assert len(noise) == 1 and noise[0].marker.color == NOISE_COLOR
    assert list(noise[0].x) == [50.0]


def test_the_labels_csv_names_the_noise_column_and_labels_its_rows():
    import io

    import pandas as pd

    from gmm_core.export import labels_csv
    from gmm_core.noise import labels_from_responsibilities

    _, X = planted()
    model = GMM(k=2, noise=True, seed=0).fit(X)
    proba = model.predict_proba(X)
    text = labels_csv(X, proba, labels_from_responsibilities(proba, noise=True), noise=True)
    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns)[-4:] == ["label", "responsibility_0", "responsibility_1",
                                        "responsibility_noise"]
    np.testing.assert_array_equal(table["label"], model.predict(X))
    assert (table["label"] == -1).sum() >= 50
