"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """An astroML data home of the test's own: empty unless a test writes SDSS there."""
    home = tmp_path / "astroML_data"
    home.mkdir()
    monkeypatch.setenv("ASTROML_DATA", str(home))
    return home
