"""The math page: EM stepped through on the current data, one half-step per button, with
the E-step and M-step formulas filled in with the numbers for a chosen point and
component; and the fitted mixture's density and uncertainty.

The LaTeX builders and figures are pure functions; the step-through lives in
st.session_state (one ``Walkthrough`` per session, restarted when the sidebar changes
what it fits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard.figures import (
    DEFAULT_OPTIONS,
    FigureOptions,
    PlotData,
    axis_ranges,
    blend_rgb,
    component_colors,
    mixture_figure,
    one_feature_figure,
    plot_data,
    plotted_dims,
    uncertainty,
)
from dashboard.fitted_rows import data_key
from gmm_core import FitRequest, FitTrace
from gmm_core.geometry import density_grid
from gmm_core.stepper import E_STEP, M_STEP, EMStepper, StepOrderError, StepperState

UNASSIGNED_COLOR = "#9aa0a6"  # points before the first E-step: no responsibilities yet
PLAIN_RANGE = (1e-4, 1e7)  # magnitudes written without a power of ten
SHOWN_ENTRIES = 4  # vector entries written out before "…"
# exp() of anything below this underflows to 0 in float64: show the power instead.
SMALLEST_LOG = math.log(np.finfo(float).tiny)
DENSITY_GRID = 120
DENSITY_DECADES = 6  # contours span this many powers of ten below the peak density
UNCERTAINTY_SIZES = (4.0, 22.0)  # marker size for a sure point, and for a coin toss


# ---------------------------------------------------------------- numbers in LaTeX
def tex_number(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits; very small or large ones as
    ``m \\times 10^{n}``."""
    value = float(value)
    if math.isnan(value):
        return r"\mathrm{NaN}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    if value == 0 or PLAIN_RANGE[0] <= abs(value) < PLAIN_RANGE[1]:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(value)))) if value else 0
        text = f"{value:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return rf"{mantissa.rstrip('0').rstrip('.')} \times 10^{{{int(exponent)}}}"


def tex_exp(log_value: float) -> str:
    """``e^{log_value}`` and its value, or the power alone where the value underflows."""
    power = rf"e^{{{tex_number(log_value)}}}"
    if log_value < SMALLEST_LOG:
        return power
    return rf"{power} = {tex_number(math.exp(log_value))}"


def _entries(values) -> list[str]:
    values = [tex_number(v) for v in np.ravel(values)]
    if len(values) > SHOWN_ENTRIES:
        values = [*values[: SHOWN_ENTRIES - 1], r"\vdots"]
    return values


def tex_vector(values) -> str:
    return r"\begin{bmatrix}" + r" \\ ".join(_entries(values)) + r"\end{bmatrix}"


def tex_matrix(matrix) -> str:
    matrix = np.atleast_2d(np.asarray(matrix, dtype=float))
    rows = [" & ".join(_entries(row)) for row in matrix[:SHOWN_ENTRIES]]
    if len(matrix) > SHOWN_ENTRIES:
        rows = [*rows[: SHOWN_ENTRIES - 1], r"\vdots"]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def aligned_lines(*lines: str) -> str:
    """A formula too wide for one line, aligned on the ``&`` of each line."""
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


