"""The Explore page: watch EM fit a Gaussian mixture, beside scikit-learn.

Layout and words only: the controls, caches and figures live in ``dashboard``, the
numbers in ``gmm_core``. The animation is sent before scikit-learn's fit is computed, so
it is on screen while the comparison below it is still being made.
"""

from __future__ import annotations

import streamlit as st

from dashboard import (
    cache,
    controls,
    exports,
    fit_component,
    navigation,
    pairs_plot,
    pipeline,
    sketch,
    status,
)
from dashboard.plain_text import plain, plain_link
from gmm_core.wording import counted

with st.sidebar:
    fit_component.preload()
view, dataset = navigation.shared_view(sketch_canvas=True)
# The figure and its Play button above the fold at 1280x720: only the title (not when
# presented) and the status line above it, the words about it below.
if not view.present:
    st.title("GMM Explorer")
request, fingerprint = view.request, dataset.fingerprint
if sketch.points_missing(request):  # nothing to fit yet: a canvas to draw on
    fit_component.show_canvas(sketch.canvas(request, view.figure_options()), sketch.add_points)
    st.stop()
replay = request.algorithm == "notebook"
options = view.figure_options()
try:
    prepared = cache.prepared(request)
    outcome = cache.fit(request, fingerprint)
    points_id = cache.points_id(request, fingerprint)
except Exception as exc:  # a message on the page, never a traceback
    st.error(f"This fit cannot be run: {plain(exc)}")
    st.stop()
one_feature = pipeline.one_feature(prepared)


def describe_the_data() -> None:
    n_rows, n_dims = prepared.X.shape
    st.markdown(f"**{plain(dataset.title)}** — {counted(n_rows, 'row')}, "
                + (f"fitted on one feature ({plain(prepared.axis_titles[0])}); the plot shows "
                   "its histogram. " if one_feature else
                   f"fitted in {n_dims} dimensions ({plain(', '.join(prepared.axis_titles))}); "
                   "the plot shows the first two. ")
                + ("Replaying **the notebook's algorithm**." if replay
                           else f"EM with k = {request.k}, {request.covariance_type} "
                                "covariance" + (" and a noise component (a uniform density "
                                                "over the data's volume, mclust's)."
                                                if request.noise else ".")))
    if dataset.citation or prepared.notes:
        with st.expander("About the data"):
            if dataset.citation:
                st.caption(f"Source: {plain(dataset.citation)}")
            for note in prepared.notes:
                st.caption(f"Note: {plain(note)}")


line = status.status_line(outcome)
{"success": st.success, "warning": st.warning, "error": st.error}[line.level](line.text)
for note in status.regularization_notes(outcome, prepared.axis_titles):
    st.warning(plain(note))

fit_component.show_animation(
    lambda include_points: cache.animation(request, fingerprint, options, include_points),
    points_id, controls.place_start, sketch.add_points)
describe_the_data()
if not view.present:
    st.caption("Watch the EM algorithm fit a Gaussian mixture one iteration at a time, and "
               "compare the result with scikit-learn's GaussianMixture. Every setting is in "
               "the address bar: copy the link to share this exact view.")
st.caption(
    ("Bars: the histogram of every fitted row, as a density. Coloured lines: each "
     "component's weight times its Gaussian density; black: the mixture's density, their "
     "sum. Under the axis: a reproducible sample of at most 2,000 rows, " if one_feature
     else "Points: a reproducible sample of at most 2,000 rows (the fit uses every row), ")
    + ("in the colour of the component most responsible for them, paler the less sure; "
       "black × are claimed by no component (the notebook's ε-normalization). "
       + ("Open grey circles: rows the noise component explains best. " if request.noise
          else "")
       if view.color_by == "responsibility"
       else "coloured by how uncertain their assignment is. ")
    + ("" if one_feature else "Ellipses: 1σ, 2σ and 3σ of each component. Dotted lines: "
       "each mean's path so far. ")
    + "Right: the log-likelihood, with ◇ where something happened, and "
    + ("how many rows have zero density under every component. " if replay
       else "how far the means moved. ")
    + "Play replays the fit from the start; the slider picks an iteration; ◀ ▶ step one "
    "iteration, M-step and E-step one half of it; the keys are listed under the figure, "
    "and \"Show as table\" lists the components at the iteration shown.")
