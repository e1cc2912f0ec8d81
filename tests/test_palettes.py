"""The component palettes keep their first colours apart: CIEDE2000 between any two of
the first six, for normal colour vision and (Okabe–Ito, the colour-blind safe choice)
under Machado et al. (2009)'s simulated deuteranopia and protanopia at full severity."""

from __future__ import annotations

import itertools

import pytest
from coloraide import Color

from dashboard.figures import COMPONENT_COLORS, OKABE_ITO, PALETTES

FIRST = 6
MIN_DELTA_E = 20.0


def seen(hex_colour: str, vision: str | None) -> Color:
    colour = Color(hex_colour)
    return colour if vision is None else colour.filter(vision, 1.0, method="machado")


def closest_pair(colours, vision: str | None) -> float:
    return min(seen(a, vision).delta_e(seen(b, vision), method="2000")
               for a, b in itertools.combinations(colours, 2))


@pytest.mark.parametrize(("colours", "vision"), [
    (COMPONENT_COLORS, None), (OKABE_ITO, None), (OKABE_ITO, "deutan"), (OKABE_ITO, "protan")])
def test_the_first_six_colours_are_far_apart(colours, vision):
    assert closest_pair(colours[:FIRST], vision) >= MIN_DELTA_E


def test_the_distance_is_measured_in_a_way_that_can_fail():
    # Plotly's default order puts blue and purple among the first six; Okabe and Ito's
    # usual order puts orange and vermillion among the first four.
    plotly_default = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3")
    assert closest_pair(plotly_default, None) < MIN_DELTA_E
    assert closest_pair(("#E69F00", "#56B4E9", "#009E73", "#D55E00"), "deutan") < MIN_DELTA_E


def test_every_palette_has_distinct_colours_for_the_k_slider():
    for colours in PALETTES.values():
        assert len(set(colours)) == len(colours) >= 8