# ---------------------------------------------------------------- the formulas, filled in
def e_step_formulas(point: dict) -> list[str]:
    """The E-step for one point and component (``EMStepper.explain_point``), line by line:
    the point and the component's parameters, the Mahalanobis distance, the log-density,
    the weighted density, the sum over components, the responsibility."""
    i, j = point["point"], point["component"]
    d2 = point["mahalanobis"] ** 2
    terms = [rf"e^{{{tex_number(v)}}}" for v in point["log_numerators"]]
    if len(terms) > SHOWN_ENTRIES:
        terms = [*terms[: SHOWN_ENTRIES - 1], r"\cdots"]
    return [
        rf"x_{{{i}}} = {tex_vector(point['x'])},\quad \mu_{{{j}}} = "
        rf"{tex_vector(point['mean'])}",
        rf"\Sigma_{{{j}}} = {tex_matrix(point['covariance'])}",
        rf"D^2 = (x_{{{i}}} - \mu_{{{j}}})^\top \Sigma_{{{j}}}^{{-1}} (x_{{{i}}} - \mu_{{{j}}})"
        rf" = {tex_number(d2)}",
        aligned_lines(
            rf"\log \mathcal{{N}}(x_{{{i}}} \mid \mu_{{{j}}}, \Sigma_{{{j}}}) &= -\tfrac{{d}}{{2}}"
            rf"\log 2\pi - \tfrac{{1}}{{2}}\log\lvert\Sigma_{{{j}}}\rvert - \tfrac{{1}}{{2}}D^2",
            rf"&= {tex_number(point['log_normalizer'])} - \tfrac{{1}}{{2}}"
            rf"({tex_number(point['log_det_covariance'])}) - \tfrac{{1}}{{2}}({tex_number(d2)})",
            rf"&= {tex_number(point['log_density'])}"),  # a line of its own: never cut off
        aligned_lines(
            rf"\pi_{{{j}}}\, \mathcal{{N}}(x_{{{i}}} \mid \mu_{{{j}}}, \Sigma_{{{j}}}) &= "
            rf"{tex_number(point['weight'])} \times e^{{{tex_number(point['log_density'])}}}",
            "&= " + tex_exp(point["log_numerator"])),
        aligned_lines(
            rf"\sum_{{l=1}}^{{k}} \pi_l\, \mathcal{{N}}(x_{{{i}}} \mid \mu_l, \Sigma_l) &= "
            + " + ".join(terms), "&= " + tex_exp(point["log_denominator"])),
        aligned_lines(
            rf"\gamma_{{{i},{j}}} &= \frac{{\pi_{{{j}}}\, \mathcal{{N}}(x_{{{i}}} \mid "
            rf"\mu_{{{j}}}, \Sigma_{{{j}}})}}{{\sum_l \pi_l\, \mathcal{{N}}(x_{{{i}}} \mid \mu_l,"
            r" \Sigma_l)}",
            rf"&= e^{{{tex_number(point['log_numerator'])} - "
            rf"({tex_number(point['log_denominator'])})}} = "
            rf"{tex_number(point['responsibility'])}"),
    ]


# The covariance estimate per type; "@" stands for the component's number.
_COVARIANCE_FORMULAS = {
    "full": r"\Sigma_{@} = \frac{1}{N_{@}} \sum_{i=1}^{N} \gamma_{i,@} (x_i - \mu_{@})"
            r"(x_i - \mu_{@})^\top + \varepsilon I",
    "tied": r"\Sigma = \frac{1}{N} \sum_{l=1}^{k} \sum_{i=1}^{N} \gamma_{i,l} (x_i - \mu_l)"
            r"(x_i - \mu_l)^\top + \varepsilon I \;\text{(one for all)}",
    "diag": r"\sigma^2_{@,m} = \frac{1}{N_{@}} \sum_{i=1}^{N} \gamma_{i,@} (x_{i,m} - "
            r"\mu_{@,m})^2 + \varepsilon \;\text{(variances only)}",
    "spherical": r"\sigma^2_{@} = \frac{1}{d\, N_{@}} \sum_{i=1}^{N} \gamma_{i,@} \lVert x_i - "
                 r"\mu_{@} \rVert^2 + \varepsilon \;\text{(one variance)}",
}


def m_step_formulas(component: dict) -> list[str]:
    """The M-step for one component (``EMStepper.explain_component``): N_j, π_j, μ_j and
    the covariance as the covariance type estimates it."""
    j = component["component"]
    n_j = tex_number(component["resp_sum"])
    covariance = _COVARIANCE_FORMULAS[component["covariance_type"]].replace("@", str(j))
    return [
        rf"N_{{{j}}} = \sum_{{i=1}}^{{N}} \gamma_{{i,{j}}} = {n_j}",
        rf"\pi_{{{j}}} = \frac{{N_{{{j}}}}}{{N}} = \frac{{{n_j}}}{{{component['n_rows']}}} = "
        rf"{tex_number(component['weight'])}",
        rf"\mu_{{{j}}} = \frac{{1}}{{N_{{{j}}}}} \sum_{{i=1}}^{{N}} \gamma_{{i,{j}}}\, x_i = "
        rf"\frac{{1}}{{{n_j}}} {tex_vector(component['weighted_sum'])} = "
        rf"{tex_vector(component['mean'])}",
        aligned_lines(covariance.replace(r"\varepsilon", tex_number(component["reg_covar"]))
                  .replace(" = ", " &= ", 1),
                  rf"\Rightarrow\; \Sigma_{{{j}}} &= {tex_matrix(component['covariance'])}"),
    ]


def log_likelihood_formula(state: StepperState, n_rows: int) -> str:
    """The log-likelihood the last E-step computed."""
    return aligned_lines(
        r"\log L &= \sum_{i=1}^{N} \log \sum_{j=1}^{k} \pi_j\, \mathcal{N}(x_i \mid \mu_j,"
        r" \Sigma_j)",
        rf"&= {tex_number(state.log_likelihood, 7)} \quad (N = {n_rows})",
        rf"\tfrac{{1}}{{N}}\log L &= {tex_number(state.mean_log_likelihood, 6)}")


