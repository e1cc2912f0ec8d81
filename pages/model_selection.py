"""Model selection: BIC and AIC against k for each covariance type, and the best model
opened on the Explore page. Layout and words only (see ``dashboard.selection_view``)."""

from __future__ import annotations

import streamlit as st

from dashboard import navigation, presentation
from dashboard import selection_view as sweeps
from dashboard.controls import COVARIANCE_LABELS
from dashboard.figures import PLOTLY_CONFIG
from dashboard.plain_text import plain
from dashboard.query_state import K_RANGE
from gmm_core.request import COVARIANCE_TYPES
from gmm_core.selection import CRITERIA
from gmm_core.wording import counted

st.set_page_config(page_title="Model selection · GMM Explorer", layout="wide")
st.title("Model selection")
st.caption("How many components does the data need, and what shape should they have? "
           "Fit every k from 1 up to a largest k for each covariance type, and compare "
           "the fits by the Bayesian and Akaike information criteria: the log-likelihood "
           "rewarded, the number of parameters penalized.")

view, dataset = navigation.shared_view()
request = view.request
st.markdown(f"**{plain(dataset.title)}**, fitted on "
            f"{plain(', '.join(dataset.features[name].label for name in request.features))}"
            + (" (standardized)" if request.standardize else "")
            + " — the data set and features chosen in the sidebar.")

sweeps.form_state()
with st.form("sweep_form"):
    # A row of its own: in a third of the page the box showed two of the four types.
    st.multiselect("Covariance types", COVARIANCE_TYPES, key="sweep_types",
                   format_func=COVARIANCE_LABELS.get)
    left, right = st.columns(2)
    left.slider("Largest k", *K_RANGE, key="sweep_k_max")
    right.number_input("Restarts per fit (n_init)", *sweeps.N_INIT_RANGE, step=1,
                       key="sweep_n_init",
                       help="Each fit starts this many times (different seeds) and keeps "
                            "its best likelihood: fewer fits stuck in a poor local optimum.")
    submitted = st.form_submit_button("Run the sweep", type="primary")

try:
    wanted = sweeps.wanted_sweep(submitted)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
if wanted is None:
    st.info("Choose the largest k, the covariance types and the restarts, then press "
            "**Run the sweep**.")
    st.stop()

progress = sweeps.SweepProgress()
try:
    result = sweeps.run_sweep(request, dataset.fingerprint, wanted, progress)
except ValueError as exc:  # a message on the page, never a traceback
    st.error(f"This sweep cannot be run: {plain(exc)}")
    st.stop()
finally:
    progress.clear()

try:
    summaries = [sweeps.best_summary(result, criterion) for criterion in CRITERIA]
except ValueError as exc:  # every fit singular: nothing to choose
    st.error(f"No best model: {plain(exc)}.")
    presentation.table(result.table, view.present, hide_index=True)
    st.stop()
st.success(summaries[0])
st.info(summaries[1])
st.plotly_chart(presentation.sized(sweeps.sweep_figure(result), view.present),
                key="sweep_chart", config=PLOTLY_CONFIG)
st.caption("BIC = −2 log L + p log N and AIC = −2 log L + 2p, for N rows and p free "
           "parameters (scikit-learn's sign: lower is better; mclust plots −BIC, where "
           "higher is better). BIC's heavier penalty usually picks fewer components than "
           "AIC. ★ marks each criterion's best model.")

criterion = st.radio("Best model by", CRITERIA, horizontal=True, key="sweep_criterion",
                     format_func=sweeps.CRITERION_TITLES.get)
best_k, best_type = result.best(criterion)
if st.button(f"Open the best model on the Explore page (k = {best_k}, {best_type})",
             key="open_best", type="primary", on_click=navigation.choose_model,
             args=(best_k, best_type)):
    st.switch_page(navigation.EXPLORE_PAGE)
st.caption("The Explore page fits it with the sidebar's start, seed and tolerance, as "
           "here" + (", but one start instead of the sweep's restarts, so it may land "
                     "on another optimum" if wanted.n_init > 1 else "")
           + ". Every fit stops when the log-likelihood changes by less than the "
           "tolerance, whatever the sidebar's convergence rule.")

st.subheader(f"{sweeps.CRITERION_TITLES[criterion]} by k and covariance type")
presentation.table(sweeps.criterion_table(result, criterion), view.present)
with st.expander("Every fit: criteria, log-likelihood, iterations"):
    presentation.table(result.table, view.present, hide_index=True)
singular = sweeps.singular_fits(result)
if singular:
    st.info(f"Singular, so never chosen as best (hollow markers; hover for why): "
            f"{', '.join(singular)}. A component of each holds too few points for its "
            "covariance, or sits on a point or a flat set, so its likelihood is bounded "
            "only by the regularization and its BIC says nothing about the clusters.")
stuck = sweeps.unconverged(result)
if stuck:
    st.warning(f"Stopped at the iteration cap ({request.max_iters}) before converging: "
               f"{', '.join(stuck)}. Raise Max iterations in the sidebar to finish them.")
st.caption(f"{counted(len(result.table), 'fit')}: {result.n_cached} from earlier sweeps on "
           "this data, "
           f"{len(result.table) - result.n_cached} new"
           + (f", in {result.n_jobs} worker processes." if result.n_jobs > 1 else "."))
