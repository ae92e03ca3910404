"""The stats page of a dataset version: staff only, read-only, showing what a curator needs to judge it."""

import pytest
from django.urls import reverse

from apps.trainsets.export.services import dataset_version_export
from tests.trainsets.factories import make_sample

pytestmark = pytest.mark.django_db


def test_version_stats_page_shows_counts_filters_split_and_files(client, curator, datasets_dir):
    for _ in range(3):
        make_sample(review="approved")
    make_sample(review="rejected")
    version = dataset_version_export(kind="instruct", test_fraction=0.3)
    client.force_login(curator)

    listing = client.get(reverse("admin:trainsets_datasetversion_changelist")).content.decode()
    assert "instruct-v1" in listing
    page = client.get(reverse("admin:trainsets_datasetversion_change", args=[version.pk])).content.decode()
    assert "2 items from 2 documents" in page and "1 items from 1 documents" in page  # train, then test
    assert "<th>rejected</th><td>1</td>" in page and "<th>leakage</th><td>0</td>" in page
    assert "<th>documents_train</th><td>2</td>" in page
    assert version.path in page and "<th>instruct_train.jsonl</th><td>" in page
    assert "<th>hf/</th><td>missing</td>" not in page and "dataset.json" in page
    assert 'name="_save"' not in page  # frozen: nothing to save
    assert client.get(reverse("admin:trainsets_datasetversion_add")).status_code == 403
    assert client.post(reverse("admin:trainsets_datasetversion_delete", args=[version.pk])).status_code == 403


def test_version_pages_are_for_staff_only(client, outsider, datasets_dir):
    make_sample(review="approved")
    version = dataset_version_export(kind="instruct")
    url = reverse("admin:trainsets_datasetversion_change", args=[version.pk])
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
