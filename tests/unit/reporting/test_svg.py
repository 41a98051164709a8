"""The inline SVG charts: one mark per value, labels escaped, no external reference."""

from __future__ import annotations

import re

import pytest

from movierec.reporting.svg import bar_chart, line_chart


def test_bar_chart_draws_one_bar_per_value_and_the_reference_lines() -> None:
    """Three values, three bars; each reference a dashed line with its label."""
    svg = bar_chart("c", "Title", ["a", "b", "c"], [1.0, 2.0, 3.0], ".1f", {"goal": 2.5})
    assert svg.startswith('<svg data-chart="c"')
    assert len(re.findall(r"<rect ", svg)) == 3
    assert svg.count('stroke-dasharray="4 3"') == 1
    assert ">goal</text>" in svg
    assert ">3.0</text>" in svg


def test_bar_chart_draws_each_interval_as_a_whisker_within_the_axis() -> None:
    """Two bars with intervals: two whiskers, each spanning its interval's height on the
    bars' scale (the axis grows to hold the highest end)."""
    svg = bar_chart("c", "T", ["a", "b"], [0.2, 0.3], ".2f", intervals=[(0.1, 0.25), (0.2, 0.5)])
    whiskers = re.findall(r'<path d="M[\d.]+,([\d.]+)H[\d.]+M[\d.]+,[\d.]+V([\d.]+)', svg)
    assert len(whiskers) == 2
    assert "<title>0.20 .. 0.50</title>" in svg
    (low_a, high_a), (low_b, high_b) = [(float(y1), float(y2)) for y1, y2 in whiskers]
    # y grows downwards; heights are proportional to the interval's length
    assert low_a > high_a
    assert low_b > high_b
    assert (low_b - high_b) == pytest.approx(2 * (low_a - high_a), rel=0.01)
    assert high_b >= 32  # inside the plot (TOP)


def test_line_chart_draws_one_line_per_series_with_a_legend() -> None:
    svg = line_chart("d", "Daily", ["01", "02", "03"], {"young": [1, 2, 3], "adult": [3, 2, 1]})
    assert svg.count("<polyline") == 2
    assert ">young</text>" in svg
    assert ">adult</text>" in svg


def test_labels_are_escaped() -> None:
    """A film title with markup in it cannot break the page."""
    svg = bar_chart("e", "T", ["<b>&"], [1.0])
    assert "<b>&" not in svg
    assert "&lt;b&gt;&amp;" in svg
