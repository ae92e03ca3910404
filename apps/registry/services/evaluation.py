"""Evaluation runs: a model version against a baseline on an instruct dataset's held-out split.

A run that succeeds stores the report (and its JSON file under
MODELS_DIR/evaluations/) and copies the twin's metrics onto the version, where
the promotion gate and the admin read them.
"""

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.tasks import task_send
from apps.registry.models import EvalRun, ModelVersion, RunStatus
from apps.registry.selectors import (
    dataset_version_latest,
    eval_baseline_resolve,
    eval_summary,
    model_version_instruct_dataset,
)
from apps.trainsets.models import DatasetVersion
from lib.errors import InvalidInput

JUDGE_KINDS = ("local", "openai")


def eval_run_create(
    *,
    model_version: ModelVersion,
    dataset_version: DatasetVersion | None = None,
    baseline: str | None = None,
    judge: dict | None = None,
    max_samples: int = 20,
    max_new_tokens: int = 128,
) -> EvalRun:
    """A queued evaluation; the dataset defaults to the instruct data the version (or its SFT parent) learned from,
    else the latest export of the version's author. An author's version is evaluated on that author's data only."""
    dataset = dataset_version or model_version_instruct_dataset(model_version=model_version)
    dataset = dataset or dataset_version_latest(kind=DatasetVersion.Kind.INSTRUCT, author=model_version.author)
    if dataset is None:
        raise InvalidInput("There is no instruct dataset version to evaluate on; export one first.", field="dataset")
    if dataset.kind != DatasetVersion.Kind.INSTRUCT:
        raise InvalidInput(
            f"{dataset.name} is a {dataset.kind} dataset; evaluation needs an instruct one.", field="dataset"
        )
    if model_version.author_id is not None and dataset.author_id != model_version.author_id:
        raise InvalidInput(
            f"{model_version.name} is {model_version.author_label}'s twin; evaluate it on an export of "
            f"{model_version.author_label}'s data, not {dataset.name}.",
            field="dataset",
        )
    if max_samples < 1:
        raise InvalidInput("At least 1 sample must be evaluated.", field="max_samples")
    if max_new_tokens < 1:
        raise InvalidInput("At least 1 new token must be generated per answer.", field="max_new_tokens")
    if judge and judge.get("kind") not in JUDGE_KINDS:
        raise InvalidInput(
            f"The judge must be one of none, {', '.join(JUDGE_KINDS)}, not {judge.get('kind')!r}.", field="judge"
        )
    return EvalRun.objects.create(
        model_version=model_version,
        dataset_version=dataset,
        baseline=eval_baseline_resolve(model_version=model_version, baseline=baseline),
        options={"judge": judge or None, "max_samples": max_samples, "max_new_tokens": max_new_tokens},
    )


def eval_run_enqueue(**kwargs: Any) -> EvalRun:
    with transaction.atomic():
        run = eval_run_create(**kwargs)
        task_send("workers.training.evaluate_model", run.pk)
    return run


def eval_run_fail(*, run_id: int, error: str) -> None:
    run = EvalRun.objects.filter(pk=run_id).first()
    if run is not None and not run.is_finished:
        run.status, run.error, run.finished_at = RunStatus.FAILED, error, timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])


def eval_run_execute(*, run_id: int, on_progress: Callable[[EvalRun], None] | None = None) -> EvalRun:
    """Evaluate, store the report, copy the metrics onto the version. Errors are recorded, not raised."""
    run = EvalRun.objects.select_related("model_version", "dataset_version").get(pk=run_id)
    if run.is_finished:
        return run
    run.status, run.started_at, run.finished_at, run.error = RunStatus.RUNNING, timezone.now(), None, ""
    run.save()
    report_path = Path(settings.MODELS_DIR) / "evaluations" / f"eval-{run.pk}-{run.model_version.name}.json"
    report_path.parent.mkdir(parents=True, exist_ok=True)

    def progress(done: int, total: int) -> None:
        run.progress_done, run.progress_total = done, total
        run.save(update_fields=["progress_done", "progress_total"])
        if on_progress:
            on_progress(run)

    try:
        report = _evaluate(run, report_path, progress)
    except BaseException as exc:
        run.error = f"{exc.__class__.__name__}: {exc}"[:4000] + "\n" + "".join(traceback.format_exception(exc))[-4000:]
        run.status, run.finished_at = RunStatus.FAILED, timezone.now()
        run.save()
        if not isinstance(exc, Exception):
            raise
        return run
    with transaction.atomic():
        run.report, run.report_path = report, str(report_path) if report_path.is_file() else ""
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        run.save()
        version = ModelVersion.objects.select_for_update().get(pk=run.model_version_id)
        version.metrics = {**version.metrics, "evaluation": eval_summary(run)}
        version.save(update_fields=["metrics"])
    return run


def _evaluate(run: EvalRun, report_path: Path, progress: Callable[[int, int], None]) -> dict:
    from training.evaluate import EvalConfig, JudgeConfig, run_evaluation

    options = run.options
    judge = None
    if options.get("judge"):
        spec = options["judge"]
        openai = spec["kind"] == "openai"
        judge = JudgeConfig(
            kind=spec["kind"],
            model=spec.get("model") or (settings.OPENAI_MODEL if openai else ""),
            base_url=spec.get("base_url") or (settings.OPENAI_BASE_URL if openai else ""),
            api_key=settings.OPENAI_API_KEY if openai else "",  # never stored on the run
        )
    config = EvalConfig(
        dataset_dir=Path(run.dataset_version.path),
        model=run.model_version.path,
        base_model=run.baseline or str(_packaged_model_dir()),
        output=report_path,
        judge=judge,
        max_samples=int(options.get("max_samples", 20)),
        max_new_tokens=int(options.get("max_new_tokens", 128)),
    )
    return run_evaluation(config, on_progress=progress)


def _packaged_model_dir() -> Path:
    from lib.packaged_models import packaged_model_dir

    return packaged_model_dir(Path(settings.MODEL_CACHE_DIR))
