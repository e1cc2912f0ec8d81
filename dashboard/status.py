"""The words under the figures: the status line, the events, the two fits in numbers."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.pipeline import ComparisonOutcome, FitOutcome
from dashboard.plain_text import plain
from gmm_core.trace import STOP_CONVERGED, STOP_MAX_ITERS
from gmm_core.wording import counted


@dataclass(frozen=True)
class Status:
    text: str
    level: str  # "success", "warning" or "error": how the page shows it


def status_line(outcome: FitOutcome) -> Status:
    """Converged or stopped, iterations, final log-likelihood, BIC (the noise component's
    weight, for a fit with one); a warning when
    something happened on the way (a collapse, identical components, a repair)."""
    trace = outcome.trace
    if trace.stop_reason == STOP_CONVERGED:
        head = f"Converged after {counted(trace.n_iter, 'iteration')}"
        level = "warning" if trace.events else "success"
    elif trace.stop_reason == STOP_MAX_ITERS:
        head = f"Stopped at the iteration cap ({trace.n_iter}) without converging"
        level = "warning"
    else:
        head, level = f"Broke down after {counted(trace.n_iter, 'iteration')}", "error"
    measured = ("log-likelihood" if outcome.model is not None
                else "log-likelihood as the notebook computes it (its ε added to every density)")
    text = (f"{head} · {measured} {trace.log_likelihood[-1]:,.1f} "
            f"({trace.mean_log_likelihood[-1]:.4f} per point) · {_bic_text(outcome)}")
    if trace.has_noise:
        text += (f" · noise component weight {trace.noise_weights[-1]:.3f} (its points: open "
                 "grey circles)")
    if trace.events:
        text += f" · {counted(len(trace.events), 'event')} along the way (listed below)"
    return Status(text, level)


def _bic_text(outcome: FitOutcome) -> str:
    if outcome.bic is None:
        return f"BIC not defined: {outcome.unscored_because}"
    text = f"BIC {outcome.bic:,.1f}"
    exact = outcome.mean_log_likelihood * outcome.trace.n_samples
    # The notebook's log-likelihood counts ε in every density; BIC needs the true one.
    if outcome.model is None and f"{exact:,.1f}" != f"{outcome.trace.log_likelihood[-1]:,.1f}":
        text += (f" (from the exact log-likelihood of the final mixture, {exact:,.1f}: "
                 "without ε, as scikit-learn scores it)")
    return text


def event_lines(outcome: FitOutcome) -> list[str]:
    return [f"Iteration {e.iteration}"
            + ("" if e.component is None else f", component {e.component}")
            + f": {e.message}" for e in outcome.trace.events]


def fits_side_by_side(outcome: FitOutcome, compared: ComparisonOutcome) -> pd.DataFrame:
    """Both fits' scores, one row each (log-likelihood per point, as scikit-learn's score:
    exact, without the notebook's ε)."""
    trace, theirs = outcome.trace, compared.theirs
    ours_name = "the notebook's algorithm" if outcome.model is None else "ours (gmm_core)"
    return pd.DataFrame({
        "fit": [ours_name, "scikit-learn"],
        "log-likelihood per point": [outcome.mean_log_likelihood,
                                     theirs.mean_log_likelihood],
        "BIC": [outcome.bic, theirs.bic],
        "iterations": [trace.n_iter, theirs.n_iter],
        "converged": [trace.converged, theirs.converged],
    }).set_index("fit")


def markdown_table(frame: pd.DataFrame, index: bool = True) -> str:
    """A table as Markdown, numbers to six significant digits; its headings and text
    shown as they are (they name the user's columns)."""
    shown = frame.rename(columns=plain, index=plain if index else None)
    text = shown.select_dtypes(include="object").columns
    shown[text] = shown[text].map(plain)
    return shown.to_markdown(index=index, floatfmt=".6g")


def regularization_notes(outcome: FitOutcome, feature_names) -> list[str]:
    """One sentence per feature whose variance the regularization swamps, with the fix the
    sidebar offers (its names come from the data: show them as plain text)."""
    return [f"{warning.what(feature_names[warning.feature])}. Tick “Standardize” in the "
            "sidebar (or lower the regularization) to fit it in its own units."
            for warning in outcome.swamped]
