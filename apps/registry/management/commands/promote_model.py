"""Promote a model version to production, through the metrics gate (apps/registry/gate.py)."""

from django.core.management.base import BaseCommand, CommandError

from apps.core.management.errors import command_error
from apps.registry.selectors import model_version_get
from apps.registry.services import PromotionRefused, model_version_promote
from apps.registry.serving import production_pointer
from lib.errors import TwinsiteError


class Command(BaseCommand):
    help = (
        "Make a model version the production model (the old one is archived). Refused when it was never evaluated "
        "or its metrics are worse than production's (perplexity over 2% higher, or style similarity over 0.05 "
        "lower); --force promotes it anyway."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="The model version: name (dpo-v1), id or path.")
        parser.add_argument("--force", action="store_true", help="Promote even if the gate refuses it.")

    def handle(self, *args, **options) -> None:
        try:
            promotion = model_version_promote(
                model_version=model_version_get(ref=options["model"]), force=options["force"]
            )
        except PromotionRefused as exc:
            raise CommandError(f"{exc} --force promotes it anyway.") from None
        except TwinsiteError as exc:
            raise command_error(exc, flags=["model"]) from None
        if promotion.forced:
            self.stderr.write("Promoted with --force despite: " + "; ".join(promotion.check.reasons) + ".")
        self.stdout.write(
            f"{promotion.version.name} is now the production model of {promotion.version.author_label} "
            f"(compared with {promotion.check.compared or 'nothing'})."
        )
        if promotion.previous is not None:
            self.stdout.write(f"{promotion.previous.name} is archived.")
        self.stdout.write(
            f"{production_pointer(promotion.version.author_id)} -> {promotion.version.path}. The local provider serves "
            "it from the next request; TGI loads it at start: manage.py serving_env, then docker compose restart tgi."
        )
