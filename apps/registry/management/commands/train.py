"""Fine-tune a model (SFT or DPO) on a dataset version, here with a progress bar or on the training queue."""

import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.core.management.errors import command_error
from apps.registry.management.progress import training_bar
from apps.registry.models import RunStatus, TrainingRun
from apps.registry.selectors import dataset_version_get, dataset_version_latest
from apps.registry.services import training_run_create, training_run_enqueue, training_run_execute
from apps.registry.services.training import STAGE_DATASET_KIND
from apps.sources.selectors import author_get
from apps.trainsets.models import DatasetVersion
from lib.errors import InvalidInput, TwinsiteError


class Command(BaseCommand):
    help = (
        "Fine-tune on an exported dataset version: --stage sft on an instruct dataset (from the production model, "
        "else the packaged SmolLM2), --stage dpo on a preference dataset (from the latest SFT version). "
        "A run that succeeds is registered as a candidate ModelVersion."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stage", required=True, choices=TrainingRun.Stage.values)
        parser.add_argument(
            "--dataset",
            help='A dataset version name ("instruct-v2") or id; with --author, default: their latest export.',
        )
        parser.add_argument(
            "--author", help="Train this author's twin (by name): a LoRA adapter served on the shared base model."
        )
        parser.add_argument(
            "--merge",
            action="store_true",
            help="Merge the LoRA adapter into a standalone model (always so for all authors' twin).",
        )
        parser.add_argument("--base", help="Start from this model version (name or id), directory or hub id.")
        parser.add_argument("--max-steps", type=int, help="Stop after this many optimiser steps.")
        parser.add_argument("--config", help="A YAML file of training settings (lora_r, learning_rate, ...).")
        parser.add_argument("--queue", action="store_true", help="Queue it on the training workers and return.")
        parser.add_argument("--json", action="store_true", help="Print the run and its version as JSON.")

    def handle(self, *args, **options) -> None:
        try:
            run = self._create(options)
        except TwinsiteError as exc:
            raise command_error(exc, flags=["stage", "dataset", "author", "base", "config"]) from None
        if options["queue"]:
            self.stdout.write(f"Queued {options['stage'].upper()} run #{run.pk} on the training queue.")
            return
        with tqdm(desc=f"{run.stage} run #{run.pk}", unit="step", disable=None) as bar:
            run = training_run_execute(run_id=run.pk, on_progress=training_bar(bar))
        self._report(run, as_json=options["json"])

    def _create(self, options: dict) -> TrainingRun:
        settings: dict = {}
        if options["config"]:
            from training.config import config_from_yaml

            settings.update(config_from_yaml(options["config"]))
        if options["max_steps"] is not None:
            settings["max_steps"] = options["max_steps"]
        if options["merge"]:
            settings["merge"] = True
        author = author_get(name=options["author"]) if options["author"] else None
        create = training_run_enqueue if options["queue"] else training_run_create
        return create(
            stage=options["stage"],
            dataset_version=self._dataset(options, author),
            base=options["base"],
            options=settings,
            author=author,
        )

    def _dataset(self, options: dict, author) -> DatasetVersion:
        if options["dataset"]:
            return dataset_version_get(ref=options["dataset"])
        kind = STAGE_DATASET_KIND[options["stage"]]
        found = dataset_version_latest(kind=kind, author=author) if author else None
        if found is None:
            whose = f" of {author.name}'s data" if author else ""
            raise InvalidInput(f"Give a dataset version: there is no {kind} export{whose}.", field="dataset")
        return found

    def _report(self, run: TrainingRun, *, as_json: bool) -> None:
        version = getattr(run, "model_version", None) if run.status == RunStatus.SUCCEEDED else None
        if as_json:
            payload = {
                "training_run": run.pk,
                "status": run.status,
                "model_version": version.name if version else None,
                "path": version.path if version else None,
                "metrics": version.metrics if version else None,
                "error": run.error or None,
            }
            self.stdout.write(json.dumps(payload, indent=2))
        elif version is not None:
            training = version.metrics.get("training", {})
            self.stdout.write(
                f"{run.stage.upper()} run #{run.pk} succeeded: registered {version.name} at {version.path} "
                f"(loss {training.get('first_loss')} -> {training.get('final_loss')} in {training.get('steps')} steps)."
            )
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"{run.stage.upper()} run #{run.pk} failed: {run.error}")
