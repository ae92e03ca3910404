"""The whole twin build: export the datasets, SFT, DPO, evaluate, promote, each step recorded as its own row.

Every step goes through the same services the single commands use, so a build
leaves the DatasetVersions, TrainingRuns, EvalRun and ModelVersions a person
would have made by hand, and stops at the first step that fails.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from apps.registry.models import EvalRun, ModelVersion, RunStatus, TrainingRun
from apps.registry.services.evaluation import eval_run_create, eval_run_execute
from apps.registry.services.promotion import Promotion, PromotionRefused, model_version_promote
from apps.registry.services.training import training_run_create
from apps.registry.services.training_execute import training_run_execute
from apps.sources.models import Author
from apps.trainsets.models import DatasetVersion
from lib.errors import TwinsiteError


@dataclass
class TwinProfile:
    sft: dict  # SftConfig overrides
    dpo: dict  # DpoConfig overrides
    eval_samples: int
    eval_new_tokens: int


# Both run on CPU in minutes with SmolLM2-135M; a GPU and a bigger model want a --config of their own.
PROFILES = {
    "default": TwinProfile(
        sft={"max_steps": 40, "max_length": 512},
        dpo={"max_steps": 20, "max_length": 512},
        eval_samples=10,
        eval_new_tokens=96,
    ),
    "quick": TwinProfile(
        sft={"max_steps": 2, "max_length": 256, "batch_size": 2},
        dpo={"max_steps": 2, "max_length": 256, "batch_size": 2},
        eval_samples=3,
        eval_new_tokens=16,
    ),
}


@dataclass
class TwinBuild:
    instruct: DatasetVersion | None = None
    preference: DatasetVersion | None = None
    runs: list[TrainingRun] = field(default_factory=list)
    evaluation: EvalRun | None = None
    version: ModelVersion | None = None  # the candidate the build made
    promotion: Promotion | None = None
    refused: str = ""  # why the gate kept the candidate out of production
    notes: list[str] = field(default_factory=list)


def twin_build(
    *,
    author: Author | None = None,
    profile: TwinProfile = PROFILES["default"],
    force: bool = False,
    merge: bool = False,
    on_stage: Callable[[str], None] | None = None,
    on_training: Callable[[TrainingRun], None] | None = None,
    on_evaluation: Callable[[EvalRun], None] | None = None,
) -> TwinBuild:
    """Export -> SFT -> DPO -> evaluate -> promote; a failed step raises, naming its recorded run.

    An author's twin is a LoRA adapter on the shared base model (merge: a standalone model instead); DPO trains
    that adapter on, against the SFT adapter as its reference, and the result is an adapter again.
    """
    from apps.trainsets.export.services import ExportError, ExportInterrupted, dataset_version_export

    say = on_stage or (lambda message: None)
    build = TwinBuild()
    say("Exporting the instruction dataset")
    # Evaluation needs held-out samples: refused here, before any training, when nothing can be held out.
    build.instruct = dataset_version_export(kind=DatasetVersion.Kind.INSTRUCT, author=author, require_test=True)
    say(f"{build.instruct.name}: {build.instruct.split_summary}")
    say("Exporting the preference dataset")
    try:
        build.preference = dataset_version_export(kind=DatasetVersion.Kind.PREFERENCE, author=author)
        say(f"{build.preference.name}: {build.preference.split_summary}")
    except ExportInterrupted:  # a full disk or a database gone: the build stops, it does not go on without DPO
        raise
    except ExportError as exc:  # no labeled pairs yet: the SFT model is still worth evaluating
        build.notes.append(f"DPO skipped: {exc}")

    say(f"SFT on {build.instruct.name}")
    sft_options = {**profile.sft, **({"merge": True} if merge else {})}
    sft = _train(build, TrainingRun.Stage.SFT, build.instruct, None, sft_options, on_training)
    build.version = sft.model_version
    if build.preference is not None:
        say(f"DPO on {build.preference.name}, from {build.version.name}")
        dpo_options = {**profile.dpo, **({"merge": True} if merge else {})}
        dpo = _train(build, TrainingRun.Stage.DPO, build.preference, build.version.name, dpo_options, on_training)
        build.version = dpo.model_version

    say(f"Evaluating {build.version.name} on {build.instruct.name}")
    evaluation = eval_run_create(
        model_version=build.version,
        dataset_version=build.instruct,
        max_samples=profile.eval_samples,
        max_new_tokens=profile.eval_new_tokens,
    )
    build.evaluation = eval_run_execute(run_id=evaluation.pk, on_progress=on_evaluation)
    if build.evaluation.status != RunStatus.SUCCEEDED:
        raise TwinsiteError(f"Evaluation #{evaluation.pk} failed: {build.evaluation.error.splitlines()[0]}")
    build.version.refresh_from_db()

    say(f"Promoting {build.version.name}")
    try:
        build.promotion = model_version_promote(model_version=build.version, force=force)
    except PromotionRefused as exc:
        build.refused = str(exc)
    build.version.refresh_from_db()
    return build


def _train(
    build: TwinBuild,
    stage: str,
    dataset: DatasetVersion,
    base: str | None,
    options: dict,
    on_training: Callable[[TrainingRun], None] | None,
) -> TrainingRun:
    run = training_run_create(stage=stage, dataset_version=dataset, base=base, options=options)
    run = training_run_execute(run_id=run.pk, on_progress=on_training)
    build.runs.append(run)
    if run.status != RunStatus.SUCCEEDED:
        raise TwinsiteError(f"{stage.upper()} run #{run.pk} failed: {run.error.splitlines()[0] if run.error else ''}")
    return TrainingRun.objects.select_related("model_version").get(pk=run.pk)
