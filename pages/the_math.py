"""The math: the notebook's derivations, then EM stepped through on the current data with
every formula filled in, and the fitted mixture's density and uncertainty. Layout and
words only (see ``dashboard.math_view``)."""

from __future__ import annotations

import streamlit as st

from dashboard import cache, navigation
from dashboard import math_view as math
from dashboard.figures import PLOTLY_CONFIG
from dashboard.pipeline import drawn_points, one_feature
from dashboard.plain_text import plain
from gmm_core.stepper import E_STEP, M_STEP
from gmm_core.wording import counted

st.set_page_config(page_title="The math · GMM Explorer", layout="wide")
st.title("The math")
st.caption("The formulas of the seed notebook, then the same formulas with this data's "
           "numbers in them, one half-step of EM at a time.")
view, dataset = navigation.shared_view()
request = view.request

st.header("The model")
st.markdown("A Gaussian mixture says each point $x_i$ (a vector of $d$ features) comes "
            "from one of $k$ Gaussian components, component $j$ chosen with probability "
            "$\\pi_j$. The density of component $j$ is the multivariate Gaussian")
st.latex(r"\mathcal{N}(x \mid \mu_j, \Sigma_j) = \frac{1}{\sqrt{(2\pi)^d \lvert\Sigma_j"
         r"\rvert}} \exp\!\left(-\tfrac{1}{2} (x - \mu_j)^\top \Sigma_j^{-1} (x - \mu_j)\right)")
st.markdown("and the mixture's density is their weighted sum, $p(x) = \\sum_j \\pi_j\\, "
            "\\mathcal{N}(x \\mid \\mu_j, \\Sigma_j)$. In code it is computed in logs, with "
            "a Cholesky factor $\\Sigma_j = L_j L_j^\\top$ instead of an inverse and a "
            "determinant, so that far points never underflow to a density of zero:")
st.latex(r"\log \mathcal{N}(x \mid \mu_j, \Sigma_j) = -\tfrac{d}{2}\log 2\pi - \sum_m "
         r"\log (L_j)_{mm} - \tfrac{1}{2} \lVert L_j^{-1} (x - \mu_j) \rVert^2")

st.subheader("E-step: responsibilities")
st.markdown("Given the parameters, Bayes' theorem gives the probability that point $i$ "
            "came from component $j$, its *responsibility*:")
st.latex(r"\gamma_{ij} = \frac{\pi_j\, \mathcal{N}(x_i \mid \mu_j, \Sigma_j)}{\sum_{l=1}^{k}"
         r" \pi_l\, \mathcal{N}(x_i \mid \mu_l, \Sigma_l)} = \exp\Big(\log \pi_j + \log "
         r"\mathcal{N}_{ij} - \operatorname{logsumexp}_l\,(\log \pi_l + \log "
         r"\mathcal{N}_{il})\Big)")

st.subheader("M-step: new parameters")
st.markdown("Given the responsibilities, each component takes a weighted share of the "
            "points: $N_j = \\sum_i \\gamma_{ij}$ of them.")
st.latex(r"\pi_j = \frac{N_j}{N}, \qquad \mu_j = \frac{1}{N_j}\sum_{i=1}^{N} \gamma_{ij}"
         r"\, x_i, \qquad \Sigma_j = \frac{1}{N_j}\sum_{i=1}^{N} \gamma_{ij}\,(x_i - \mu_j)"
         r"(x_i - \mu_j)^\top + \varepsilon I")
st.markdown("$\\varepsilon$ is the regularization (scikit-learn's `reg_covar`): it keeps a "
            "component that shrinks onto a few identical points from a singular "
            "covariance. *Tied* shares one $\\Sigma$ between all components, *diagonal* "
            "keeps only the variances, *spherical* one variance per component.")

st.subheader("Log-likelihood and stopping")
st.markdown("Every E-step also scores the parameters; EM never lowers this score:")
st.latex(r"\log L = \sum_{i=1}^{N} \log \sum_{j=1}^{k} \pi_j\, \mathcal{N}(x_i \mid \mu_j,"
         r" \Sigma_j)")
st.markdown("Two rules decide when to stop. scikit-learn's (and ours by default) watches "
            "the mean log-likelihood; the notebook's watches the means:")
st.latex(r"\left\lvert \tfrac{1}{N}\log L^{(t)} - \tfrac{1}{N}\log L^{(t-1)} \right\rvert"
         r" < \mathrm{tol} \qquad\text{or}\qquad \lVert \mu^{(t)} - \mu^{(t-1)} \rVert_2 "
         r"< \mathrm{tol}")
st.markdown("Each point then belongs to its most responsible component, "
            "$\\hat{z}_i = \\arg\\max_j \\gamma_{ij}$.")

st.header("Step through EM on this data")
try:
    prepared = cache.prepared(request)
    walk = math.walkthrough(request, dataset.fingerprint, prepared.X)
except ValueError as exc:  # a message on the page, never a traceback
    st.error(f"EM cannot be stepped through here: {plain(exc)}")
    st.stop()
