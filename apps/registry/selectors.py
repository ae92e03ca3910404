"""Reads of the registry: versions by the names people type, what a run starts from, evaluation summaries."""

from dataclasses import dataclass, field
from pathlib import Path

from apps.registry.gate import metrics_regressions
from apps.registry.models import EvalRun, ModelVersion, RunStatus, TrainingRun
from apps.sources.models import Author
from apps.trainsets.models import DatasetVersion
from lib.errors import InvalidInput


def dataset_version_get(*, ref: str | int, field: str = "dataset") -> DatasetVersion:
    """A dataset version by name ("instruct-v2") or id; InvalidInput on `field` when there is none."""
    text = str(ref).strip()
    if text.isdigit():
        found = DatasetVersion.objects.filter(pk=int(text)).first()
    else:
        kind, _, number = text.rpartition("-v")
        found = (
            DatasetVersion.objects.filter(kind=kind, number=int(number)).first() if kind and number.isdigit() else None
        )
    if found is None:
        raise InvalidInput(
            f'There is no dataset version "{text}" (give a name like instruct-v2, or an id).', field=field
        )
    return found


def dataset_version_latest(*, kind: str, author: Author | None = None) -> DatasetVersion | None:
    """The newest export of this kind for the author (None: the all-authors exports)."""
    return DatasetVersion.objects.filter(kind=kind, author=author).order_by("-number").first()


def model_version_find(*, ref: str | int) -> ModelVersion | None:
    """A model version by name, id or directory path; None when nothing matches."""
    text = str(ref).strip()
    if not text:
        return None
    found = ModelVersion.objects.filter(name=text).first()
    if found is None and text.isdigit():
        found = ModelVersion.objects.filter(pk=int(text)).first()
    if found is None and ("/" in text or Path(text).exists()):
        path = str(Path(text).expanduser().resolve())
        found = ModelVersion.objects.filter(path__in=[text, path]).first()
    return found


def model_version_get(*, ref: str | int, field: str = "model") -> ModelVersion:
    found = model_version_find(ref=ref)
    if found is None:
        raise InvalidInput(
            f'There is no model version "{ref}" (give its name, like dpo-v1, its id or its path).', field=field
        )
    return found


def model_version_production(*, author: Author | None = None, for_update: bool = False) -> ModelVersion | None:
    """The author's production version (None: the all-authors one); locked for the transaction when for_update."""
    versions = ModelVersion.objects.select_for_update() if for_update else ModelVersion.objects
    return versions.filter(stage=ModelVersion.Stage.PRODUCTION, author=author).first()


def model_version_latest(*, stage: str, author: Author | None = None) -> ModelVersion | None:
    """The author's (None: all authors') newest version a training run of this stage (sft or dpo) produced."""
    found = ModelVersion.objects.filter(training_run__stage=stage, author=author)
    return found.order_by("-created_at", "-pk").first()


def model_version_instruct_dataset(*, model_version: ModelVersion) -> DatasetVersion | None:
    """The instruct dataset a version learned from: its own, else its ancestors' (a DPO model's SFT parent)."""
    seen: set[int] = set()
    current: ModelVersion | None = model_version
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        found = current.dataset_versions.filter(kind=DatasetVersion.Kind.INSTRUCT).order_by("-number").first()
        if found is not None:
            return found
        current = current.parent
    return None


def training_base_resolve(
    *, stage: str, base: str | None, author: Author | None = None
) -> tuple[str, ModelVersion | None]:
    """What training starts from: base (a version name, a directory or a hub id), else the stage's default.

    For all authors, SFT starts from the production model, else the packaged SmolLM2 (""); for one author,
    from the packaged SmolLM2, so that every author's adapter fits the one base model serving holds.
    DPO starts from the same author's latest SFT version.
    """
    if base:
        version = model_version_find(ref=base)
        if version is not None:
            return version.path, version
        path = Path(base).expanduser()
        if path.is_dir():
            return str(path.resolve()), None
        if base.startswith(("/", ".", "~")):
            raise InvalidInput(f'"{base}" is neither a model version nor a model directory.', field="base")
        return base, None  # a hub id, read from the local hub cache
    if stage == TrainingRun.Stage.SFT:
        production = model_version_production() if author is None else None
        return (production.path, production) if production else ("", None)
    latest = model_version_latest(stage=TrainingRun.Stage.SFT, author=author)
    if latest is None:
        whose = f" of {author.name}" if author else ""
        message = f"DPO starts from an SFT model{whose} and none is registered; train one first."
        raise InvalidInput(message, field="base")
    return latest.path, latest


