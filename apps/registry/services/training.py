"""Training runs: created from what a person asked for, executed here or on the training queue, then registered.

A run trains into MODELS_DIR/.staging/run-<id>; only a run that succeeds has
its directory renamed to MODELS_DIR/<version name> and registered as a
ModelVersion. A failed run records its error and leaves no model behind.
"""

import dataclasses
import json
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.tasks import task_send
from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from apps.registry.selectors import model_version_find, model_version_latest, model_version_production
from apps.trainsets.models import DatasetVersion
from lib.errors import TwinsiteError

_SAVE_EVERY_S = 1.0  # how often the loss curve and progress reach the admin
_MAX_LOG_CHARS = 200_000  # the latest log lines; the loss curve keeps every step
_REGISTER_LOCK = 7302  # advisory-lock key: one registration at a time picks the next version name
# Set by the registry from the run itself, never from --config.
_MANAGED_FIELDS = {"dataset_dir", "output_dir", "base_model", "model"}
STAGE_DATASET_KIND = {
    TrainingRun.Stage.SFT: DatasetVersion.Kind.INSTRUCT,
    TrainingRun.Stage.DPO: DatasetVersion.Kind.PREFERENCE,
}

ProgressCallback = Callable[[TrainingRun], None]


def training_config_class(stage: str) -> type:
    if stage == TrainingRun.Stage.SFT:
        from training.sft import SftConfig

        return SftConfig
    from training.dpo import DpoConfig

    return DpoConfig


def training_options_clean(*, stage: str, options: dict[str, Any], field: str = "--config") -> dict[str, Any]:
    """The options checked and converted by training's own config rules; a wrong name or type names the setting."""
    from training.config import config_from_mapping

    managed = sorted(_MANAGED_FIELDS & set(options))
    if managed:
        raise TwinsiteError(f"{field}: {managed[0]} is set by the registry (from --dataset and --base), not here.")
    cls = training_config_class(stage)
    names = {f.name for f in dataclasses.fields(cls)}
    required = {"dataset_dir": ".", "output_dir": ".", **({"model": ""} if "model" in names else {})}
    try:
        config = config_from_mapping(cls, {**required, **options})
    except TwinsiteError as exc:
        raise TwinsiteError(f"{field}: {exc}") from None
    return {key: getattr(config, key) for key in options}


def training_base_resolve(*, stage: str, base: str | None) -> tuple[str, ModelVersion | None]:
    """What training starts from: --base (a version name, a directory or a hub id), else the stage's default.

    SFT starts from the production model, else the packaged SmolLM2 (""); DPO from the latest SFT version.
    """
    if base:
        version = model_version_find(ref=base)
        if version is not None:
            return version.path, version
        path = Path(base).expanduser()
        if path.is_dir():
            return str(path.resolve()), None
        if base.startswith(("/", ".", "~")):
            raise TwinsiteError(f'--base: "{base}" is neither a model version nor a model directory.')
        return base, None  # a hub id, read from the local hub cache
    if stage == TrainingRun.Stage.SFT:
        production = model_version_production()
        return (production.path, production) if production else ("", None)
    latest = model_version_latest(stage=TrainingRun.Stage.SFT)
    if latest is None:
        raise TwinsiteError("--base: DPO starts from an SFT model and none is registered; train one first.")
    return latest.path, latest


@transaction.atomic
def training_run_create(
    *, stage: str, dataset_version: DatasetVersion, base: str | None = None, options: dict | None = None
) -> TrainingRun:
    if stage not in TrainingRun.Stage.values:
        raise TwinsiteError(f"--stage must be one of {', '.join(TrainingRun.Stage.values)}, not {stage!r}.")
    if dataset_version.kind != STAGE_DATASET_KIND[stage]:
        raise TwinsiteError(
            f"--dataset: {dataset_version.name} is a {dataset_version.kind} dataset; "
            f"{stage.upper()} trains on a {STAGE_DATASET_KIND[stage]} dataset."
        )
    base_model, parent = training_base_resolve(stage=stage, base=base)
    run = TrainingRun.objects.create(
        stage=stage,
        base_model=base_model,
        parent=parent,
        config=training_options_clean(stage=stage, options=options or {}),
    )
    run.dataset_versions.add(dataset_version)
    return run


