"""deploy/prometheus/alerts.yml: valid for Prometheus, firing when its unit tests say, on metrics we export."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from apps.monitoring.metrics import metrics_exposition
from apps.sources.models import CrawlRun
from lib.telemetry import metrics as telemetry
from tests.factories import make_source

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
SELECTOR = re.compile(r"(twinsite_[a-z0-9_]+)(?:\{([^}]*)\})?")
MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((RULES_DIR / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def exported_labels() -> dict[str, set[str]]:
    """Each sample name Twinsite exports, with its label names: the counted metrics, whether or not anything
    was counted yet, and the families of a scrape."""
    names: dict[str, set[str]] = {}
    for metric in vars(telemetry).values():
        if isinstance(metric, MetricWrapperBase):
            labels = set(metric._labelnames)
            if metric._type == "counter":
                names[f"{metric._name}_total"] = labels
            else:
                names.update({f"{metric._name}_{part}": labels for part in ("count", "sum")})
                names[f"{metric._name}_bucket"] = labels | {"le"}
    for family in text_string_to_metric_families(metrics_exposition().decode()):
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


@needs_promtool
def test_promtool_accepts_the_rules_and_their_unit_tests_pass():
    checked = subprocess.run([PROMTOOL, "check", "rules", "alerts.yml"], cwd=RULES_DIR, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in checked.stdout
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts.test.yml"], cwd=RULES_DIR, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.django_db
def test_every_rule_reads_metrics_and_labels_that_twinsite_exports():
    failing = make_source()  # so that the failing-sources gauge has a sample, with its labels
    CrawlRun.objects.create(source=failing, status=CrawlRun.Status.FAILED, finished_at=timezone.now())
    exported = exported_labels()
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "TwinsiteHighErrorRate", "TwinsiteSlowApi", "TwinsiteCrawlFailingRepeatedly", "TwinsiteEmbeddingLag",
        "TwinsiteQueueBacklog", "TwinsiteModelBackendDown",
    }  # fmt: skip
    for rule in rules:
        used = SELECTOR.findall(rule["expr"])
        assert used, rule["alert"]
        for name, matchers in used:
            assert name in exported, (rule["alert"], name)
            labels = set(MATCHER.findall(matchers))
            assert labels <= exported[name], (rule["alert"], name, labels - exported[name])
        for grouping in re.findall(r"by \(([^)]*)\)", rule["expr"]):
            labels = {label.strip() for label in grouping.split(",")}
            assert any(labels <= exported[name] for name, _ in used), (rule["alert"], labels)
