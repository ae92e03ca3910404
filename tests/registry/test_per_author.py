"""Stages, training, evaluation and the servers' environment, each per author (and one for all authors)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from apps.registry.services import eval_run_create, training_run_create
from apps.trainsets.models import DatasetVersion
from lib.errors import InvalidInput
from tests.factories import make_author

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_author(name="Ada"), make_author(name="Bob")


@pytest.fixture
def exports(people, tmp_path):
    ada, bob = people
    return {
        name: DatasetVersion.objects.create(kind="instruct", number=n, path=str(tmp_path), author=author)
        for n, (name, author) in enumerate((("ada", ada), ("bob", bob), ("all", None), ("ada-old", ada)), start=1)
    }


def test_one_production_version_per_author_and_one_for_all_authors(make_version, people):
    ada, bob = people
    make_version("sft-v1", author=ada, stage="production")
    make_version("sft-v2", author=bob, stage="production")
    make_version("sft-v3", stage="production")  # all authors'
    for name, author in (("sft-v4", ada), ("sft-v5", None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_version(name, author=author, stage="production")


def test_an_authors_run_trains_their_export_from_the_base_model_never_anothers(make_version, people, exports):
    ada, _ = people
    make_version("sft-v1", stage="production")  # all authors' production: where an all-authors run would start

    run = training_run_create(stage="sft", dataset_version=exports["ada"])

    assert (run.author, run.base_model, run.parent) == (ada, "", None)  # the base every adapter shares
    with pytest.raises(InvalidInput, match="not an export of Ada's data") as refused:
        training_run_create(stage="sft", dataset_version=exports["bob"], author=ada)
    assert refused.value.field == "dataset"
    everyone = training_run_create(stage="sft", dataset_version=exports["all"])
    assert (everyone.author, everyone.parent.name) == (None, "sft-v1")


def test_an_authors_version_is_evaluated_on_that_authors_held_out_data(make_version, people, exports):
    ada, _ = people
    version = make_version("sft-v1", author=ada, kind="adapter")

    evaluation = eval_run_create(model_version=version)

    assert evaluation.dataset_version == exports["ada-old"]  # Ada's newest, not Bob's nor all authors'
    with pytest.raises(InvalidInput, match="Ada's twin; evaluate it on an export of Ada's data") as refused:
        eval_run_create(model_version=version, dataset_version=exports["all"])
    assert refused.value.field == "dataset"


def test_the_admin_lists_whose_twin_each_version_is_and_what_it_holds(client, curator, make_version, people):
    ada, _ = people
    make_version("sft-v1", author=ada, kind="adapter")
    make_version("sft-v2")
    client.force_login(curator)

    listing = client.get(reverse("admin:registry_modelversion_changelist")).content.decode()
    only_ada = client.get(reverse("admin:registry_modelversion_changelist") + f"?author__id__exact={ada.pk}")

    assert '<td class="field-author_label">Ada</td>' in listing
    assert '<td class="field-author_label">all authors</td>' in listing
    assert '<td class="field-kind">LoRA adapter (served on its base model)</td>' in listing
    assert "sft-v1" in only_ada.content.decode() and "sft-v2" not in only_ada.content.decode()


def test_train_for_an_author_takes_their_latest_export_or_says_there_is_none(people, exports):
    with pytest.raises(CommandError, match="--dataset: Give a dataset version: there is no preference export of Ada"):
        call_command("train", "--stage", "dpo", "--author", "Ada", "--queue")
    with pytest.raises(CommandError, match="--dataset: instruct-v2 is not an export of Ada's data"):
        call_command("train", "--stage", "sft", "--author", "Ada", "--dataset", "instruct-v2", "--queue")