def training_run_enqueue(**kwargs: Any) -> TrainingRun:
    """Create a run and queue it on the training workers once it is committed."""
    with transaction.atomic():
        run = training_run_create(**kwargs)
        task_send("workers.training.train_model", run.pk)
    return run


def training_run_rerun(*, run: TrainingRun) -> TrainingRun:
    """A new queued run with the same stage, dataset, starting model and options."""
    defaults = {f.name for f in dataclasses.fields(training_config_class(run.stage))} - _MANAGED_FIELDS
    with transaction.atomic():
        again = TrainingRun.objects.create(
            stage=run.stage,
            base_model=run.parent.path if run.parent else run.base_model,
            parent=run.parent,
            config=training_options_clean(
                stage=run.stage, options={key: value for key, value in run.config.items() if key in defaults}
            ),
        )
        again.dataset_versions.set(run.dataset_versions.all())
        task_send("workers.training.train_model", again.pk)
    return again


def training_run_fail(*, run_id: int, error: str) -> None:
    """Record a run that stopped outside the training loop (a worker crash, a time limit)."""
    run = TrainingRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return
    run.status, run.error, run.finished_at = RunStatus.FAILED, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    shutil.rmtree(_staging_dir(run), ignore_errors=True)


def _staging_dir(run: TrainingRun) -> Path:
    return Path(settings.MODELS_DIR) / ".staging" / f"run-{run.pk}"


def training_run_execute(*, run_id: int, on_progress: ProgressCallback | None = None) -> TrainingRun:
    """Train, record the loss as it is logged, and register the model; a finished run is returned as it is.

    Any error is recorded on the run (status failed) and the run is returned; an interrupt is recorded
    and raised again.
    """
    run = TrainingRun.objects.get(pk=run_id)
    if run.is_finished:
        return run
    run.status, run.started_at, run.finished_at = RunStatus.RUNNING, timezone.now(), None
    run.error, run.logs, run.loss_curve, run.progress_step = "", "", [], 0
    run.progress_total = max(int(run.config.get("max_steps", -1)), 0)
    run.save()
    staging = _staging_dir(run)
    shutil.rmtree(staging, ignore_errors=True)  # what an earlier, killed attempt left
    recorder = _LogRecorder(run, on_progress)
    try:
        result = _train(run, staging, recorder.record)
        _register(run, result, staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        run.error = f"{exc.__class__.__name__}: {exc}"[:4000]
        run.logs += "\n" + "".join(traceback.format_exception(exc))[-8000:]
        run.status, run.finished_at = RunStatus.FAILED, timezone.now()
        run.save()
        if on_progress:
            on_progress(run)
        if not isinstance(exc, Exception):
            raise
        return run
    if on_progress:
        on_progress(run)
    return run


class _LogRecorder:
    """Turns the trainer's log dicts into the run's loss curve, progress and log text, saved about once a second."""

    def __init__(self, run: TrainingRun, on_progress: ProgressCallback | None) -> None:
        self.run, self.on_progress = run, on_progress
        self.last_save = 0.0

    def record(self, entry: dict) -> None:
        run = self.run
        step = int(entry.get("step") or entry.get("global_step") or run.progress_step + 1)
        run.progress_step = max(run.progress_step, step)
        total = entry.get("max_steps") or entry.get("total_steps")
        if total:
            run.progress_total = int(total)
        if isinstance(entry.get("loss"), int | float):
            point = {"step": step, "loss": float(entry["loss"])}
            if isinstance(entry.get("epoch"), int | float):
                point["epoch"] = float(entry["epoch"])
            run.loss_curve = [*run.loss_curve, point]
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items())
        run.logs = (run.logs + f"step {step}: {shown}\n")[-_MAX_LOG_CHARS:]
        if time.monotonic() - self.last_save >= _SAVE_EVERY_S:
            self.flush()

    def flush(self) -> None:
        self.run.save(update_fields=["progress_step", "progress_total", "loss_curve", "logs"])
        self.last_save = time.monotonic()
        if self.on_progress:
            self.on_progress(self.run)


