"""Small files in the format of astroML's ``spec4000.npz``, built by the tests.

The real file cannot be downloaded here. These files copy its keys, dtypes and shapes
(astroML's examples/datasets/compute_sdss_pca.py) and its awkward parts: rest-frame bins
outside a spectrum's observed range hold zero flux and are masked, so the bluest bins are
zero for most rows with a few large values (the spectra at higher redshift).

``FakeDownloadServer`` stands in for the download host on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path

import numpy as np

# compute_sdss_pca.py: loglam_start=3.5, (loglam_end - loglam_start) / Nlam = 0.4 / 1000
COEFF0 = 3.5
COEFF1 = 4e-4
OBSERVED_RANGE = (3800.0, 9200.0)  # Å, the SDSS spectrograph
LINES = {"Hb": 4861.3, "OIII": 5006.8, "Ha": 6562.8, "NII": 6583.5}


def make_spec4000_arrays(n: int = 200, seed: int = 0, n_bins: int = 1000, n_ev: int = 10,
                         coeff0: float = COEFF0, coeff1: float = COEFF1) -> dict:
    rng = np.random.default_rng(seed)
    lam = 10 ** (coeff0 + coeff1 * np.arange(n_bins))

    high_z = rng.random(n) < 0.08
    z = np.where(high_z, rng.uniform(0.25, 0.6, n), rng.gamma(4.0, 0.025, n) + 0.01)
    spec_cln = rng.choice([0, 1, 2, 3, 7], size=n, p=[0.01, 0.02, 0.90, 0.03, 0.04])
    lineindex_cln = np.where(spec_cln < 2, spec_cln, spec_cln + 3)
    galaxies = spec_cln == 2
    lineindex_cln[galaxies] = rng.choice([2, 3, 4, 5], size=galaxies.sum(),
                                         p=[0.2, 0.3, 0.35, 0.15])

    log_NII_Ha = np.zeros(n)
    log_OIII_Hb = np.zeros(n)
    for code, nii, oiii in ((4, -0.45, -0.3), (5, 0.0, 0.5)):
        rows = lineindex_cln == code
        log_NII_Ha[rows] = rng.normal(nii, 0.15, rows.sum())
        log_OIII_Hb[rows] = rng.normal(oiii, 0.3, rows.sum())

    amplitude = rng.lognormal(np.log(40.0), 0.4, n)
    slope = rng.normal(0.5, 0.5, n)
    spectra = amplitude[:, None] * (lam / 5000.0) ** slope[:, None]
    emitting = np.isin(lineindex_cln, (4, 5))
    for line, centre in LINES.items():
        strength = {"Ha": 3.0, "Hb": 1.0, "OIII": 10 ** log_OIII_Hb,
                    "NII": 3.0 * 10 ** log_NII_Ha}[line]
        profile = np.exp(-0.5 * ((lam - centre) / 3.0) ** 2)
        spectra += (emitting * strength * amplitude * 0.5)[:, None] * profile
    spectra += rng.normal(0.0, 0.02, spectra.shape) * amplitude[:, None]

    rest_low = OBSERVED_RANGE[0] / (1 + z)
    rest_high = OBSERVED_RANGE[1] / (1 + z)
    uncovered = (lam < rest_low[:, None]) | (lam > rest_high[:, None])
    spectra[uncovered] = 0.0
    mask = uncovered | (rng.random(spectra.shape) < 0.01)

    filled = np.where(mask, np.nan, spectra)
    column_means = np.nan_to_num(np.nanmean(filled, axis=0))
    filled = np.where(mask, column_means, spectra)
    norms = np.linalg.norm(filled, axis=1)
    normalized = filled / norms[:, None]
    mu = normalized.mean(axis=0)
    _, evals, evecs = np.linalg.svd(normalized - mu, full_matrices=False)
    coeffs = (normalized - mu) @ evecs[:n_ev].T

    return {
        "spectra": spectra.astype(np.float32),
        "mask": mask,
        "coeff0": np.float64(coeff0),
        "coeff1": np.float64(coeff1),
        "spec_cln": spec_cln.astype(np.int32),
        "lineindex_cln": lineindex_cln.astype(np.int32),
        "log_NII_Ha": log_NII_Ha.astype(np.float32),
        "log_OIII_Hb": log_OIII_Hb.astype(np.float32),
        "z": z.astype(np.float32),
        "zerr": np.abs(rng.normal(0.0, 1e-4, n)).astype(np.float32),
        "mu": mu,
        "evecs": evecs,
        "evals": evals,
        "norms": norms,
        "coeffs": coeffs,
    }


def write_spec4000(path: str | Path, n: int = 200, seed: int = 0, **options) -> Path:
    """Write a spec4000-format file at ``path`` (a directory gets ``spec4000.npz``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "spec4000.npz"
    with path.open("wb") as out:  # a file object keeps np.savez from appending ".npz"
        np.savez(out, **make_spec4000_arrays(n, seed, **options))
    return path


class FakeDownloadServer:
    """An HTTP server on 127.0.0.1 serving ``body`` at any path, as a context manager.

    ``cut`` sends only that many bytes (after announcing the full length) and hangs up.
    """

    def __init__(self, body: bytes, cut: int | None = None, status: int = 200):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if cut is None else body[:cut])
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/spec4000.npz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def closed_port_url() -> str:
    """An address where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/spec4000.npz"
