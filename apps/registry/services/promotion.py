"""Promotion: one candidate becomes its author's production version, through the gate in apps/registry/gate.py.

Stages are per author (and one for "all"): promoting one author's version archives only that
author's previous production version and moves only that author's pointer.
"""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from apps.registry.models import ModelVersion
from apps.registry.selectors import PromotionCheck, model_version_production, model_version_promotion_check
from apps.registry.serving import production_pointer_set
from lib.errors import InvalidInput, TwinsiteError
from lib.production_pointer import ADAPTER_CONFIG


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
    """Make the version its author's production and archive that author's old one; refused when the gate says it
    is worse, unless force."""
    with transaction.atomic():
        candidate = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
        production = model_version_production(author=candidate.author, for_update=True)
        if production is not None and production.pk == candidate.pk:
            whose = f" of {candidate.author.name}" if candidate.author_id else ""
            raise InvalidInput(f"{candidate.name} is already the production model{whose}.", field="model")
        directory = Path(candidate.path)
        if not ((directory / "config.json").is_file() or (directory / ADAPTER_CONFIG).is_file()):
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
        production_pointer_set(model_dir=directory, author_id=candidate.author_id)
    return Promotion(version=candidate, previous=production, check=check, forced=bool(check.reasons))