def _train(run: TrainingRun, staging: Path, on_log: Callable[[dict], None]) -> Any:
    dataset = run.dataset_versions.get()
    base = run.base_model or str(_packaged_model_dir())
    options = {k: v for k, v in run.config.items() if k not in _MANAGED_FIELDS}
    if "model_cache_dir" in {f.name for f in dataclasses.fields(training_config_class(run.stage))}:
        # Training converts the packaged model where this service keeps it, not where its environment says.
        options.setdefault("model_cache_dir", Path(settings.MODEL_CACHE_DIR))
    staging.parent.mkdir(parents=True, exist_ok=True)
    if run.stage == TrainingRun.Stage.SFT:
        from training.sft import SftConfig, run_sft

        config = SftConfig(dataset_dir=Path(dataset.path), output_dir=staging, base_model=base, **options)
        return run_sft(config, on_log=on_log)
    from training.dpo import DpoConfig, run_dpo

    config = DpoConfig(dataset_dir=Path(dataset.path), output_dir=staging, model=base, **options)
    return run_dpo(config, on_log=on_log)


def _packaged_model_dir() -> Path:
    from lib.packaged_models import packaged_model_dir

    return packaged_model_dir(Path(settings.MODEL_CACHE_DIR))


def _register(run: TrainingRun, result: Any, staging: Path) -> ModelVersion:
    """Move the trained directory to its version name and record the version, atomically in the database."""
    output = Path(result.output_dir)
    if not (output / "config.json").is_file():
        raise TwinsiteError(f"Training finished but {output} holds no model (no config.json).")
    models_dir = Path(settings.MODELS_DIR)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REGISTER_LOCK])
        name = _free_version_name(run.stage, models_dir)
        target = models_dir / name
        output.rename(target)
        try:
            version = ModelVersion.objects.create(
                name=name,
                path=str(target),
                base_model=result.base_model or run.base_model,
                parent=run.parent,
                training_run=run,
                metrics={
                    "training": {
                        "first_loss": result.first_loss,
                        "final_loss": result.final_loss,
                        "steps": result.steps,
                        "runtime_s": round(result.runtime_s, 2),
                    }
                },
            )
            version.dataset_versions.set(run.dataset_versions.all())
            run.loss_curve = list(result.loss_curve) or run.loss_curve
            run.base_model = result.base_model or run.base_model
            effective = {k: v for k, v in (result.config or {}).items() if k not in _MANAGED_FIELDS}
            run.config = {**run.config, **_json_safe(effective)}
            run.progress_step = max(run.progress_step, result.steps)
            run.progress_total = run.progress_total or result.steps
            run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
            run.logs += f"Registered {name} at {target}.\n"
            run.save()
        except BaseException:
            target.rename(output)  # the database said no: the directory goes back to be cleaned up
            raise
    if staging.exists() and staging != output:
        shutil.rmtree(staging, ignore_errors=True)
    return version


def _free_version_name(stage: str, models_dir: Path) -> str:
    """The next <stage>-v<N> that neither the database nor the models folder holds."""
    taken = set(ModelVersion.objects.filter(name__startswith=f"{stage}-v").values_list("name", flat=True))
    number = 1
    while f"{stage}-v{number}" in taken or (models_dir / f"{stage}-v{number}").exists():
        number += 1
    return f"{stage}-v{number}"


def _json_safe(config: dict) -> dict:
    return json.loads(json.dumps(config, default=str))
