"""The loss curve of a training run as an inline SVG line, drawn with the monitoring dashboard's chart helpers."""

from collections.abc import Sequence
from html import escape

from apps.monitoring.charts import HEIGHT, LATENCY_COLOUR, LEFT, PLOT_H, PLOT_W, TOP, WIDTH, nice_ceiling, svg_text

_MAX_MARKERS = 200


def loss_chart_svg(points: Sequence[dict]) -> str:
    """An <svg> of loss against step, one point per logged step, with its axis ranges written on it."""
    points = [p for p in points if isinstance(p.get("loss"), int | float) and isinstance(p.get("step"), int | float)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="loss-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="Training loss by step" font-size="11" font-family="sans-serif">',
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="none" stroke="#ccc"/>',
    ]
    if not points:
        parts.append(svg_text(LEFT + PLOT_W / 2, TOP + PLOT_H / 2, "No loss logged yet", anchor="middle"))
        return "".join([*parts, "</svg>"])
    top = nice_ceiling(max(p["loss"] for p in points))
    first, last = min(p["step"] for p in points), max(p["step"] for p in points)
    span = (last - first) or 1

    def xy(point: dict) -> tuple[float, float]:
        x = LEFT + (point["step"] - first) / span * PLOT_W if last != first else LEFT + PLOT_W / 2
        return x, TOP + PLOT_H - max(point["loss"], 0) / top * PLOT_H

    coords = [xy(p) for p in points]
    parts += [
        svg_text(LEFT - 6, TOP + 4, f"{top:g}", anchor="end"),
        svg_text(LEFT - 6, TOP + PLOT_H, "0", anchor="end"),
        svg_text(LEFT, TOP - 8, "— training loss", colour=LATENCY_COLOUR),
        svg_text(LEFT, TOP + PLOT_H + 16, f"step {first:g}", anchor="start"),
        svg_text(LEFT + PLOT_W, TOP + PLOT_H + 16, f"step {last:g}", anchor="end"),
    ]
    if len(coords) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline class="loss" points="{line}" fill="none" stroke="{LATENCY_COLOUR}" stroke-width="2"/>')
    # A point (with its value on hover) per logged step, while that stays readable.
    for (x, y), point in zip(coords, points, strict=True) if len(points) <= _MAX_MARKERS else ():
        tip = escape(f"step {point['step']:g}: loss {point['loss']:.4f}")
        parts.append(f'<circle class="loss-point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{LATENCY_COLOUR}">')
        parts.append(f"<title>{tip}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)
