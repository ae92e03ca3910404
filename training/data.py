"""Dataset versions exported by apps.trainsets (``<kind>-v<N>/dataset.json`` + JSONL), read as Hugging Face datasets.

Only the columns TRL needs are kept: ``messages`` for instruct exports, ``prompt`` /
``chosen`` / ``rejected`` (conversational) for preference exports. Rows are checked
here so that a broken export fails with the file and line, not deep inside TRL.
"""

import json
from pathlib import Path
from typing import Any

from training.config import ConfigError

COLUMNS = {"instruct": ("messages",), "preference": ("prompt", "chosen", "rejected")}


class DatasetError(ConfigError):
    """An export directory that cannot be trained on."""


def export_manifest(*, dataset_dir: Path) -> dict[str, Any]:
    path = Path(dataset_dir) / "dataset.json"
    if not path.is_file():
        raise DatasetError(f"{dataset_dir} is not a dataset export: it has no dataset.json.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("kind") not in COLUMNS:
        raise DatasetError(f"{path}: 'kind' must be one of {', '.join(COLUMNS)}.")
    return manifest


def export_rows(*, dataset_dir: Path, kind: str, split: str) -> list[dict[str, Any]]:
    """The rows of one split of an export of the given kind, reduced to TRL's columns."""
    manifest = export_manifest(dataset_dir=dataset_dir)
    if manifest["kind"] != kind:
        raise DatasetError(f"{dataset_dir} is a {manifest['kind']} export; this step needs a {kind} export.")
    name = (manifest.get("files") or {}).get(split)
    if not name:
        raise DatasetError(f"{dataset_dir}/dataset.json names no file for the {split!r} split ('files').")
    path = Path(dataset_dir) / name
    if not path.is_file():
        raise DatasetError(f"The {split} split {path} named in dataset.json does not exist.")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from exc
            rows.append(_checked(row, kind=kind, where=f"{path}, line {number}"))
    return rows


def export_dataset(*, dataset_dir: Path, kind: str, split: str = "train"):
    """One split as a datasets.Dataset; the train split must not be empty."""
    from datasets import Dataset

    rows = export_rows(dataset_dir=dataset_dir, kind=kind, split=split)
    if not rows and split == "train":
        raise DatasetError(f"The train split of {dataset_dir} is empty: there is nothing to train on.")
    return Dataset.from_list(rows)


def _checked(row: Any, *, kind: str, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: a row must be a JSON object.")
    for column in COLUMNS[kind]:
        messages = row.get(column)
        if not isinstance(messages, list) or not messages:
            raise DatasetError(f"{where}: {column!r} must be a non-empty list of messages.")
        for message in messages:
            if not isinstance(message, dict) or not isinstance(message.get("content"), str) or not message.get("role"):
                raise DatasetError(f"{where}: every message in {column!r} needs a 'role' and a text 'content'.")
    if kind == "instruct" and row["messages"][-1]["role"] != "assistant":
        raise DatasetError(f"{where}: 'messages' must end with the assistant's answer.")
    # Only role and content: extra keys (ids, names) would become dataset columns TRL does not expect.
    return {column: [{"role": m["role"], "content": m["content"]} for m in row[column]] for column in COLUMNS[kind]}
