"""Training runs as people ask for them: created, queued on the training workers, re-run, or marked failed.

How a run is executed and its model registered is in training_execute.py and registration.py.
"""

import dataclasses
import shutil
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.tasks import task_send
from apps.registry.models import RunStatus, TrainingRun
from apps.registry.selectors import training_base_resolve
from apps.registry.services.registration import staging_dir
from apps.sources.models import Author
from apps.trainsets.models import DatasetVersion
from lib.errors import InvalidInput, TwinsiteError

# Set by the registry from the run itself, never from the options a person gives.
MANAGED_FIELDS = {"dataset_dir", "output_dir", "base_model", "model"}
STAGE_DATASET_KIND = {
    TrainingRun.Stage.SFT: DatasetVersion.Kind.INSTRUCT,
    TrainingRun.Stage.DPO: DatasetVersion.Kind.PREFERENCE,
}


def training_config_class(stage: str) -> type:
    if stage == TrainingRun.Stage.SFT:
        from training.sft import SftConfig

        return SftConfig
    from training.dpo import DpoConfig

    return DpoConfig


def training_options_clean(*, stage: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options checked and converted by training's own config rules; a wrong name or type names the setting.

    Errors are InvalidInput on the field "config" (the command's --config, a run's options in the admin).
    """
    from training.config import config_from_mapping

    managed = sorted(MANAGED_FIELDS & set(options))
    if managed:
        raise InvalidInput(
            f"{managed[0]} is set by the registry from the run's dataset and starting model, not in the options.",
            field="config",
        )
    cls = training_config_class(stage)
    names = {f.name for f in dataclasses.fields(cls)}
    required = {"dataset_dir": ".", "output_dir": ".", **({"model": ""} if "model" in names else {})}
    try:
        config = config_from_mapping(cls, {**required, **options})
    except TwinsiteError as exc:
        raise InvalidInput(str(exc), field="config") from None
    return {key: getattr(config, key) for key in options}


@transaction.atomic
def training_run_create(
    *,
    stage: str,
    dataset_version: DatasetVersion,
    base: str | None = None,
    options: dict | None = None,
    author: Author | None = None,
) -> TrainingRun:
    """A queued run; it trains the twin of the dataset's author (an export of one author's data) or of all.

    author, when given, must be the dataset's author.
    """
    if stage not in TrainingRun.Stage.values:
        raise InvalidInput(
            f"The stage must be one of {', '.join(TrainingRun.Stage.values)}, not {stage!r}.", field="stage"
        )
    if dataset_version.kind != STAGE_DATASET_KIND[stage]:
        raise InvalidInput(
            f"{dataset_version.name} is a {dataset_version.kind} dataset; "
            f"{stage.upper()} trains on a {STAGE_DATASET_KIND[stage]} dataset.",
            field="dataset",
        )
    if author is not None and dataset_version.author_id != author.pk:
        raise InvalidInput(
            f"{dataset_version.name} is not an export of {author.name}'s data; export one with --author.",
            field="dataset",
        )
    author = dataset_version.author
    base_model, parent = training_base_resolve(stage=stage, base=base, author=author)
    run = TrainingRun.objects.create(
        stage=stage,
        author=author,
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
    defaults = {f.name for f in dataclasses.fields(training_config_class(run.stage))} - MANAGED_FIELDS
    with transaction.atomic():
        again = TrainingRun.objects.create(
            stage=run.stage,
            author=run.author,
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
    shutil.rmtree(staging_dir(run), ignore_errors=True)