n_rows = len(prepared.X)
single = one_feature(prepared)
st.markdown(f"**{plain(dataset.title)}**: {counted(n_rows, 'row')} in "
            f"{counted(prepared.X.shape[1], 'dimension')} "
            f"({plain(', '.join(prepared.axis_titles))}), k = {request.k}, "
            f"{request.covariance_type} covariance, started by {request.init} with seed "
            f"{request.seed} — the sidebar's settings. Change them there to start again.")

phase = walk.stepper.phase
buttons = st.columns([1, 1, 1, 3])
buttons[0].button("E-step", key="e_step", on_click=math.advance, args=(E_STEP,),
                  disabled=phase != E_STEP, type="primary" if phase == E_STEP else "secondary",
                  help="Responsibilities from the current parameters.")
buttons[1].button("M-step", key="m_step", on_click=math.advance, args=(M_STEP,),
                  disabled=phase != M_STEP, type="primary" if phase == M_STEP else "secondary",
                  help="New parameters from the responsibilities.")
buttons[2].button("Start again", key="restart", on_click=math.restart)
if walk.notice:
    st.warning(walk.notice)

math.clamp_choice("math_point", n_rows - 1)
math.clamp_choice("math_component", request.k - 1)
chosen = st.columns(2)
point = chosen[0].number_input("Point i (a row of the data)", 0, n_rows - 1, step=1,
                               key="math_point")
component = chosen[1].number_input("Component j", 0, request.k - 1, step=1,
                                   key="math_component")

state = walk.stepper.state
just_did = None if state.step == 0 else "E" if phase == M_STEP else "M"
st.markdown(f"**Iteration {state.iteration}**, {counted(state.step, 'half-step')} done; "
            + ("the start: no responsibilities yet. " if just_did is None else
               f"just did the {just_did}-step. ")
            + f"Next: the **{phase}-step**.")
for event in state.events:
    st.warning(f"Iteration {event.iteration}: {event.message}")

figure_column, formula_column = st.columns([2, 3])
previous = walk.previous if just_did == "M" else None
with figure_column:
    st.plotly_chart(
        math.step_figure(prepared.X, prepared.axis_titles[:2], state, int(point),
                         None if previous is None else previous.means,
                         None if previous is None else previous.covariances,
                         view.figure_options()),
        key="step_figure", config=PLOTLY_CONFIG)
    st.caption("Points in the colour of their likeliest component, paler the less sure "
               "(grey before the first E-step); "
               + ("under the axis, beneath the histogram and each component's weighted "
                  "density with the current parameters (black: the mixture's)"
                  if single else "1σ, 2σ and 3σ ellipses of the current parameters, "
                  "dotted: before the last M-step")
               + "; the ring marks point i.")
with formula_column:
    st.markdown(f"**E-step for point {point} and component {component}** — "
                + ("what the last E-step computed" if just_did == "E"
                   else "what the next E-step will compute"))
    for line in math.e_step_formulas(walk.stepper.explain_point(int(point), int(component))):
        st.latex(line)
    if state.mean_log_likelihood is not None:
        st.latex(math.log_likelihood_formula(state, n_rows))
    if state.step > 0:
        st.markdown(f"**M-step for component {component}** — "
                    + ("the parameters it set" if just_did == "M"
                       else "what the next M-step will set, from these responsibilities"))
        for line in math.m_step_formulas(walk.stepper.explain_component(int(component))):
            st.latex(line)
    rules = math.convergence_formulas(walk.mean_log_likelihoods, walk.means_before_m_step,
                                      state.means, request.tol)
    if rules:
        st.markdown("**Stopping rules** with the sidebar's tolerance")
        for line in rules:
            st.latex(line)

st.header("The fitted mixture")
try:
    outcome = cache.fit(request, dataset.fingerprint)
    data = drawn_points(prepared, outcome.trace)
    density = math.density_figure(data, outcome.trace, view.figure_options())
except ValueError as exc:
    st.error(f"The fitted mixture cannot be drawn: {plain(exc)}")
    st.stop()
st.caption("The Explore page's fit of the same settings, run to convergence.")
density_column, uncertainty_column = st.columns(2)
with density_column:
    st.plotly_chart(density, key="density", config=PLOTLY_CONFIG)
    st.caption("The mixture's density p(x) (black) and each component's share of it over "
               "the histogram of the drawn points." if single else
               "Contours of the mixture's density p(x) on the two plotted features, in "
               "powers of ten below its peak (for fits in more dimensions, the density of "
               "those two features with the others integrated out).")
with uncertainty_column:
    st.plotly_chart(math.uncertainty_figure(data, outcome.trace, view.figure_options()),
                    key="uncertainty", config=PLOTLY_CONFIG)
    st.caption("The bigger the point, the less sure its assignment: 1 − its largest "
               "responsibility, 0 for a point one component owns, up to 1 − 1/k for an "
               "even split. Big points gather where components overlap.")
