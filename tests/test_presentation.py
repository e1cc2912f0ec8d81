"""Presentation mode's figure text (``dashboard.presentation.sized``)."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio

from dashboard.presentation import TICK_PX, sized


def figure() -> go.Figure:
    return go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), layout={"xaxis2": {}, "yaxis2": {}})


def test_presented_figures_get_large_text_and_ticks_on_every_axis():
    layout = json.loads(pio.to_json(sized(figure(), True)))["layout"]
    assert TICK_PX >= 16
    assert layout["font"]["size"] == TICK_PX
    for name in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        assert layout[name]["tickfont"]["size"] == TICK_PX, name


def test_figures_not_presented_are_left_alone():
    assert sized(figure(), False).to_dict()["layout"] == figure().to_dict()["layout"]
