"""Promotion: one candidate becomes the production model, through the gate in apps/registry/gate.py."""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.registry.models import ModelVersion
from apps.registry.selectors import PromotionCheck, model_version_promotion_check
from apps.registry.serving import production_pointer_set
from lib.errors import InvalidInput, TwinsiteError


class PromotionRefused(TwinsiteError):
    """The candidate did not pass the gate; `reasons` lists why."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


@dataclass
class Promotion:
    version: ModelVersion
    previous: ModelVersion | None
    check: PromotionCheck
    forced: bool


def model_version_promote(*, model_version: ModelVersion, force: bool = False) -> Promotion:
    """Make the version production and archive the old one; refused when the gate says it is worse, unless force."""
    with transaction.atomic():
        production = ModelVersion.objects.select_for_update().filter(stage=ModelVersion.Stage.PRODUCTION).first()
        candidate = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        if production is not None and production.pk == candidate.pk:
            raise InvalidInput(f"{candidate.name} is already the production model.", field="model")
        if not (Path(candidate.path) / "config.json").is_file():
            raise InvalidInput(f"{candidate.name}'s directory {candidate.path} holds no model.", field="model")
        check = model_version_promotion_check(candidate=candidate, production=production)
        if check.reasons and not force:
            raise PromotionRefused(
                f"{candidate.name} was not promoted: " + "; ".join(check.reasons) + ".", check.reasons
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
