"""`manage.py build_twin --quick`: export -> SFT -> DPO -> evaluate -> promote on the real packaged SmolLM2, on CPU."""

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.rag.providers import ChatMessage, GenerationParams, provider_from_settings
from apps.registry.models import EvalRun, ModelVersion, RunStatus, TrainingRun
from apps.trainsets.models import DatasetVersion
from tests.factories import make_author, make_document, make_source
from tests.registry.corpus import approved_corpus
from tests.trainsets.factories import make_sample

pytestmark = pytest.mark.django_db


def test_quick_twin_build_records_every_step_and_serves_the_promoted_model(
    settings, tmp_path, annotator, models_dir, smollm2_dir
):
    settings.DATASETS_DIR = tmp_path / "datasets"
    settings.LLM_PROVIDER, settings.LOCAL_MODEL_PATH = "local", ""
    approved_corpus(annotator=annotator, topics=8, pairs=6)
    out = StringIO()

    # An author's build, as make twin AUTHOR=... runs it: SFT makes an adapter, DPO trains it on.
    call_command("build_twin", "--author", "ada example", "--quick", "--json", stdout=out, stderr=StringIO())

    summary = json.loads(out.getvalue())
    assert summary["datasets"] == ["instruct-v1", "preference-v1"]
    assert {name: (c["train"], c["test"]) for name, c in summary["splits"].items()} == {
        "instruct-v1": (7, 1),
        "preference-v1": (5, 1),
    }
    assert summary["model_version"] == "dpo-v1" and summary["stage"] == "production" and summary["promoted"]
    assert summary["notes"] == []  # DPO ran on the adapter: nothing skipped
    assert (summary["author"], summary["kind"]) == ("Ada Example", "adapter")
    assert set(DatasetVersion.objects.values_list("kind", flat=True)) == {"instruct", "preference"}

    sft, dpo = TrainingRun.objects.order_by("pk")
    assert (sft.stage, dpo.stage) == ("sft", "dpo") and sft.status == dpo.status == RunStatus.SUCCEEDED
    assert [p["step"] for p in sft.loss_curve] == [1, 2] and all(p["loss"] > 0 for p in sft.loss_curve)
    assert len(dpo.loss_curve) == 2 and dpo.progress_step == dpo.progress_total == 2
    assert sft.config["max_length"] == 256
    sft_version, dpo_version = sft.model_version, dpo.model_version
    assert dpo.parent == sft_version and dpo.base_model == sft_version.path == str(models_dir / "sft-v1")
    assert sft.base_model == str(smollm2_dir)  # no production yet: the packaged model
    assert [d.name for d in dpo_version.dataset_versions.all()] == ["preference-v1"]
    assert (sft_version.kind, dpo_version.kind) == ("adapter", "adapter")
    assert (Path(dpo_version.path) / "adapter_config.json").is_file()
    assert not (Path(dpo_version.path) / "config.json").exists()
    assert not any((models_dir / ".staging").iterdir())

    evaluation = EvalRun.objects.get()
    assert evaluation.status == RunStatus.SUCCEEDED and evaluation.model_version == dpo_version
    assert evaluation.dataset_version.name == "instruct-v1" and Path(evaluation.report_path).is_file()
    twin = dpo_version.metrics["evaluation"]["twin"]
    assert twin["perplexity"] > 1 and -1 <= twin["style_similarity"] <= 1
    assert dpo_version.metrics["training"]["steps"] == 2

    assert ModelVersion.objects.get(stage="production") == dpo_version
    author = dpo_version.author
    assert author.name == "Ada Example" and sft_version.author == author == sft.author
    # The author's own pointer moved; all authors' twin has no production version yet.
    assert os.readlink(models_dir / f"production-author-{author.pk}") == "dpo-v1"
    assert not (models_dir / "production").exists()
    served = provider_from_settings()
    assert served.model == str(smollm2_dir) and served.adapters == {f"author-{author.pk}": dpo_version.path}
    question = [ChatMessage("user", "How do you name things?")]
    reply = served.generate(question, GenerationParams(max_tokens=8, adapter=f"author-{author.pk}"))
    assert reply.model == dpo_version.path and reply.text.strip()


def test_a_corpus_with_nothing_to_hold_out_is_refused_before_any_training(settings, tmp_path, models_dir):
    # One article, twelve samples, all on its one extract: the first failure trained, then failed.
    settings.DATASETS_DIR = tmp_path / "datasets"
    document = make_document(source=make_source(author=make_author(name="Ada Example")))
    for n in range(12):
        make_sample(
            document=document, extract="The one passage.", instruction=f"Question{n}?", review="approved", ordinal=n
        )
    stderr = StringIO()

    with pytest.raises(CommandError, match=r"Nothing can be held out to evaluate on: all 12 instruct items"):
        call_command("build_twin", "--quick", stdout=StringIO(), stderr=stderr)

    assert not TrainingRun.objects.exists() and not DatasetVersion.objects.exists()
    assert "SFT" not in stderr.getvalue()
