"""Small inline-SVG charts: pure functions from numbers to markup, no network, no JS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 32, 40
PALETTE = ("#3b6ea5", "#e07b39", "#5a9e6f", "#b04a5a", "#7d6aa8", "#8a8a8a")


def _frame(chart_id: str, title: str, body: str) -> str:
    return (
        f'<svg data-chart="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>"
        f'<text x="{LEFT}" y="14" font-size="13" font-weight="bold">{escape(title)}</text>'
        f"{body}</svg>"
    )


def _axis(low: float, high: float, fmt: str) -> tuple[str, float, float]:
    """Horizontal grid lines and labels for [low, high]; returns markup and the range."""
    if high <= low:
        high = low + 1.0
    plot_h = HEIGHT - TOP - BOTTOM
    lines = []
    for i in range(5):
        value = low + (high - low) * i / 4
        y = TOP + plot_h * (1 - i / 4)
        lines.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{format(value, fmt)}</text>'
        )
    return "".join(lines), low, high


def line_chart(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    value_format: str = ",.0f",
) -> str:
    """One line per series over shared x labels (at most ~8 labels are printed)."""
    values = [v for s in series.values() for v in s]
    grid, low, high = _axis(
        min(0.0, *values) if values else 0.0, max(values, default=1.0), value_format
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(x_labels), 2)

    def point(i: int, v: float) -> str:
        x = LEFT + plot_w * i / (n - 1)
        y = TOP + plot_h * (1 - (v - low) / (high - low))
        return f"{x:.1f},{y:.1f}"

    body = [grid]
    for colour, (name, ys) in zip(PALETTE, series.items(), strict=False):
        points = " ".join(point(i, v) for i, v in enumerate(ys))
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}">'
                    f"<title>{escape(name)}</title></polyline>")  # fmt: skip
    step = max(1, len(x_labels) // 8)
    for i in range(0, len(x_labels), step):
        x = LEFT + plot_w * i / (n - 1)
        body.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                     f"{escape(x_labels[i])}</text>")  # fmt: skip
    body.append(_legend(list(series)))
    return _frame(chart_id, title, "".join(body))


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    value_format: str = ",.0f",
    reference_lines: dict[str, float] | None = None,
    intervals: Sequence[tuple[float, float]] | None = None,
) -> str:
    """Vertical bars, one per label, with optional labelled horizontal reference lines and
    optional (low, high) intervals drawn as whiskers over the bars."""
    references = reference_lines or {}
    whiskers = list(intervals or [])
    top_value = max([*values, *references.values(), *(h for _, h in whiskers)], default=1.0)
    grid, low, high = _axis(0.0, top_value * 1.1, value_format)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(values), 1)
    body = [grid]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * (value - low) / (high - low)
        x = LEFT + slot * i + slot * 0.15
        body.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
            f"<title>{escape(label)}: {format(value, value_format)}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(label[:18])}</text>"
            f'<text x="{x + slot * 0.35:.1f}" y="{TOP + plot_h - h - 4:.1f}" '
            f'text-anchor="middle">{format(value, value_format)}</text>'
        )
    for i, (lower, upper) in enumerate(whiskers):
        x = LEFT + slot * i + slot * 0.5
        y1, y2 = (TOP + plot_h * (1 - (v - low) / (high - low)) for v in (lower, upper))
        body.append(
            f'<path d="M{x - 6:.1f},{y1:.1f}H{x + 6:.1f}M{x:.1f},{y1:.1f}V{y2:.1f}'
            f'M{x - 6:.1f},{y2:.1f}H{x + 6:.1f}" stroke="#222" stroke-width="1.5" fill="none">'
            f"<title>{format(lower, value_format)} .. {format(upper, value_format)}</title>"
            "</path>"
        )
    for i, (name, value) in enumerate(references.items()):
        y = TOP + plot_h * (1 - (value - low) / (high - low))
        # alternate label sides so that close reference lines stay readable
        x, anchor = (WIDTH - RIGHT, "end") if i % 2 == 0 else (LEFT + 4, "start")
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#b04a5a" stroke-dasharray="4 3"/>'
            f'<text x="{x}" y="{y - 4:.1f}" text-anchor="{anchor}" fill="#b04a5a">'
            f"{escape(name)}</text>"
        )
    return _frame(chart_id, title, "".join(body))


def _legend(names: list[str]) -> str:
    items = []
    for i, (colour, name) in enumerate(zip(PALETTE, names, strict=False)):
        x = LEFT + 110 * i
        items.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}">{escape(name)}</text>'
        )
    return "".join(items)
