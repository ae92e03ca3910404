"""The stats page of a dataset version: staff only, read-only, showing what a curator needs to judge it."""

import pytest
from django.urls import reverse

from apps.trainsets.export.services import dataset_version_export
from apps.trainsets.models import DatasetVersion
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
    assert client.post(reverse("admin:trainsets_datasetversion_delete", args=[version.pk])).status_code == 403


def test_a_version_is_frozen_from_the_admin_and_an_empty_selection_is_refused(client, curator, datasets_dir):
    client.force_login(curator)
    url = reverse("admin:trainsets_datasetversion_add")
    form = {"kind": "instruct", "author": "", "test_fraction": "0.5", "seed": "0"}

    assert 'value="Freeze the version"' in client.get(url).content.decode()
    refused = client.post(url, form)
    assert refused.status_code == 200 and 'class="errornote"' in refused.content.decode()
    assert not DatasetVersion.objects.exists() and not any(datasets_dir.glob("*-v*"))

    make_sample(review="approved")
    make_sample(review="approved")
    frozen = client.post(url, form)

    version = DatasetVersion.objects.get()
    assert frozen.status_code == 302
    assert frozen["Location"] == reverse("admin:trainsets_datasetversion_change", args=[version.pk])
    assert (version.name, version.created_by, version.counts["train"] + version.counts["test"]) == (
        "instruct-v1", curator, 2
    )  # fmt: skip


def test_version_pages_are_for_staff_only(client, outsider, datasets_dir):
    make_sample(review="approved")
    version = dataset_version_export(kind="instruct")
    url = reverse("admin:trainsets_datasetversion_change", args=[version.pk])
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
