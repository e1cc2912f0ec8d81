"""User text made literal for Markdown (``plain``), for a Markdown link (``plain_link``) and
for Plotly's titles (``plotly_plain``). What Streamlit's browser then shows is checked in
``tests/browser/test_safe_hosting_browser.py``."""

from __future__ import annotations

import re
import string
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.plain_text import plain, plain_link, plotly_plain

PAYLOADS = [
    "# Session expired",
    "[Sign in](https://example.com/login)",
    "![img](http://127.0.0.1:9/i.png)",
    "<b>bold</b><img src=http://127.0.0.1:9/i.png>",
    "`code` and ```fence```",
    ":red[alarm] $x^2$ :material/home:",
    "a | b\n--|--\n1 | 2",
    "&lt; &amp; \\*not bold\\*",
    "1. item\n- item\n> quote",
]
ESCAPED = re.compile(r"\\.")


WORD_JOINER = "\u2060"


def unescape(text: str) -> str:
    """What the reader sees of escaped text: each escaped character itself, and the
    invisible word joiners that break autolinks and shortcodes not at all."""
    return re.sub(r"\\(.)", r"\1", text).replace(WORD_JOINER, "")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_markup_character_is_escaped_and_the_text_kept(payload):
    shown = plain(payload)
    assert "\n" not in shown
    assert not set(ESCAPED.sub("", shown)) & set(string.punctuation)
    assert unescape(shown) == " ".join(payload.split())


@given(st.text(st.characters(exclude_characters=WORD_JOINER)))
def test_any_text_reads_back_as_itself_on_one_line(text):
    shown = plain(text)
    assert unescape(shown) == " ".join(text.split())
    assert not any(c in shown for c in "\n\r\t")


def test_the_seed_parameter_of_the_finding_becomes_one_plain_line():
    payload = "\n\n# Session expired\n[Sign in](https://example.com/login)"
    assert plain(payload) == (r"\# Session expired \[Sign in\]\(https\:" + WORD_JOINER
                              + r"\/\/example\.com\/login\)")


def test_a_link_keeps_its_address_as_text_and_target():
    url = "http://127.0.0.1:8501/?dataset=iris&x=a%29b&k=3"
    link = plain_link(url)
    text, target = re.fullmatch(r"\[(.*)\]\((\S*)\)", link).groups()
    assert unescape(text) == url
    assert target == url  # already a valid address: nothing to encode


def test_a_link_target_cannot_close_the_link_early():
    url = "http://127.0.0.1:8501/a)b ![x](http://127.0.0.1:9/i.png)"
    target = re.fullmatch(r"\[.*\]\((\S*)\)", plain_link(url)).group(1)
    assert not set(target) & set("()[] <>!")
    assert unquote(target) == url


def test_plotly_text_has_no_tags_and_decodes_to_itself():
    payload = '<a href="http://127.0.0.1:9/x">x</a> & <b>bold</b>'
    shown = plotly_plain(payload)
    assert "<" not in shown and ">" not in shown
    assert shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == payload


@pytest.mark.parametrize(("text", "pattern"), [
    # Streamlit's own rewrites of parsed text (its StreamlitMarkdown bundle), which a
    # backslash escape does not stop: GFM autolinks, shortcodes, typographic symbols.
    ("see http://127.0.0.1:9/x now", r"(https?:\/\/|www(?=\.))([-.\w]+)"),
    ("see www.example.com now", r"(https?:\/\/|www(?=\.))([-.\w]+)"),
    ("mail me@example.com now", r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    ("party :tada: :streamlit: :material/home:", r":[\w/+-]+:"),
    *((f"a {token} b", rf"(^|\s){re.escape(token)}(\s|$)")
      for token in ("<->", "->", "<-", "--", ">=", "<=", "~="))])
def test_what_streamlit_rewrites_after_parsing_no_longer_matches(text, pattern):
    assert re.search(pattern, text, re.ASCII)
    assert not re.search(pattern, unescape_only(plain(text)), re.ASCII)
    assert unescape(plain(text)) == text


def unescape_only(text: str) -> str:
    """The text node Streamlit's rewrites see: escapes resolved, word joiners kept."""
    return re.sub(r"\\(.)", r"\1", text)
