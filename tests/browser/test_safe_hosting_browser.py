"""Safe to host, in Debian's Chromium against a real ``streamlit run app.py``: Markdown and
HTML in a link's values or an uploaded file's column names show as plain text on every
page, the browser asks for nothing beyond the server (every request is routed, and any to
another host aborted and recorded), and no element offers to share or deploy the app."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.explore_page import (
    ANIMATION,
    APP_IDLE,
    EXCEPTION,
    VIEWPORT,
    animated_chart,
    download_animation,
    labelled,
    play_button,
    seed_step_up,
)
from tests.browser.test_pages_browser import open_from_sidebar

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"file", "data", "blob"}  # the saved export, inline images and scripts
# The payload's addresses: loopback, so a request to them leaves nothing, but any such
# request means the page turned a link value into a link or an image.
PAYLOAD_ORIGIN = "http://127.0.0.1:9"
MARKUP = (f"[link]({PAYLOAD_ORIGIN}/x) ![img]({PAYLOAD_ORIGIN}/i.png) <b>bold</b>"
          f"<img src={PAYLOAD_ORIGIN}/j.png> <a href='{PAYLOAD_ORIGIN}/a'>a</a> `tick`")
# Newlines first: unescaped, "# heading" would open a heading of its own.
LINK_PAYLOAD = f"\n\n# heading\n{MARKUP}"
QUERY_KEYS = ("dataset", "x", "y", "extra", "means", "sketch", "k", "tol", "seed",
              "max_iters", "covariance_type", "init", "convergence", "reg_covar",
              "standardize", "replay", "color", "palette", "present")
PAGES = {"": "GMM Explorer", "model_selection": "Model selection", "the_math": "The math",
         "the_data": "The data", "lessons": "Lessons"}
COLUMNS = ("# heading <b>bold</b>", MARKUP)
FILE_NAME = "<b>named<b> `file`.csv"
SHARE_OR_DEPLOY = re.compile(r"share|deploy", re.IGNORECASE)


@dataclass
class Traffic:
    """What the tab asked for beyond the server (aborted) and of the payload's address."""

    outside: list[str] = field(default_factory=list)
    to_payload: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)


@pytest.fixture
def guarded(browser, explore_app):
    """A tab whose every request is routed: one to a host other than this machine is
    aborted and recorded, one to the payload's address too."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    traffic = Traffic()

    def route(request_route):
        url = request_route.request.url
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return request_route.continue_()
        if parts.hostname not in LOOPBACK:
            traffic.outside.append(url)
            return request_route.abort()
        if url.startswith(PAYLOAD_ORIGIN + "/"):
            traffic.to_payload.append(url)
            return request_route.abort()
        return request_route.continue_()

    context.route("**/*", route)
    context.on("page", lambda tab: tab.on(
        "websocket", lambda socket: traffic.websockets.append(socket.url)))
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    yield tab, traffic
    context.close()


def assert_no_markup_from_the_payload(tab) -> None:
    """No heading, link, image, bold or code made of the payload; Plotly's titles too."""
    expect(tab.locator("h1, h2, h3, h4, h5, h6").filter(has_text="heading")).to_have_count(0)
    at_payload = f"'{PAYLOAD_ORIGIN}/'"
    expect(tab.locator(f"[href^={at_payload}], [src^={at_payload}]")).to_have_count(0)
    expect(tab.locator(f"svg a, [*|href^={at_payload}]")).to_have_count(0)
    expect(tab.locator("b").filter(has_text=re.compile("bold|named"))).to_have_count(0)
    expect(tab.locator("code").filter(has_text="tick")).to_have_count(0)


def shown_text(tab) -> str:
    """The page's text as a reader sees it: the word joiners that keep addresses from
    becoming links (``dashboard.plain_text``) are invisible."""
    return " ".join(tab.evaluate("() => document.body.innerText")
                    .replace("\u2060", "").split())


def assert_no_share_or_deploy(tab) -> None:
    expect(tab.get_by_test_id("stAppDeployButton")).to_have_count(0)
    expect(tab.get_by_role("button", name=SHARE_OR_DEPLOY)).to_have_count(0)
    expect(tab.locator("[data-title*='share' i]")).to_have_count(0)  # Plotly's modebar


def open_and_wait(tab, url: str, title: str) -> None:
    tab.goto(url)
    expect(tab.locator("h1", has_text=title)).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    expect(tab.locator(EXCEPTION)).to_have_count(0)


def test_link_values_show_as_plain_text_on_every_page(guarded, explore_app):
    tab, traffic = guarded
    query = urlencode(dict.fromkeys(QUERY_KEYS, LINK_PAYLOAD))
    for path, title in PAGES.items():
        open_and_wait(tab, f"{explore_app.url}/{path}?{query}", title)
        if path != "lessons":  # the one page without the sidebar ignores the link's view
            expect(tab.get_by_test_id("stAlertContentWarning").first).to_be_visible()
            assert f"seed= # heading {MARKUP} is not a whole number" in shown_text(tab)
        assert_no_markup_from_the_payload(tab)
    assert traffic.to_payload == [] and traffic.outside == []


