"""The monitoring dashboard in the admin: staff only, numbers that match the traces, chart, slowest requests."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from apps.monitoring import selectors
from apps.monitoring.models import Span
from tests.monitoring.traces import NODES, percentile_cont, record_request, record_traffic

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/monitoring/"


def stat(page: str, name: str) -> str:
    match = re.search(rf'<strong id="stat-{name}">([^<]*)</strong>', page)
    assert match, f"no {name} on the dashboard"
    return match.group(1)


def test_the_admin_index_links_the_monitoring_dashboard(client, curator):
    client.force_login(curator)
    index = client.get(reverse("admin:index")).content.decode()
    assert f'href="{DASHBOARD}"' in index
    assert reverse("monitoring_dashboard") == DASHBOARD
    traces = client.get(reverse("admin:monitoring_trace_changelist")).content.decode()
    assert f'href="{DASHBOARD}"' in traces


def test_dashboard_is_for_staff_with_access_to_traces_only(client, outsider, django_user_model):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(outsider)
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    clerk = django_user_model.objects.create_user(username="clerk", password="pw-clerk-1", is_staff=True)
    client.force_login(clerk)
    assert client.get(DASHBOARD).status_code == 403  # staff, but not allowed to see traces
    clerk.user_permissions.add(Permission.objects.get(codename="view_trace"))
    client.force_login(django_user_model.objects.get(pk=clerk.pk))
    assert client.get(DASHBOARD).status_code == 200


def test_dashboard_numbers_match_the_recorded_requests(client, curator):
    traces = record_traffic()
    since = timezone.now() - timedelta(hours=24)
    day = [t for t in traces if t.created_at >= since]
    durations = [t.total_ms for t in day]
    errors = [t for t in day if t.status == "error"]
    assert 0 < len(errors) < len(day) < len(traces)

    summary = selectors.trace_summary(since=since)
    assert (summary.requests, summary.errors) == (len(day), len(errors))
    assert summary.error_rate == pytest.approx(len(errors) / len(day))
    assert summary.p50_ms == pytest.approx(percentile_cont(durations, 0.5))
    assert summary.p95_ms == pytest.approx(percentile_cont(durations, 0.95))
    assert summary.prompt_tokens == sum(t.prompt_tokens or 0 for t in day) > 0
    assert summary.completion_tokens == sum(t.completion_tokens or 0 for t in day) > 0

    client.force_login(curator)
    page = client.get(DASHBOARD).content.decode()
    assert stat(page, "requests") == str(len(day))
    assert stat(page, "errors") == str(len(errors))
    assert stat(page, "error-rate") == f"{len(errors) / len(day) * 100:.1f}%"
    assert stat(page, "p50") == f"{percentile_cont(durations, 0.5):.0f} ms"
    assert stat(page, "p95") == f"{percentile_cont(durations, 0.95):.0f} ms"
    assert stat(page, "prompt-tokens") == str(summary.prompt_tokens)

    # Seven days take in the two slow requests of earlier days.
    week = selectors.trace_summary(since=timezone.now() - timedelta(days=7))
    assert week.requests == len(traces)
    assert stat(client.get(DASHBOARD, {"window": "7d"}).content.decode(), "requests") == str(len(traces))


def test_latency_per_node_matches_the_spans_in_pipeline_order(client, curator):
    record_traffic()
    since = timezone.now() - timedelta(hours=24)
    spans = Span.objects.filter(trace__created_at__gte=since)
    nodes = selectors.node_latency(since=since)

    assert [n.node for n in nodes] == list(NODES)
    for node in nodes:
        durations = [s.duration_ms for s in spans if s.node == node.node]
        assert node.spans == len(durations)
        assert node.p50_ms == pytest.approx(percentile_cont(durations, 0.5))
        assert node.p95_ms == pytest.approx(percentile_cont(durations, 0.95))
        assert node.mean_ms == pytest.approx(sum(durations) / len(durations))

    client.force_login(curator)
    page = client.get(DASHBOARD).content.decode()
    table = page[page.index('id="node-latency"') :]
    generate = next(n for n in nodes if n.node == "generate")
    assert re.search(rf"<td>generate</td><td[^>]*>{generate.spans}</td>", table)
    assert f"{generate.p95_ms:.1f} ms" in table


def test_window_choice_narrows_every_number(client, curator):
    recent = record_request(node_ms={"retrieve": 30.0}, kind="search", age=timedelta(minutes=10))
    record_request(node_ms={"retrieve": 30.0, "generate": 4000.0}, age=timedelta(hours=5))
    client.force_login(curator)

    hour = client.get(DASHBOARD, {"window": "1h"}).content.decode()
    assert stat(hour, "requests") == "1" and stat(hour, "p95") == f"{recent.total_ms:.0f} ms"
    assert "<td>generate</td>" not in hour
    day = client.get(DASHBOARD).content.decode()
    assert stat(day, "requests") == "2" and "<td>generate</td>" in day
    assert "Last 24 hours" in day
    assert stat(client.get(DASHBOARD, {"window": "forever"}).content.decode(), "requests") == "2"  # default


def test_chart_is_inline_svg_with_a_bar_per_bucket(client, curator):
    traces = record_traffic()
    client.force_login(curator)
    for window, buckets in (("1h", 12), ("24h", 24), ("7d", 28)):
        page = client.get(DASHBOARD, {"window": window}).content.decode()
        svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="traffic-chart"') :]
        svg = svg[: svg.index("</svg>")]
        assert svg.count('<g class="bucket">') == buckets
        assert not re.search(r'<script[^>]+src="(https?:)?//', page)  # nothing fetched from elsewhere
    # Every request of the week is in exactly one bar of the 7-day chart.
    counted = [int(n) for n in re.findall(r": (\d+) requests?,", svg)]
    assert sum(counted) == len(traces)
    assert '<polyline class="p95"' in svg


def test_traffic_series_buckets_requests_by_time():
    now = timezone.now()
    old = record_request(node_ms={"retrieve": 10.0}, age=timedelta(minutes=50))
    new = [record_request(node_ms={"retrieve": ms}, age=timedelta(minutes=2)) for ms in (10.0, 200.0)]
    series = selectors.traffic_series(since=now - timedelta(hours=1), until=now, buckets=12)
    assert [b.requests for b in series] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    assert series[2].p95_ms == pytest.approx(old.total_ms)
    assert series[11].p95_ms == pytest.approx(percentile_cont([t.total_ms for t in new], 0.95))
    assert series[0].p95_ms is None and series[2].start == now - timedelta(minutes=50)


def test_slowest_requests_link_to_their_trace_with_its_spans(client, curator):
    traces = record_traffic()
    day = sorted((t for t in traces if t.created_at >= timezone.now() - timedelta(hours=24)), key=lambda t: -t.total_ms)
    client.force_login(curator)
    page = client.get(DASHBOARD).content.decode()
    table = page[page.index('id="slowest"') :]
    links = re.findall(r'href="(/admin/monitoring/trace/[^"]+/change/)"', table)
    assert links == [reverse("admin:monitoring_trace_change", args=[t.pk]) for t in day[:10]]

    slowest = day[0]
    detail = client.get(links[0])
    assert detail.status_code == 200
    html = detail.content.decode()
    assert slowest.question in html
    listed = re.findall(r'field-node">\s*<p>(\w+)</p>.*?field-duration_ms">\s*<p>([\d.]+)</p>', html, re.S)
    assert listed == [(s.node, f"{s.duration_ms}") for s in slowest.spans.order_by("ordinal")]
    assert len(listed) == 6
    assert 'name="_save"' not in html  # a record of what happened: read-only
    assert client.post(links[0], {"question": "rewritten"}).status_code == 403
