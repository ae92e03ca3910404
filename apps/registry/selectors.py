"""Reads of the registry: finding dataset and model versions by the names people type."""

from pathlib import Path

from apps.registry.models import ModelVersion
from apps.trainsets.models import DatasetVersion
from lib.errors import TwinsiteError


def dataset_version_get(*, ref: str | int, field: str = "--dataset") -> DatasetVersion:
    """A dataset version by name ("instruct-v2") or id; the error names the field it came from."""
    text = str(ref).strip()
    if text.isdigit():
        found = DatasetVersion.objects.filter(pk=int(text)).first()
    else:
        kind, _, number = text.rpartition("-v")
        found = (
            DatasetVersion.objects.filter(kind=kind, number=int(number)).first() if kind and number.isdigit() else None
        )
    if found is None:
        raise TwinsiteError(f'{field}: no dataset version "{text}" (give a name like instruct-v2, or an id).')
    return found


def dataset_version_latest(*, kind: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(kind=kind).order_by("-number").first()


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


def model_version_get(*, ref: str | int, field: str = "--model") -> ModelVersion:
    found = model_version_find(ref=ref)
    if found is None:
        raise TwinsiteError(f'{field}: no model version "{ref}" (give its name, like dpo-v1, its id or its path).')
    return found


def model_version_production() -> ModelVersion | None:
    return ModelVersion.objects.filter(stage=ModelVersion.Stage.PRODUCTION).first()


def model_version_latest(*, stage: str) -> ModelVersion | None:
    """The newest version a training run of this stage (sft or dpo) produced."""
    return ModelVersion.objects.filter(training_run__stage=stage).order_by("-created_at", "-pk").first()


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
