"""A trained directory becomes a ModelVersion: renamed from its staging directory to the next free version name.

A run trains into MODELS_DIR/.staging/run-<id>; only a run that succeeds has its directory
renamed to MODELS_DIR/<version name> and registered, so a failed run leaves no model behind.
"""

import json
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.database import DATABASE_DOWN_ERRORS, committed_after_all
from apps.registry.models import ModelVersion, RunStatus, TrainingRun
from lib.errors import TwinsiteError
from lib.production_pointer import is_adapter_dir

_REGISTER_LOCK = 7302  # advisory-lock key: one registration at a time picks the next version name


def staging_dir(run: TrainingRun) -> Path:
    return Path(settings.MODELS_DIR) / ".staging" / f"run-{run.pk}"


def model_version_register(*, run: TrainingRun, result: Any, managed_fields: set[str]) -> ModelVersion:
    """Move the trained directory to its version name and record the version and the run's outcome, atomically."""
    output = Path(result.output_dir)
    adapter = is_adapter_dir(output)
    if not adapter and not (output / "config.json").is_file():
        raise TwinsiteError(f"Training finished but {output} holds no model (no config.json, no adapter_config.json).")
    models_dir = Path(settings.MODELS_DIR)
    moved: tuple[Path, Path] | None = None
    version: ModelVersion | None = None  # unset while its INSERT has not come back
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REGISTER_LOCK])
            name = _free_version_name(run.stage, models_dir)
            target = models_dir / name
            output.rename(target)
            moved = (target, output)
            version = ModelVersion.objects.create(
                name=name,
                path=str(target),
                author=run.author,
                kind=ModelVersion.Kind.ADAPTER if adapter else ModelVersion.Kind.MERGED,
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
            effective = {k: v for k, v in (result.config or {}).items() if k not in managed_fields}
            run.config = {**run.config, **_json_safe(effective)}
            run.progress_step = max(run.progress_step, result.steps)
            run.progress_total = run.progress_total or result.steps
            run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
            run.logs += f"Registered {name} at {target}.\n"
            run.save()
    except BaseException as exc:
        in_doubt = version is not None and isinstance(exc, DATABASE_DOWN_ERRORS)
        # The database may have committed and gone away before it could say so: then the version stands.
        if not (in_doubt and committed_after_all(ModelVersion, version.pk)):
            # It said no, or went away before the commit: the directory goes back to be cleaned up,
            # so no version directory is left that the registry does not know.
            if moved is not None:
                moved[0].rename(moved[1])
            raise
    staging = staging_dir(run)
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
