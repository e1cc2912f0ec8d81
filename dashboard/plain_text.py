"""Text from users shown as it is, never as markup.

Query values, file names, column names and the messages that quote them reach elements
that render Markdown (st.markdown, st.warning, st.caption, tooltips, labels…) or Plotly's
pseudo-HTML (titles, legends, hover). A crafted value would otherwise draw a heading, a
link or an image on the app's own page. ``plain`` makes text literal in Markdown,
``plotly_plain`` in Plotly.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

# CommonMark lets a backslash make any ASCII punctuation literal: that covers Markdown
# (# * _ [ ] ( ) ! ` | > -), raw HTML (< &), and Streamlit's own syntax on top
# (:red[…] directives, $…$ math).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit also rewrites text after parsing, where escapes no longer count: web and
# e-mail addresses become links (GFM's autolinks: "http://", "www.", "a@b.c"), :name:
# an emoji or icon, and a lone "->", "--", ">=" (…) a symbol. An invisible word joiner
# inside each such pattern keeps the text as typed.
_WORD_JOINER = "\u2060"
_REWRITTEN = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)
_SYMBOL = re.compile(r"(?<!\S)(?=(?:<->|->|<-|--|>=|<=|~=)(?!\S))(.)")  # its first character
# Characters a link target keeps as they are; everything else is percent-encoded, so the
# target cannot close the Markdown link early.
_URL_SAFE = ":/?#&=%+,;@~.-_"


def plain(text: object) -> str:
    """``text`` on one line, every Markdown, HTML and Streamlit-syntax character escaped
    and every autolink, shortcode and symbol broken: shown as typed by any Streamlit
    element that renders Markdown."""
    one_line = " ".join(str(text).split())
    unlinked = _SYMBOL.sub(r"\1" + _WORD_JOINER, _REWRITTEN.sub(_WORD_JOINER, one_line))
    return _escaped(unlinked)


def _escaped(text: str) -> str:
    return _PUNCTUATION.sub(r"\\\1", text)


def plain_link(url: str) -> str:
    """A Markdown link to ``url`` whose text is the address itself (inside a link,
    Streamlit makes no autolinks, so the text copies without invisible characters)."""
    return f"[{_escaped(' '.join(url.split()))}]({_target(url)})"


def named_link(text: object, url: str) -> str:
    """A Markdown link to ``url`` whose text is ``text``, shown as typed."""
    return f"[{plain(text)}]({_target(url)})"


def _target(url: str) -> str:
    return quote(url, safe=_URL_SAFE)


def plotly_plain(text: object) -> str:
    """``text`` literal in a Plotly title, legend or hover label (Plotly reads a few HTML
    tags there, links among them, and decodes entities)."""
    return html.escape(str(text), quote=False)
