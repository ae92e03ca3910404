"""The admin shows generation runs (progress, counts, why items were dropped), samples and pairs, to staff only."""

import pytest
from django.urls import reverse

from apps.trainsets.models import GenerationRun
from tests.factories import make_author
from tests.trainsets.factories import make_pair, make_sample

pytestmark = pytest.mark.django_db


def test_run_page_shows_progress_counts_and_dropped_reasons_read_only(client, curator):
    run = GenerationRun.objects.create(
        status="running",
        options={"mode": "own_text"},
        extracts_total=8,
        extracts_done=2,
        samples_created=5,
        pairs_created=3,
        dropped={"invalid_output": 2, "near_duplicate": 1},
    )
    client.force_login(curator)

    listing = client.get(reverse("admin:trainsets_generationrun_changelist")).content.decode()
    page = client.get(reverse("admin:trainsets_generationrun_change", args=[run.pk])).content.decode()

    assert "25% (2/8)" in listing and "own_text" in listing
    assert "<code>invalid_output</code>: 2" in page and "<code>near_duplicate</code>: 1" in page
    assert 'name="status"' not in page and "Save" not in page  # watched, never edited


def test_a_run_started_from_the_admin_is_queued_for_the_llm_workers(
    client, curator, django_capture_on_commit_callbacks
):
    author = make_author(name="Ada Baker")
    client.force_login(curator)
    url = reverse("admin:trainsets_generationrun_add")

    refused = client.post(url, {"author": author.pk, "mode": "own_text", "limit": "0", "pairs": "on"})
    with django_capture_on_commit_callbacks(execute=False) as queued:
        started = client.post(url, {"author": author.pk, "mode": "own_text", "limit": "5", "pairs": "on"})

    assert refused.status_code == 200 and "Ensure this value is greater than or equal to 1" in refused.content.decode()
    run = GenerationRun.objects.get()
    assert started.status_code == 302
    assert (run.author, run.status, run.options["limit"], run.options["pairs"]) == (author, "queued", 5, True)
    assert len(queued) == 1  # the task is sent once the run is committed


def test_sample_and_pair_lists_filter_by_review_and_search(client, curator):
    kept = make_sample(instruction="How do you back up PostgreSQL?")
    make_sample(instruction="Write about sourdough.", review="filtered", filter_reason="near_duplicate")
    make_pair(sample=kept)
    client.force_login(curator)

    filtered = client.get(reverse("admin:trainsets_instructionsample_changelist"), {"review__exact": "filtered"})
    searched = client.get(reverse("admin:trainsets_instructionsample_changelist"), {"q": "PostgreSQL"})
    pairs = client.get(reverse("admin:trainsets_preferencepair_changelist"), {"origin__exact": "sample"})

    assert "Write about sourdough." in filtered.content.decode()
    assert "How do you back up PostgreSQL?" not in filtered.content.decode()
    assert "How do you back up PostgreSQL?" in searched.content.decode()
    assert "How do you back up PostgreSQL?" in pairs.content.decode()


def test_samples_are_reviewed_on_the_labeling_screen_not_edited_in_the_admin(client, curator):
    sample = make_sample(answer="The model's answer, a little off.")
    client.force_login(curator)
    url = reverse("admin:trainsets_instructionsample_change", args=[sample.pk])

    page = client.get(url)
    posted = client.post(url, {"instruction": sample.instruction, "answer": "Changed here.", "review": "approved"})

    assert page.status_code == 200
    assert reverse("labeling-samples") in page.content.decode()
    assert 'name="answer"' not in page.content.decode()  # shown, not editable
    assert posted.status_code == 403
    sample.refresh_from_db()
    assert (sample.answer, sample.review) == ("The model's answer, a little off.", "pending")


def test_people_who_are_not_staff_are_sent_to_the_login_page(client, outsider):
    client.force_login(outsider)
    for name in ["generationrun", "instructionsample", "preferencepair"]:
        response = client.get(reverse(f"admin:trainsets_{name}_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
