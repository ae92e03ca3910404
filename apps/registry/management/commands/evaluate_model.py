"""Evaluate a model version on an instruct dataset's held-out split, against a baseline (production by default)."""

import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.core.management.errors import command_error
from apps.registry.management.progress import evaluation_bar
from apps.registry.models import METRIC_LABELS, EvalRun, RunStatus
from apps.registry.selectors import dataset_version_get, model_version_get
from apps.registry.services import eval_run_create, eval_run_enqueue, eval_run_execute
from lib.errors import TwinsiteError


class Command(BaseCommand):
    help = (
        "Evaluate a model version: perplexity of the author's held-out answers, style similarity, function-word "
        "distance, ROUGE-L (and an LLM judge with --judge), against a baseline; the metrics go onto the version."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="The model version: name (dpo-v1), id or path.")
        parser.add_argument("--dataset", help="An instruct dataset version; default: the one the model learned from.")
        parser.add_argument(
            "--baseline", help="Compare against this version or model directory; default: production, else SmolLM2."
        )
        parser.add_argument(
            "--judge",
            choices=["none", "local", "openai"],
            default="none",
            help="LLM-as-judge: a local model directory, or an OpenAI-compatible endpoint (OPENAI_* settings).",
        )
        parser.add_argument("--judge-model", default="", help="The judge's model directory or model name.")
        parser.add_argument("--judge-url", default="", help="The judge's OpenAI-compatible base URL.")
        parser.add_argument("--max-samples", type=int, default=20, help="Held-out samples to evaluate on.")
        parser.add_argument("--max-new-tokens", type=int, default=128, help="Tokens generated per answer.")
        parser.add_argument("--queue", action="store_true", help="Queue it on the training workers and return.")
        parser.add_argument("--json", action="store_true", help="Print the evaluation summary as JSON.")

    def handle(self, *args, **options) -> None:
        try:
            judge = None
            if options["judge"] != "none":
                judge = {"kind": options["judge"], "model": options["judge_model"], "base_url": options["judge_url"]}
            create = eval_run_enqueue if options["queue"] else eval_run_create
            run = create(
                model_version=model_version_get(ref=options["model"]),
                dataset_version=dataset_version_get(ref=options["dataset"]) if options["dataset"] else None,
                baseline=options["baseline"],
                judge=judge,
                max_samples=options["max_samples"],
                max_new_tokens=options["max_new_tokens"],
            )
        except TwinsiteError as exc:
            flags = ["model", "dataset", "baseline", "judge", "max_samples", "max_new_tokens"]
            raise command_error(exc, flags=flags) from None
        if options["queue"]:
            self.stdout.write(f"Queued evaluation #{run.pk} of {run.model_version.name} on the training queue.")
            return
        with tqdm(desc=f"evaluate {run.model_version.name}", unit="step", disable=None) as bar:
            run = eval_run_execute(run_id=run.pk, on_progress=evaluation_bar(bar))
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"Evaluation #{run.pk} failed: {run.error.splitlines()[0] if run.error else ''}")
        self._report(run, as_json=options["json"])

    def _report(self, run: EvalRun, *, as_json: bool) -> None:
        models = run.report.get("models", {})
        twin, base = models.get("twin", {}), models.get("base", {})
        if as_json:
            payload = {"eval_run": run.pk, "model_version": run.model_version.name, "report_path": run.report_path}
            self.stdout.write(json.dumps({**payload, "dataset": run.dataset_version.name, "twin": twin, "base": base}))
            return
        baseline = run.baseline or "packaged SmolLM2"
        self.stdout.write(
            f"Evaluation #{run.pk} of {run.model_version.name} on {run.dataset_version.name} "
            f"({run.report.get('samples')} samples); report: {run.report_path}"
        )
        self.stdout.write(f"{'':28}{'model':>12}{'baseline':>12}   baseline = {baseline}")
        for key, label in METRIC_LABELS:
            if twin.get(key) is None and base.get(key) is None:
                continue
            self.stdout.write(f"{label:28}{_cell(twin.get(key)):>12}{_cell(base.get(key)):>12}")


def _cell(value) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "—"