def convergence_formulas(mean_log_likelihoods, means_before, means_after,
                         tol: float) -> list[str]:
    """Both stopping rules at this point of the step-through: scikit-learn's (the mean
    log-likelihood of the last two E-steps) and the notebook's (how far the last M-step
    moved the means); each only once there is something to compare."""
    def verdict(change: float) -> str:
        if change < tol:
            return rf"\; < \; \mathrm{{tol}} = {tex_number(tol)} \quad \text{{(stop)}}"
        return rf"\; \geq \; \mathrm{{tol}} = {tex_number(tol)} \quad \text{{(go on)}}"

    lines = []
    if len(mean_log_likelihoods) >= 2:
        change = abs(mean_log_likelihoods[-1] - mean_log_likelihoods[-2])
        lines.append(r"\left\lvert \tfrac{1}{N}\log L^{(t)} - \tfrac{1}{N}\log L^{(t-1)}"
                     rf"\right\rvert = {tex_number(change)}" + verdict(change))
    if means_before is not None:
        shift = float(np.linalg.norm(np.asarray(means_after) - np.asarray(means_before)))
        lines.append(r"\lVert \mu^{\text{new}} - \mu^{\text{old}} \rVert_2 = "
                     f"{tex_number(shift)}" + verdict(shift))
    return lines


# ---------------------------------------------------------------- the step-through
@dataclass
class Walkthrough:
    """One session's step-through: the stepper, the parameters before its last M-step,
    the mean log-likelihood of every E-step so far, and a message for a refused click."""

    key: tuple
    stepper: EMStepper
    means_before_m_step: np.ndarray | None = None
    mean_log_likelihoods: list[float] = field(default_factory=list)
    previous: StepperState | None = None  # the state before the last half-step
    notice: str = ""


_WALKTHROUGH = "_math_walkthrough"


def walkthrough(request: FitRequest, fingerprint: str, X) -> Walkthrough:
    """The session's step-through of ``X`` with the sidebar's k, covariance type, start,
    seed and regularization; a new one whenever any of them (or the data) changes."""
    key = (data_key(request, fingerprint), int(request.k), request.covariance_type,
           request.init, int(request.seed), float(request.reg_covar))
    current = st.session_state.get(_WALKTHROUGH)
    if current is None or current.key != key:
        stepper = EMStepper(X, int(request.k), covariance_type=request.covariance_type,
                            seed=int(request.seed), init=request.init,
                            reg_covar=float(request.reg_covar))
        current = st.session_state[_WALKTHROUGH] = Walkthrough(key, stepper)
    return current


def advance(step: str) -> None:
    """Button callback: one E-step or M-step of the session's step-through."""
    walk = st.session_state.get(_WALKTHROUGH)
    if walk is None:
        return  # the page has not drawn a step-through yet: nothing to advance
    before = walk.stepper.state
    try:
        after = walk.stepper.e_step() if step == E_STEP else walk.stepper.m_step()
    except StepOrderError as exc:  # a second click before the page caught up
        walk.notice = f"That click was ignored: {exc}."
        return
    walk.notice = ""
    walk.previous = before
    if step == E_STEP:
        walk.mean_log_likelihoods.append(after.mean_log_likelihood)
    else:
        walk.means_before_m_step = before.means


def restart() -> None:
    """Button callback: back to the start."""
    st.session_state.pop(_WALKTHROUGH, None)


def clamp_choice(key: str, upper: int) -> None:
    """Keep a number input's value within 0…upper when the data or k changed under it."""
    if key in st.session_state:
        st.session_state[key] = min(max(int(st.session_state[key]), 0), upper)


# ---------------------------------------------------------------- figures
def _earlier_ellipses(data: PlotData, means, covariances, colors) -> list:
    """The 1/2/3σ ellipses of earlier parameters, dotted, to draw beside the current ones."""
    earlier = mixture_figure(data, means, covariances, np.zeros(len(data.rows), dtype=int),
                             colors, "")
    traces = [trace for trace in earlier.data if trace.name.endswith("ellipses")]
    for trace in traces:
        trace.update(name=f"{trace.name} before the M-step",
                     line={"dash": "dot", "width": 1})
    return traces


