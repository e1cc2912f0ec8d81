"""Model selection: BIC, ICL or AIC against k for each of mclust's covariance models,
mclust's "top 3 models", and any model opened on the Explore page. Layout and words only
(see ``dashboard.selection_view``)."""

from __future__ import annotations

import streamlit as st

from dashboard import navigation, presentation
from dashboard import selection_view as sweeps
from dashboard.controls import covariance_choice
from dashboard.figures import PLOTLY_CONFIG
from dashboard.plain_text import named_link, plain
from dashboard.query_state import K_RANGE
from gmm_core.model_names import FAMILIES, UNIVARIATE, description, label
from gmm_core.wording import counted

st.set_page_config(page_title="Model selection · GMM Explorer", layout="wide")
st.title("Model selection")
st.caption("How many components does the data need, and what shape should they have? "
           "Fit every k from 1 up to a largest k for each of mclust's covariance models, "
           "and compare the fits by an information criterion: the log-likelihood "
           "rewarded, the number of parameters penalized.")

view, dataset = navigation.shared_view()
request = view.request
st.markdown(f"**{plain(dataset.title)}**, fitted on "
            f"{plain(', '.join(dataset.features[name].label for name in request.features))}"
            + (" (standardized)" if request.standardize else "")
            + " — the data set and features chosen in the sidebar."
            + (" Every fit has a **noise component** (the sidebar's): a uniform density "
               "over the data's volume for the outliers, as mclust's noise option; its "
               "weight is one more parameter in each criterion, and k counts the "
               "Gaussians." if request.noise else ""))

models = sweeps.form_state(len(request.features))
with st.expander("The models: what each keeps equal across components, and what varies"):
    groups = {UNIVARIATE: models} if len(request.features) == 1 else FAMILIES
    st.markdown("\n".join(f"- **{family}**: " + "; ".join(
        f"{label(model)}: {description(model)}" for model in members)
        for family, members in groups.items()))
    st.caption("mclust's names (Scrucca et al. 2016): volume, shape and orientation, each "
               "Equal across components, Varying, or the Identity (round, or along the "
               "axes). scikit-learn's full, tied, diag and spherical are VVV, EEE, VVI "
               "and VII.")
with st.form("sweep_form"):
    # A row of its own: fourteen models need the page's width.
    st.multiselect("Covariance models", models, key="sweep_types",
                   format_func=covariance_choice)
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
    st.info("Choose the models, the largest k and the restarts, then press "
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

criterion = st.radio("Criterion", list(sweeps.CRITERION_TITLES), horizontal=True,
                     key="sweep_criterion", format_func=sweeps.CRITERION_TITLES.get)
name = sweeps.CRITERION_TITLES[criterion]
try:
    summary = sweeps.best_summary(result, criterion)
except ValueError as exc:  # every fit singular: nothing to choose
    st.error(f"No best model: {plain(exc)}.")
    presentation.table(result.table, view.present, hide_index=True)
    st.stop()
st.success(summary)
st.plotly_chart(presentation.sized(sweeps.sweep_figure(result, criterion, view.palette),
                                   view.present),
                key="sweep_chart", config=PLOTLY_CONFIG)
st.caption("BIC = −2 log L + p log N, ICL = BIC + twice the entropy of the hard "
           "classification, AIC = −2 log L + 2p, for N rows and p free parameters "
           "(scikit-learn's sign: lower is better; mclust plots −BIC, where higher is "
           "better). BIC's heavier penalty usually picks fewer components than AIC; ICL "
           "also penalizes overlapping components. ★ marks the best model; dotted lines "
           "are spherical models, dashed diagonal, solid ellipsoidal.")

st.subheader(f"Top {sweeps.TOP} models by {name}")
top = sweeps.top_models(result, criterion)
presentation.table(top[["model,k", name, "difference to the best"]], view.present,
                   hide_index=True)
st.markdown("Open on the Explore page: " + " · ".join(
    named_link(model, navigation.model_link(st.context.url, view, k, covariance_type))
    for model, k, covariance_type in zip(top["model,k"], top["k"], top["covariance_type"],
                                         strict=True)))

st.subheader("Open any model on the Explore page")
best_k, best_type = result.best(criterion)
swept = list(dict.fromkeys(result.table["covariance_type"]))
left, right = st.columns(2)
# Without keys: a new criterion or sweep starts both boxes again on its best model.
chosen_type = left.selectbox("Model", swept, index=swept.index(best_type),
                             format_func=covariance_choice)
ks = sorted(set(result.table["k"]))
chosen_k = right.selectbox("k", ks, index=ks.index(best_k))
if st.button(f"Open {label(chosen_type)} with k = {chosen_k} on the Explore page",
             key="open_model", type="primary", on_click=navigation.choose_model,
             args=(chosen_k, chosen_type, request.noise)):
    st.switch_page(navigation.EXPLORE_PAGE)
link = navigation.model_link(st.context.url, view, chosen_k, chosen_type)
st.markdown(f"Or {named_link('its link', link)}, to share or to open in a new tab (a link to an "
            "uploaded file opens the default data elsewhere: the file stays in this "
            "session).")
st.caption("The Explore page fits it with the sidebar's start, seed, tolerance and "
           "noise component, as here"
           + (", but one start instead of the sweep's restarts, so it may land on another "
              "optimum" if wanted.n_init > 1 else "")
           + ". Every fit stops when the log-likelihood changes by less than the "
           "tolerance, whatever the sidebar's convergence rule.")

st.subheader(f"{name} by k and model")
presentation.table(sweeps.criterion_table(result, criterion), view.present)
with st.expander("Every fit: criteria, log-likelihood, iterations"):
    presentation.table(result.table, view.present, hide_index=True)
singular = sweeps.singular_fits(result)
if singular:
    st.info(f"Singular, so never chosen as best (hollow markers; hover for why): "
            f"{', '.join(singular)}. A component of each holds too few points for its "
            "covariance, or sits on a point or a flat set, so its likelihood is bounded "
            "only by the regularization and its criterion says nothing about the clusters.")
stuck = sweeps.unconverged(result)
if stuck:
    st.warning(f"Stopped at the iteration cap ({request.max_iters}) before converging: "
               f"{', '.join(stuck)}. Raise Max iterations in the sidebar to finish them.")
st.caption(f"{counted(len(result.table), 'fit')}: {result.n_cached} from earlier sweeps on "
           "this data, "
           f"{len(result.table) - result.n_cached} new"
           + (f", in {result.n_jobs} worker processes." if result.n_jobs > 1 else "."))