def eval_baseline_resolve(*, model_version: ModelVersion, baseline: str | None) -> str:
    """baseline (a version name or a model path), else the version's author's production (the comparison
    promotion needs), else ""."""
    if baseline:
        found = model_version_find(ref=baseline)
        if found is not None:
            return found.path
        if not Path(baseline).expanduser().is_dir():
            raise InvalidInput(f'"{baseline}" is neither a model version nor a model directory.', field="baseline")
        return str(Path(baseline).expanduser().resolve())
    production = model_version_production(author=model_version.author)
    return production.path if production and production.pk != model_version.pk else ""


def eval_summary(run: EvalRun) -> dict:
    """What a version keeps of its latest evaluation: the run, the data, both models' metrics."""
    models = run.report.get("models", {})
    return {
        "eval_run": run.pk,
        "dataset": run.dataset_version.name,
        "samples": run.report.get("samples"),
        "baseline": run.baseline,
        "twin": models.get("twin", {}),
        "base": models.get("base", {}),
    }


@dataclass
class PromotionCheck:
    reasons: list[str] = field(default_factory=list)  # empty: the candidate may be promoted
    compared: str = ""  # what the candidate was compared with, in words


def model_version_promotion_check(*, candidate: ModelVersion, production: ModelVersion | None) -> PromotionCheck:
    """Whether the candidate may replace production, and against what it was measured.

    Preferred comparison: an evaluation of the candidate whose baseline was production itself
    (same data, same run). Else the latest evaluations of each, but only when they were measured
    on the same dataset and number of samples: perplexities of different test sets say nothing about
    which model is better, so that is refused until a head-to-head run exists. A candidate never
    evaluated is refused; a production never evaluated leaves nothing to compare, so it is replaced.
    """
    evaluation = candidate.evaluation
    if not evaluation or not evaluation.get("twin"):
        return PromotionCheck([f"{candidate.name} was never evaluated"])
    if production is None:
        return PromotionCheck(compared="nothing: there is no production model yet")
    head_to_head = (
        EvalRun.objects.filter(model_version=candidate, status=RunStatus.SUCCEEDED, baseline=production.path)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if head_to_head is not None:
        models = head_to_head.report.get("models", {})
        return PromotionCheck(
            metrics_regressions(candidate=models.get("twin", {}), production=models.get("base", {})),
            compared=f"{production.name}, head to head in evaluation #{head_to_head.pk} "
            f"on {head_to_head.dataset_version.name}",
        )
    theirs = production.evaluation
    if not theirs or not theirs.get("twin"):
        return PromotionCheck(compared=f"nothing: production {production.name} was never evaluated")
    ours_on = (evaluation.get("dataset"), evaluation.get("samples"))
    theirs_on = (theirs.get("dataset"), theirs.get("samples"))
    if ours_on != theirs_on:
        return PromotionCheck(
            [
                f"{candidate.name} ({ours_on[0]}, {ours_on[1]} samples) and production {production.name} "
                f"({theirs_on[0]}, {theirs_on[1]} samples) were evaluated on different data, so their metrics "
                f"cannot be compared; evaluate {candidate.name} with {production.name} as its baseline first"
            ],
            compared=f"nothing: {production.name} was measured on other data",
        )
    return PromotionCheck(
        metrics_regressions(candidate=evaluation["twin"], production=theirs["twin"]),
        compared=f"{production.name}'s latest evaluation, on the same {ours_on[0]}",
    )