def step_figure(X, titles, state: StepperState, point: int,
                means_before: np.ndarray | None = None,
                covariances_before: np.ndarray | None = None,
                options: FigureOptions = DEFAULT_OPTIONS) -> go.Figure:
    """The step-through on the data: points coloured by their responsibilities (grey
    before the first E-step), 1/2/3σ ellipses and means of the current parameters, the
    ellipses before the last M-step dotted, and the chosen point ringed. With one
    feature: the histogram under the current densities, the points under its axis."""
    X = np.asarray(X)
    data = plot_data(X, np.arange(len(X)), plotted_dims(X), titles)
    k = len(state.weights)
    colors = component_colors(k)
    resp = state.responsibilities
    labels = np.zeros(len(data.rows), dtype=int) if resp is None else resp[data.rows].argmax(1)
    title = (f"Iteration {state.iteration}: "
             + ("start" if state.step == 0 else
                "after the E-step" if state.phase == M_STEP else "after the M-step"))
    point_colors = ([UNASSIGNED_COLOR] * len(data.rows) if resp is None else
                    [f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in blend_rgb(resp[data.rows])])
    if len(data.dims) == 1:
        figure = one_feature_figure(data, state.weights, state.means, state.covariances,
                                    point_colors, title)
        ring_y = float(figure.layout.yaxis.range[0]) / 2  # in the strip of points
    else:
        figure = mixture_figure(data, state.means, state.covariances, labels, colors, title,
                                options)
        figure.update_traces(selector={"name": "data"}, marker={"color": point_colors})
        ring_y = float(X[point, 1])
        if means_before is not None and covariances_before is not None:
            figure.add_traces(_earlier_ellipses(data, means_before, covariances_before, colors))
    figure.add_trace(go.Scatter(
        x=[float(X[point, 0])], y=[ring_y], mode="markers", name=f"x_{point}",
        hovertemplate=f"point {point}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 3}}))
    figure.update_layout(height=520)
    return figure


def _final(trace: FitTrace):
    return trace.weights[-1], trace.means[-1], trace.covariances[-1]


def density_figure(data: PlotData, trace: FitTrace,
                   options: FigureOptions = DEFAULT_OPTIONS) -> go.Figure:
    """The fitted mixture's density (its 2-D marginal on the plotted features) as
    contours in powers of ten, under the points, ellipses and means."""
    weights, means, covariances = _final(trace)
    k = len(weights)
    labels = trace.labels(-1)[data.positions]
    if len(data.dims) == 1:  # the density itself, over the histogram
        return one_feature_figure(data, weights, means, covariances,
                                  np.asarray(component_colors(k))[labels],
                                  "Density of the fitted mixture")
    figure = mixture_figure(data, means, covariances, labels,
                            component_colors(k), "Density of the fitted mixture", options)
    x_range, y_range = axis_ranges(data.xy)
    xs, ys, log_density = density_grid(weights, means, covariances, x_range, y_range,
                                       DENSITY_GRID, data.dims)
    log10_density = log_density / np.log(10)
    top = float(np.max(log10_density))
    figure.add_trace(go.Contour(
        x=xs, y=ys, z=np.maximum(log10_density, top - DENSITY_DECADES), name="density",
        colorscale="Blues", zmin=top - DENSITY_DECADES, zmax=top, ncontours=2 * DENSITY_DECADES,
        contours={"coloring": "fill", "showlines": True},
        colorbar={"title": {"text": "log₁₀ density"}},
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>log₁₀ density %{z:.2f}<extra></extra>"))
    figure.data = (figure.data[-1], *figure.data[:-1])  # the contours under everything
    figure.update_traces(selector={"name": "data"}, marker={"opacity": 0.35, "size": 4})
    figure.update_layout(height=520)
    return figure


def uncertainty_figure(data: PlotData, trace: FitTrace,
                       options: FigureOptions = DEFAULT_OPTIONS) -> go.Figure:
    """Points sized by how unsure their assignment is (1 − the largest responsibility),
    coloured by their component."""
    weights, means, covariances = _final(trace)
    resp = trace.responsibilities[-1][data.positions]
    unsure = uncertainty(resp)
    low, high = UNCERTAINTY_SIZES
    most = 1.0 - 1.0 / len(weights) if len(weights) > 1 else 1.0  # an even split
    title = "Uncertainty: 1 − largest responsibility"
    colors = component_colors(len(weights))
    if len(data.dims) == 1:
        figure = one_feature_figure(data, weights, means, covariances,
                                    np.asarray(colors)[resp.argmax(axis=1)], title)
    else:
        figure = mixture_figure(data, means, covariances, resp.argmax(axis=1), colors, title,
                                options)
    figure.update_traces(selector={"name": "data"},
                         marker={"size": low + (high - low) * np.minimum(unsure / most, 1.0),
                                 "opacity": 0.6},
                         customdata=unsure,
                         hovertemplate="%{x:.4g}<br>uncertainty %{customdata:.3f}<extra></extra>"
                         if len(data.dims) == 1 else
                         "(%{x:.4g}, %{y:.4g})<br>uncertainty %{customdata:.3f}<extra></extra>")
    figure.update_layout(height=520)
    return figure
