"""Promotion: one candidate becomes the production model, through the gate in apps/registry/gate.py."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.registry.gate import metrics_regressions
from apps.registry.models import EvalRun, ModelVersion, RunStatus
from apps.registry.serving import production_pointer_set
from lib.errors import TwinsiteError


class PromotionRefused(TwinsiteError):
    """The candidate did not pass the gate; `reasons` lists why."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


@dataclass
class PromotionCheck:
    reasons: list[str] = field(default_factory=list)  # empty: the candidate may be promoted
    compared: str = ""  # what the candidate was compared with, in words


@dataclass
class Promotion:
    version: ModelVersion
    previous: ModelVersion | None
    check: PromotionCheck
    forced: bool


def model_version_promotion_check(*, candidate: ModelVersion, production: ModelVersion | None) -> PromotionCheck:
    """Whether the candidate may replace production, and against what it was measured.

    Preferred comparison: an evaluation of the candidate whose baseline was production itself
    (same data, same run). Else the latest evaluations of each. A candidate never evaluated is
    refused; a production never evaluated leaves nothing to compare, so it is replaced.
    """
    evaluation = candidate.evaluation
    if not evaluation or not evaluation.get("twin"):
        return PromotionCheck([f"{candidate.name} was never evaluated: run evaluate_model --model {candidate.name}"])
    if production is None:
        return PromotionCheck(compared="nothing: there is no production model yet")
    head_to_head = (
        EvalRun.objects.filter(model_version=candidate, status=RunStatus.SUCCEEDED, baseline=production.path)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if head_to_head is not None:
        models = head_to_head.report.get("models", {})
        return PromotionCheck(
            metrics_regressions(candidate=models.get("twin", {}), production=models.get("base", {})),
            compared=f"{production.name}, head to head in evaluation #{head_to_head.pk} "
            f"on {head_to_head.dataset_version.name}",
        )
    if not production.evaluation or not production.evaluation.get("twin"):
        return PromotionCheck(compared=f"nothing: production {production.name} was never evaluated")
    datasets = {evaluation.get("dataset"), production.evaluation.get("dataset")}
    return PromotionCheck(
        metrics_regressions(candidate=evaluation["twin"], production=production.evaluation["twin"]),
        compared=f"{production.name}'s latest evaluation"
        + ("" if len(datasets) == 1 else f" (on other data: {' vs '.join(sorted(map(str, datasets)))})"),
    )


def model_version_promote(*, model_version: ModelVersion, force: bool = False) -> Promotion:
    """Make the version production and archive the old one; refused when the gate says it is worse, unless force."""
    with transaction.atomic():
        production = ModelVersion.objects.select_for_update().filter(stage=ModelVersion.Stage.PRODUCTION).first()
        candidate = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        if production is not None and production.pk == candidate.pk:
            raise TwinsiteError(f"--model: {candidate.name} is already the production model.")
        if not (Path(candidate.path) / "config.json").is_file():
            raise TwinsiteError(f"--model: {candidate.name}'s directory {candidate.path} holds no model.")
        check = model_version_promotion_check(candidate=candidate, production=production)
        if check.reasons and not force:
            raise PromotionRefused(
                f"{candidate.name} was not promoted: "
                + "; ".join(check.reasons)
                + ". promote_model --force promotes it anyway.",
                check.reasons,
            )
        now = timezone.now()
        if production is not None:
            production.stage = ModelVersion.Stage.ARCHIVED
            production.save(update_fields=["stage"])
        candidate.stage, candidate.promoted_at = ModelVersion.Stage.PRODUCTION, now
        candidate.save(update_fields=["stage", "promoted_at"])
        # Inside the transaction: if the pointer cannot be moved, the database keeps the old production too.
        production_pointer_set(model_dir=Path(candidate.path))
    return Promotion(version=candidate, previous=production, check=check, forced=bool(check.reasons))