pairs_plot.show(lambda: cache.pairs(request, fingerprint, options), prepared, outcome,
                view.present)

events = status.event_lines(outcome)
if events:
    with st.expander(f"What happened during the fit ({counted(len(events), 'event')})",
                     expanded=replay):
        for event in events:
            st.markdown(f"- {event}")

if replay:
    st.subheader("What the notebook's algorithm did")
    for sentence in outcome.explanation:
        (st.warning if outcome.trace.events else st.info)(sentence)


def beside_scikit_learn() -> None:
    st.subheader("Beside scikit-learn")
    missing = pipeline.no_scikit_learn_model(prepared, request)
    if missing:  # said plainly rather than compared with another model
        st.info(f"{missing}. Choose one of those to see scikit-learn's fit beside ours.")
        return
    try:
        compared = cache.comparison(request, fingerprint)
    except Exception as exc:
        st.error(f"scikit-learn's fit cannot be run: {plain(exc)}")
        return
    theirs = compared.theirs.covariance_type
    st.caption("scikit-learn's GaussianMixture with the same k, tolerance, seed, iteration "
               "limit and regularization"
               + (" and full covariances" if replay else " and covariance type" if
                  theirs == request.covariance_type else
                  f" and the same model under its name, {theirs}")
               + ", started its own way (k-means), as a user would run it. Its components "
               "take the colour of ours they are matched to (least total distance between "
               "means).")
    fit_component.show_panels(cache.panels(request, fingerprint, options))

    scores, matched = cache.comparison_tables(request, fingerprint)
    st.markdown(scores)
    comparison = compared.comparison
    if comparison is None:
        st.info("The notebook's trace is matched to scikit-learn by its means only: compare "
                "the means in the two panels above.")
    else:
        st.metric("Adjusted Rand index between the two labelings",
                  f"{comparison.adjusted_rand_index:.3f}",
                  help="1 means both fits split the points the same way; 0 is chance.")
        st.info(comparison.explanation)
        st.markdown("**Matched components** (ours, and the scikit-learn component paired with "
                    "it)")
        st.markdown(matched)


beside_scikit_learn()
st.subheader("Share and download")
link = navigation.view_link(st.context.url, view)
st.markdown(f"**Link to this view** (copy it to share; it opens this page with every "
            f"setting above): {plain_link(link)}")
stem = exports.file_stem(request)
downloads = st.columns(3)
downloads[0].download_button(
    "Labels and responsibilities (CSV)", on_click="ignore", mime="text/csv",
    data=lambda: exports.labels_csv_text(dataset, prepared, outcome),
    file_name=f"{stem}_labels.csv", key="download_labels", help=exports.labels_help(outcome))
downloads[1].download_button(
    "Fitted parameters (JSON)", on_click="ignore", mime="application/json",
    data=lambda: exports.parameters_json_text(request, prepared, outcome),
    file_name=f"{stem}_parameters.json", key="download_parameters",
    help="Weights, means and covariances (scikit-learn's shapes, in the fitted units), "
         "the fit's summary and events, the settings, and the standardization.")
downloads[2].download_button(
    "Animated figure (HTML)", on_click="ignore", mime="text/html",
    data=lambda: exports.animation_html(
        cache.animation(request, fingerprint, options, include_points=True),
        title=f"GMM Explorer: {dataset.title}",
        pairs=cache.pairs(request, fingerprint, options)),
    file_name=f"{stem}_animation.html", key="download_animation",
    help="The animation above as a web page that opens without this server, offline too.")
