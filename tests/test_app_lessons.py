"""The Lessons page run by Streamlit's AppTest: it lists every lesson with its links,
and every link's query opens its page (a new session, as a click on the link opens a new
tab) without an exception or an error."""

from __future__ import annotations

import pytest
from spec4000_fixture import write_spec4000
from test_app_explore import _own_data_home, assert_clean  # noqa: F401 (an autouse fixture)
from test_app_pages import RUN_SWEEP, open_page, text

from dashboard.lessons import LESSONS, MODEL_SELECTION_PAGE

LESSONS_PAGE = "pages/lessons.py"
VIEWS = [view for lesson in LESSONS for view in lesson.views]


def test_the_lessons_page_lists_every_lesson_with_its_links():
    at = open_page(LESSONS_PAGE)
    assert_clean(at)
    assert at.title[0].value == "Lessons"
    assert [header.value for header in at.subheader] == [lesson.title for lesson in LESSONS]
    shown = text(at)
    for lesson in LESSONS:
        assert lesson.explanation in shown and lesson.claim in shown
        for view in lesson.views:
            assert f"[{view.label}]({view.url})" in shown


def test_the_lessons_page_keeps_the_sidebar_for_the_next_page():
    at = open_page("pages/explore.py", {"dataset": "iris", "k": "5"})
    at.switch_page(LESSONS_PAGE).run()
    at.switch_page("pages/the_data.py").run()
    assert_clean(at)
    assert (at.selectbox(key="dataset").value, at.slider(key="k").value) == ("iris", 5)


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.label)
def test_every_link_opens_its_view(view, data_home):
    if view.params["dataset"] == "sdss":
        write_spec4000(data_home, n=200)
    at = open_page(view.page, view.params)
    assert_clean(at)
    assert at.selectbox(key="dataset").value == view.params["dataset"]
    assert at.slider(key="k").value == int(view.params["k"])
    assert at.toggle(key="replay").value == (view.params.get("replay") == "true")
    if view.page == MODEL_SELECTION_PAGE:
        (submit,) = [button for button in at.button if button.label == RUN_SWEEP]
        submit.click().run()
        assert_clean(at)
        assert at.success[0].value.startswith("Lowest BIC: k = 3 ")
