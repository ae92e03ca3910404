"""The promotion gate: a worse or unevaluated candidate is refused, --force overrides, old production is archived."""

import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from apps.registry.gate import metrics_regressions
from apps.registry.models import EvalRun, ModelVersion, RunStatus
from apps.trainsets.models import DatasetVersion
from tests.registry.metrics import evaluated

pytestmark = pytest.mark.django_db

Stage = ModelVersion.Stage


def _pointer_target(models_dir) -> str:
    return os.readlink(models_dir / "production")


def test_gate_definition_of_worse():
    production = {"perplexity": 10.0, "style_similarity": 0.70}

    assert metrics_regressions(candidate={"perplexity": 10.1, "style_similarity": 0.66}, production=production) == []
    (reason,) = metrics_regressions(candidate={"perplexity": 10.3, "style_similarity": 0.9}, production=production)
    assert "perplexity 10.300 is higher than production's 10.000" in reason
    (reason,) = metrics_regressions(candidate={"perplexity": 9.0, "style_similarity": 0.6}, production=production)
    assert "style similarity 0.600 is lower" in reason
    assert len(metrics_regressions(candidate={"perplexity": 11, "style_similarity": 0.5}, production=production)) == 2
    (reason,) = metrics_regressions(candidate={"perplexity": None}, production=production)
    assert "no metric" in reason


def test_first_evaluated_version_becomes_production_and_the_pointer_follows(make_version, models_dir):
    candidate = make_version("sft-v1", evaluation=evaluated(12.0, 0.6))

    call_command("promote_model", "--model", "sft-v1")

    candidate.refresh_from_db()
    assert candidate.stage == Stage.PRODUCTION and candidate.promoted_at is not None
    assert _pointer_target(models_dir) == "sft-v1"  # relative: resolves inside TGI's container too
    assert (models_dir / "production" / "config.json").is_file()


def test_a_worse_candidate_is_refused_then_forced_and_the_old_production_archived(make_version, models_dir):
    production = make_version("sft-v1", evaluation=evaluated(10.0, 0.70))
    call_command("promote_model", "--model", "sft-v1")
    worse = make_version("dpo-v1", evaluation=evaluated(12.5, 0.69))

    with pytest.raises(CommandError, match=r"dpo-v1 was not promoted: perplexity 12\.500 is higher") as refused:
        call_command("promote_model", "--model", "dpo-v1")

    assert "--force" in str(refused.value)
    production.refresh_from_db()
    worse.refresh_from_db()
    assert (production.stage, worse.stage) == (Stage.PRODUCTION, Stage.CANDIDATE)
    assert _pointer_target(models_dir) == "sft-v1"

    call_command("promote_model", "--model", "dpo-v1", "--force")

    production.refresh_from_db()
    worse.refresh_from_db()
    assert (production.stage, worse.stage) == (Stage.ARCHIVED, Stage.PRODUCTION)
    assert _pointer_target(models_dir) == "dpo-v1"
    assert list(ModelVersion.objects.filter(stage=Stage.PRODUCTION)) == [worse]


def test_a_candidate_that_was_never_evaluated_is_refused(make_version):
    make_version("sft-v1")

    with pytest.raises(CommandError, match="sft-v1 was never evaluated"):
        call_command("promote_model", "--model", "sft-v1")

    assert ModelVersion.objects.get(name="sft-v1").stage == Stage.CANDIDATE


def test_a_head_to_head_evaluation_against_production_decides(make_version, tmp_path):
    """Latest evaluations on different data disagree with a head-to-head run: the head-to-head wins."""
    production = make_version("sft-v1", evaluation=evaluated(5.0, 0.7, dataset="instruct-v1"))
    call_command("promote_model", "--model", "sft-v1")
    candidate = make_version("sft-v2", evaluation=evaluated(9.0, 0.7, dataset="instruct-v2"))
    dataset = DatasetVersion.objects.create(kind="instruct", number=2, path=str(tmp_path))
    report = {"models": {"twin": {"perplexity": 8.0, "style_similarity": 0.7}, "base": {"perplexity": 8.5}}}
    EvalRun.objects.create(
        model_version=candidate,
        dataset_version=dataset,
        baseline=production.path,
        status=RunStatus.SUCCEEDED,
        report=report,
    )

    call_command("promote_model", "--model", "sft-v2")

    assert ModelVersion.objects.get(stage=Stage.PRODUCTION) == candidate


def test_an_unknown_model_is_named_in_the_error(make_version):
    with pytest.raises(CommandError, match='--model: There is no model version "nope"'):
        call_command("promote_model", "--model", "nope")


def test_the_database_holds_at_most_one_production_version(make_version):
    make_version("sft-v1", stage=Stage.PRODUCTION)

    with pytest.raises(IntegrityError):
        make_version("sft-v2", stage=Stage.PRODUCTION)


def test_latest_evaluations_on_different_data_are_not_compared(make_version):
    """Perplexities of two test sets say nothing about which model is better: refused until a head-to-head run."""
    make_version("sft-v1", evaluation=evaluated(9.0, 0.7, dataset="instruct-v1"), stage=Stage.PRODUCTION)
    make_version("sft-v2", evaluation=evaluated(5.0, 0.7, dataset="instruct-v2"))  # "better", on other data

    with pytest.raises(CommandError) as refused:
        call_command("promote_model", "--model", "sft-v2")

    assert str(refused.value) == (
        "sft-v2 was not promoted: sft-v2 (instruct-v2, 5 samples) and production sft-v1 (instruct-v1, 5 samples) "
        "were evaluated on different data, so their metrics cannot be compared; evaluate sft-v2 with sft-v1 as its "
        "baseline first. --force promotes it anyway."
    )
    assert ModelVersion.objects.get(stage=Stage.PRODUCTION).name == "sft-v1"


@pytest.mark.parametrize(("perplexity", "promoted"), [(9.1, True), (9.3, False)])
def test_latest_evaluations_on_the_same_data_are_compared(make_version, perplexity, promoted):
    make_version("sft-v1", evaluation=evaluated(9.0, 0.7, dataset="instruct-v1"), stage=Stage.PRODUCTION)
    make_version("sft-v2", evaluation=evaluated(perplexity, 0.7, dataset="instruct-v1"))
    out = StringIO()

    if promoted:  # 9.1 is within 2 % of 9.0; 9.3 is not
        call_command("promote_model", "--model", "sft-v2", stdout=out)
        assert "compared with sft-v1's latest evaluation, on the same instruct-v1" in out.getvalue()
    else:
        with pytest.raises(CommandError, match=r"perplexity 9\.300 is higher than production's 9\.000"):
            call_command("promote_model", "--model", "sft-v2")
    assert ModelVersion.objects.get(stage=Stage.PRODUCTION).name == ("sft-v2" if promoted else "sft-v1")
