"""Registry admin pages: metrics and the loss chart for staff, nothing for outsiders; promotion as an admin action."""

import pytest
from django.urls import reverse

from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.trainsets.models import DatasetVersion
from tests.registry.metrics import evaluated

pytestmark = pytest.mark.django_db

LOSS = [{"step": 1, "loss": 2.5, "epoch": 0.1}, {"step": 2, "loss": 2.1, "epoch": 0.2}, {"step": 3, "loss": 1.75}]


@pytest.fixture
def version(make_version):
    run = TrainingRun.objects.create(stage="sft", status=RunStatus.SUCCEEDED, loss_curve=LOSS, progress_step=3)
    version = make_version("sft-v1", evaluation=evaluated(12.34, 0.567), training_run=run)
    version.metrics["training"] = {"first_loss": 2.5, "final_loss": 1.75, "steps": 3, "runtime_s": 4.2}
    version.save()
    return version


def test_version_page_shows_metrics_and_an_inline_loss_chart(client, curator, version):
    client.force_login(curator)

    page = client.get(reverse("admin:registry_modelversion_change", args=[version.pk])).content.decode()
    listing = client.get(reverse("admin:registry_modelversion_changelist")).content.decode()

    assert "Perplexity ↓" in page and "12.34" in page and "0.567" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="loss-chart"' in page
    assert page.count('class="loss-point"') == 3 and "step 3: loss 1.7500" in page
    assert "sft-v1" in listing and "12.34" in listing and "1.75" in listing


def test_training_run_page_shows_progress_and_the_chart(client, curator, version):
    client.force_login(curator)

    page = client.get(reverse("admin:registry_trainingrun_change", args=[version.training_run.pk])).content.decode()

    assert 'class="loss-chart"' in page and "<polyline" in page and "sft-v1" in page


def test_promote_action_goes_through_the_gate(client, curator, make_version):
    make_version("sft-v1", evaluation=evaluated(10.0, 0.7), stage=ModelVersion.Stage.PRODUCTION)
    worse = make_version("sft-v2", evaluation=evaluated(15.0, 0.7))
    client.force_login(curator)
    url = reverse("admin:registry_modelversion_changelist")

    response = client.post(url, {"action": "promote", "_selected_action": [worse.pk]}, follow=True)

    assert "v2 was not promoted: perplexity 15.000 is higher" in response.content.decode()
    assert ModelVersion.objects.get(stage="production").name == "sft-v1"


def test_outsiders_cannot_see_the_registry(client, outsider, version):
    client.force_login(outsider)

    response = client.get(reverse("admin:registry_modelversion_change", args=[version.pk]))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rerun_action_queues_a_copy_of_the_run(client, curator, tmp_path, django_capture_on_commit_callbacks):
    dataset = DatasetVersion.objects.create(kind="instruct", number=1, path=str(tmp_path))
    failed = TrainingRun.objects.create(
        stage="sft", status=RunStatus.FAILED, config={"max_steps": 5, "device": "cpu"}, error="boom"
    )
    failed.dataset_versions.add(dataset)
    client.force_login(curator)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("admin:registry_trainingrun_changelist"),
            {"action": "rerun", "_selected_action": [failed.pk]},
            follow=True,
        )

    again = TrainingRun.objects.exclude(pk=failed.pk).get()
    assert f"Queued 1 run(s) on the training queue: #{again.pk}" in response.content.decode()
    assert (again.stage, again.status, again.config) == ("sft", RunStatus.QUEUED, {"max_steps": 5})
    assert list(again.dataset_versions.all()) == [dataset]
    assert len(queued) == 1  # the task is sent once the new run is committed


def test_the_admin_says_service_errors_without_command_line_flags(client, curator, make_version):
    production = make_version("sft-v1", evaluation=evaluated(10.0, 0.7), stage=ModelVersion.Stage.PRODUCTION)
    client.force_login(curator)
    url = reverse("admin:registry_modelversion_changelist")

    response = client.post(url, {"action": "promote", "_selected_action": [production.pk]}, follow=True)

    page = response.content.decode()
    assert '<li class="error">Sft-v1 is already the production model.</li>' in page  # the admin capitalises
    assert "--model" not in page


def test_a_run_whose_options_no_longer_pass_is_not_rerun_and_says_why(client, curator, tmp_path):
    dataset = DatasetVersion.objects.create(kind="instruct", number=1, path=str(tmp_path))
    stale = TrainingRun.objects.create(stage="sft", status=RunStatus.FAILED, config={"learning_rate": "fast"})
    stale.dataset_versions.add(dataset)
    client.force_login(curator)

    response = client.post(
        reverse("admin:registry_trainingrun_changelist"),
        {"action": "rerun", "_selected_action": [stale.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert f"Run #{stale.pk} was not re-run:" in page and "learning_rate" in page and "--config" not in page
    assert TrainingRun.objects.count() == 1
