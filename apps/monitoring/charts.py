"""A hand-written SVG chart of traffic over time: request bars (errors in red) and a p95 latency line.

Rendered on the server so the dashboard needs no JavaScript and nothing from a CDN.
"""

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 64, 24, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
REQUEST_COLOUR, ERROR_COLOUR, LATENCY_COLOUR = "#79aec8", "#ba2121", "#417690"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least value: a readable axis maximum."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:g}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def svg_text(x: float, y: float, content: str, *, anchor: str = "start", colour: str = "#666") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{colour}">{escape(content)}</text>'


def traffic_chart_svg(
    *, labels: Sequence[str], requests: Sequence[int], errors: Sequence[int], p95_ms: Sequence[float | None]
) -> str:
    """An inline <svg> with one bar per time bucket and the p95 latency of each bucket as a line."""
    count = len(labels)
    if not count or not len(requests) == len(errors) == len(p95_ms) == count:
        raise ValueError("The chart needs one label, request count, error count and p95 per bucket.")
    top_requests = nice_ceiling(max(requests))
    top_ms = nice_ceiling(max((p for p in p95_ms if p is not None), default=0))
    slot = PLOT_W / count
    bar = max(slot * 0.7, 1.0)

    def y_of(value: float, top: float) -> float:
        return TOP + PLOT_H - value / top * PLOT_H

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="traffic-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="Requests and p95 latency over time" font-size="11" '
        f'font-family="sans-serif">',
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#ccc"/>',
        svg_text(LEFT - 6, TOP + 4, _number(top_requests), anchor="end"),
        svg_text(LEFT - 6, TOP + PLOT_H, "0", anchor="end"),
        svg_text(LEFT + PLOT_W + 6, TOP + 4, f"{_number(top_ms)} ms", colour=LATENCY_COLOUR),
        svg_text(LEFT + PLOT_W + 6, TOP + PLOT_H, "0 ms", colour=LATENCY_COLOUR),
        svg_text(LEFT, TOP - 8, "■ requests", colour=REQUEST_COLOUR),
        svg_text(LEFT + 80, TOP - 8, "■ errors", colour=ERROR_COLOUR),
        svg_text(LEFT + 150, TOP - 8, "— p95 latency", colour=LATENCY_COLOUR),
    ]
    for n, (label, total, failed, p95) in enumerate(zip(labels, requests, errors, p95_ms, strict=True)):
        x = LEFT + n * slot + (slot - bar) / 2
        tip = f"{label}: {_count(total, 'request')}, {_count(failed, 'error')}"
        tip += f", p95 {p95:.0f} ms" if p95 is not None else ""
        parts.append(f'<g class="bucket"><title>{escape(tip)}</title>')
        for value, colour, kind in ((total, REQUEST_COLOUR, "requests"), (failed, ERROR_COLOUR, "errors")):
            if value:
                y = y_of(value, top_requests)
                parts.append(
                    f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                    f'height="{TOP + PLOT_H - y:.1f}" fill="{colour}"/>'
                )
        parts.append("</g>")
    # The line breaks where a bucket had no requests: there is no latency to draw there.
    segment: list[str] = []
    for n, p95 in enumerate([*p95_ms, None]):
        if p95 is not None:
            segment.append(f"{LEFT + (n + 0.5) * slot:.1f},{y_of(p95, top_ms):.1f}")
            continue
        if len(segment) == 1:
            x, y = segment[0].split(",")
            parts.append(f'<circle class="p95" cx="{x}" cy="{y}" r="2.5" fill="{LATENCY_COLOUR}"/>')
        elif segment:
            points = " ".join(segment)
            parts.append(
                f'<polyline class="p95" points="{points}" fill="none" stroke="{LATENCY_COLOUR}" stroke-width="2"/>'
            )
        segment = []
    for n in sorted({0, count // 2, count - 1}):
        parts.append(svg_text(LEFT + (n + 0.5) * slot, HEIGHT - 10, labels[n], anchor="middle"))
    if not any(requests):
        parts.append(svg_text(LEFT + PLOT_W / 2, TOP + PLOT_H / 2, "No requests in this window", anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)
