"""Gaussian mixtures by EM, from scratch: pure computation, no Streamlit, no Plotly."""

from gmm_core.gaussian_mixture import GaussianMixture
from gmm_core.model import GMM, DegenerateFitError
from gmm_core.request import FitRequest
from gmm_core.trace import Event, FitTrace

__all__ = ["GMM", "DegenerateFitError", "Event", "FitRequest", "FitTrace", "GaussianMixture"]
