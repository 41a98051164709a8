"""The nightly writes a self-contained morning report next to the warehouse."""

from __future__ import annotations

import re

import pytest

from movierec.reporting.report import CHARTS
from movierec.settings import Paths

pytestmark = pytest.mark.integration


def test_report_holds_every_chart(warehouse: Paths) -> None:
    """One inline SVG per chart, each with a title, plus the headline tiles."""
    page = warehouse.report_path.read_text(encoding="utf-8")
    charts = re.findall(r'<svg data-chart="([^"]+)"', page)
    assert sorted(charts) == sorted(CHARTS)
    titled = re.findall(r'<svg data-chart="[^"]+"[^>]*><title>[^<]+</title>', page)
    assert len(titled) == len(CHARTS)
    assert "expected click-through" in page
    assert "users impacted (capped)" in page


def test_report_has_no_external_reference(warehouse: Paths) -> None:
    """No script, stylesheet link, image source, href or url(): it opens offline."""
    page = warehouse.report_path.read_text(encoding="utf-8")
    for pattern in (r"<script", r"<link", r"\ssrc=", r"\shref=", r"url\(", r"<img", r"@import"):
        assert not re.search(pattern, page), pattern
    # the only URL is the SVG namespace, which browsers never fetch
    assert set(re.findall(r"https?://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}
