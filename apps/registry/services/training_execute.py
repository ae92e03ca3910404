"""Executing a training run: here or on a training worker, with the loss curve and progress saved as it trains.

Any error is recorded on the run (status failed) and its staging directory removed; a run that
succeeds is registered as a ModelVersion (registration.py).
"""

import dataclasses
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.registry.models import RunStatus, TrainingRun
from apps.registry.services.registration import model_version_register, staging_dir
from apps.registry.services.training import MANAGED_FIELDS, training_config_class

_SAVE_EVERY_S = 1.0  # how often the loss curve and progress reach the admin
_MAX_LOG_CHARS = 200_000  # the latest log lines; the loss curve keeps every step

ProgressCallback = Callable[[TrainingRun], None]


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
    staging = staging_dir(run)
    shutil.rmtree(staging, ignore_errors=True)  # what an earlier, killed attempt left
    recorder = _LogRecorder(run, on_progress)
    try:
        result = _train(run, staging, recorder.record)
        model_version_register(run=run, result=result, managed_fields=MANAGED_FIELDS)
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
    from lib.packaged_models import packaged_model_dir

    dataset = run.dataset_versions.get()
    base = run.base_model or str(packaged_model_dir(Path(settings.MODEL_CACHE_DIR)))
    options = {k: v for k, v in run.config.items() if k not in MANAGED_FIELDS}
    if "model_cache_dir" in {f.name for f in dataclasses.fields(training_config_class(run.stage))}:
        # Training converts the packaged model where this service keeps it, not where its environment says.
        options.setdefault("model_cache_dir", Path(settings.MODEL_CACHE_DIR))
    # An author's twin keeps its LoRA adapter (served on the shared base); all authors' is merged, unless asked.
    options.setdefault("merge", run.author_id is None)
    staging.parent.mkdir(parents=True, exist_ok=True)
    if run.stage == TrainingRun.Stage.SFT:
        from training.sft import SftConfig, run_sft

        config = SftConfig(dataset_dir=Path(dataset.path), output_dir=staging, base_model=base, **options)
        return run_sft(config, on_log=on_log)
    from training.dpo import DpoConfig, run_dpo

    config = DpoConfig(dataset_dir=Path(dataset.path), output_dir=staging, model=base, **options)
    return run_dpo(config, on_log=on_log)