def upload_hostile_csv(tab) -> None:
    rows = "\n".join(f"{i % 7}.5,{(i * 3) % 11}.25" for i in range(60))
    content = ",".join(f'"{name}"' for name in COLUMNS) + "\n" + rows + "\n"
    labelled(tab, "stSelectbox", "Dataset").click()
    tab.get_by_role("option", name="Upload a CSV…").click()
    tab.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        files=[{"name": FILE_NAME, "mimeType": "text/csv", "buffer": content.encode()}])


def test_column_and_file_names_show_as_plain_text_on_every_page(guarded, explore_app):
    tab, traffic = guarded
    tab.goto(explore_app.url)
    expect(animated_chart(tab)).to_be_visible()
    upload_hostile_csv(tab)
    expect(tab.get_by_text(f"{FILE_NAME} — 60 rows")).to_be_visible()
    assert f"fitted in 2 dimensions ({COLUMNS[0]}, {COLUMNS[1]})" in shown_text(tab)
    expect(animated_chart(tab)).to_be_visible()
    # Plotly draws the column names as they are, as the axes' titles
    expect(tab.locator(f"{ANIMATION} .g-xtitle")).to_have_text(COLUMNS[0])
    expect(tab.locator(f"{ANIMATION} .g-ytitle")).to_have_text(" ".join(COLUMNS[1].split()))
    assert_no_markup_from_the_payload(tab)

    for title in ("Model selection", "The math", "The data"):
        open_from_sidebar(tab, title, wait_for_chart=False)
        expect(tab.get_by_text(COLUMNS[0], exact=False).first).to_be_visible()
        assert f"{FILE_NAME}: 60 rows" in shown_text(tab) or title == "Model selection"
        assert f"{COLUMNS[0]}, {COLUMNS[1]}" in shown_text(tab)
        assert_no_markup_from_the_payload(tab)
    expect(tab.locator(".js-plotly-plot .gtitle, .js-plotly-plot .annotation-text").filter(
        has_text=COLUMNS[0]).first).to_be_visible()  # The data's histogram titles
    assert traffic.to_payload == [] and traffic.outside == []


def test_nothing_leaves_the_server_and_nothing_offers_to_share(guarded, explore_app,
                                                                 tmp_path):
    tab, traffic = guarded
    tab.goto(explore_app.url)
    expect(animated_chart(tab)).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    seed_step_up(tab).click()
    tab.wait_for_selector(APP_IDLE)
    play_button(tab).click()
    expect(tab.locator(f"{ANIMATION} .modebar-btn").first).to_be_attached()
    assert_no_share_or_deploy(tab)
    nav = tab.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="The data")).to_be_visible()
    expect(nav.get_by_text("Large catalog")).to_have_count(0)  # no catalog configured

    exported = download_animation(tab, tmp_path)

    open_from_sidebar(tab, "Model selection", wait_for_chart=False)
    tab.get_by_role("button", name="Run the sweep").click()
    expect(tab.get_by_test_id("stPlotlyChart")).to_have_count(1)
    tab.wait_for_selector(APP_IDLE)
    open_from_sidebar(tab, "The math", wait_for_chart=False)
    tab.get_by_role("button", name="E-step", exact=True).click()
    expect(tab.get_by_role("button", name="M-step", exact=True)).to_be_enabled()
    open_from_sidebar(tab, "The data", wait_for_chart=False)
    expect(tab.get_by_test_id("stPlotlyChart").first).to_be_visible()
    expect(tab.locator("[data-testid=stPlotlyChart] .modebar-btn").first).to_be_attached()
    assert_no_share_or_deploy(tab)
    open_from_sidebar(tab, "Lessons", wait_for_chart=False)
    tab.get_by_test_id("stMainMenu").get_by_role("button").first.click()
    expect(tab.get_by_test_id("stMainMenuList")).to_be_visible()
    expect(tab.get_by_test_id("stMainMenuList").get_by_text(SHARE_OR_DEPLOY)).to_have_count(0)
    tab.keyboard.press("Escape")

    tab.goto(f"{explore_app.url}/large_catalog")  # not listed, so not served either
    tab.wait_for_selector(APP_IDLE)
    expect(tab.locator("h1", has_text="Large catalog")).to_have_count(0)

    tab.goto(exported.as_uri())  # the offline page: its own figure, no Share either
    expect(tab.locator(f"{ANIMATION} .js-plotly-plot")).to_be_visible()
    expect(tab.locator(f"{ANIMATION} .modebar-btn").first).to_be_attached()
    assert_no_share_or_deploy(tab)

    assert traffic.outside == []
    assert traffic.websockets and all(urlsplit(url).hostname in LOOPBACK
                                      for url in traffic.websockets)
