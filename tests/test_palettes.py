"""The component palettes keep their first colours apart: CIEDE2000 between any two of
the first six, for normal colour vision and (Okabe–Ito, the colour-blind safe choice)
under Machado et al. (2009)'s simulated deuteranopia and protanopia at full severity."""

from __future__ import annotations

import itertools

import pytest
from coloraide import Color

from dashboard.figures import COMPONENT_COLORS, OKABE_ITO, PALETTES
from dashboard.selection_view import ALL_MODELS, model_style
from gmm_core.model_names import FAMILIES, family

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


@pytest.mark.parametrize("palette", PALETTES)
def test_the_sweeps_models_are_drawn_in_styles_of_their_own(palette):
    styles = {model: model_style(model, palette) for model in ALL_MODELS}
    assert len({style["symbol"] for style in styles.values()}) == len(ALL_MODELS)
    for a, b in itertools.combinations(ALL_MODELS, 2):
        if family(a) == family(b):  # one dash: the colours differ, closest pairs noted
            assert styles[a]["color"] != styles[b]["color"]
        else:
            assert styles[a]["dash"] != styles[b]["dash"] or {family(a), family(b)} == {
                "ellipsoidal", "one feature"}  # never on one chart: E, V are for d = 1


def test_models_of_a_family_stay_apart_in_the_colour_blind_safe_palette():
    for members in FAMILIES.values():
        colours = [model_style(model, "okabe_ito")["color"] for model in members]
        assert closest_pair(colours, None) >= MIN_DELTA_E
