"""The traffic chart, DB-free: bars scale to the busiest bucket, the p95 line breaks where nothing ran."""

import re
import xml.etree.ElementTree as ET

import pytest

from apps.monitoring.charts import nice_ceiling, traffic_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def chart(requests, errors, p95_ms, labels=None):
    labels = labels or [f"{n:02d}:00" for n in range(len(requests))]
    return ET.fromstring(traffic_chart_svg(labels=labels, requests=requests, errors=errors, p95_ms=p95_ms))  # noqa: S314 (our own SVG)


def heights(root, kind):
    return [float(r.get("height")) for r in root.iter(f"{SVG}rect") if r.get("class") == kind]


def test_bars_are_proportional_to_requests_and_errors_sit_inside_them():
    root = chart([10, 5, 0, 2], [0, 5, 0, 1], [120.0, 300.0, None, 80.0])
    requests = heights(root, "requests")
    assert len(requests) == 3  # an empty bucket draws no bar
    assert requests[0] == pytest.approx(2 * requests[1]) and requests[1] == pytest.approx(2.5 * requests[2])
    errors = heights(root, "errors")
    assert errors[0] == pytest.approx(requests[1]) and errors[1] == pytest.approx(requests[2] / 2)
    tips = [t.text for t in root.iter(f"{SVG}title")]
    assert tips[1] == "01:00: 5 requests, 5 errors, p95 300 ms" and tips[2] == "02:00: 0 requests, 0 errors"


def test_p95_line_breaks_at_buckets_without_requests():
    root = chart([1, 1, 0, 1, 1, 1], [0] * 6, [100.0, 200.0, None, 50.0, 60.0, 70.0])
    lines = [p.get("points").split() for p in root.iter(f"{SVG}polyline")]
    assert [len(points) for points in lines] == [2, 3]
    # The slowest bucket is highest (smallest y) on the chart.
    ys = [float(point.split(",")[1]) for points in lines for point in points]
    assert min(ys) == ys[1]
    lone = chart([0, 1, 0], [0, 0, 0], [None, 90.0, None])
    assert len(list(lone.iter(f"{SVG}circle"))) == 1 and not list(lone.iter(f"{SVG}polyline"))


def test_axis_tops_are_round_numbers_and_labels_are_escaped():
    svg = traffic_chart_svg(labels=["<b>Mon</b>", "Tue"], requests=[7, 3], errors=[0, 0], p95_ms=[1800.0, None])
    assert "&lt;b&gt;Mon&lt;/b&gt;" in svg and "<b>" not in svg
    texts = re.findall(r">([^<]+)</text>", svg)
    assert "10" in texts and "2,000 ms" in texts
    assert [nice_ceiling(v) for v in (0, 0.3, 7, 10, 11, 420, 2600)] == [1.0, 0.5, 10, 10, 20, 500, 5000]


def test_an_empty_window_says_so_and_mismatched_series_are_refused():
    assert "No requests in this window" in traffic_chart_svg(
        labels=["a", "b"], requests=[0, 0], errors=[0, 0], p95_ms=[None, None]
    )
    with pytest.raises(ValueError, match="one label"):
        traffic_chart_svg(labels=["a"], requests=[1, 2], errors=[0, 0], p95_ms=[None, None])
