"""A dataset version on disk: the two JSONL splits, dataset.json, and the same rows as a `datasets` DatasetDict.

The layout is the contract training/ reads (see the shared contracts): instruct rows in the chat
"messages" format SFTTrainer takes, preference rows as conversational prompt/chosen/rejected for
DPOTrainer. `datasets` is imported where it is used: it is slow to import and only exports need it.
"""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from apps.rag.prompts import TWIN_SYSTEM
from apps.trainsets.export.selectors import ExportItem

HF_DIR = "hf"
MANIFEST = "dataset.json"


def _system(author: str | None) -> dict[str, str]:
    return {"role": "system", "content": TWIN_SYSTEM.format(author=author or "the author")}


def instruct_row(item: ExportItem) -> dict[str, Any]:
    messages = [_system(item.author), {"role": "user", "content": item.prompt}]
    messages.append({"role": "assistant", "content": item.chosen})
    return {"messages": messages, "document_id": item.document_id, "sample_id": item.item_id, "author": item.author}


def preference_row(item: ExportItem) -> dict[str, Any]:
    return {
        "prompt": [_system(item.author), {"role": "user", "content": item.prompt}],
        "chosen": [{"role": "assistant", "content": item.chosen}],
        "rejected": [{"role": "assistant", "content": item.rejected}],
        "document_id": item.document_id,
        "pair_id": item.item_id,
        "author": item.author,
    }


def split_files(kind: str) -> dict[str, str]:
    return {"train": f"{kind}_train.jsonl", "test": f"{kind}_test.jsonl"}


def _features(kind: str):
    from datasets import Features, List, Value

    turn = List({"role": Value("string"), "content": Value("string")})
    ids = {"document_id": Value("int64"), "author": Value("string")}
    if kind == "instruct":
        return Features({"messages": turn, **ids, "sample_id": Value("int64")})
    return Features({"prompt": turn, "chosen": turn, "rejected": turn, **ids, "pair_id": Value("int64")})


def dataset_dict(*, kind: str, train: list[dict[str, Any]], test: list[dict[str, Any]]):
    """The rows as a DatasetDict with explicit features, so an empty test split still has its columns."""
    from datasets import Dataset, DatasetDict

    features = _features(kind)

    def columns(rows: list[dict[str, Any]]) -> dict[str, list]:
        return {name: [row[name] for row in rows] for name in features}

    return DatasetDict(
        {side: Dataset.from_dict(columns(rows), features=features) for side, rows in (("train", train), ("test", test))}
    )


def _jsonl_write(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def version_write(
    *, directory: Path, kind: str, manifest: dict[str, Any], train: list[dict[str, Any]], test: list[dict[str, Any]]
):
    """Write JSONL, the HF copy and dataset.json (last: its presence says the rest is complete)."""
    files = split_files(kind)
    _jsonl_write(directory / files["train"], train)
    _jsonl_write(directory / files["test"], test)
    dataset = dataset_dict(kind=kind, train=train, test=test)
    dataset.save_to_disk(str(directory / HF_DIR))
    manifest = {**manifest, "files": files, "hf_dir": HF_DIR}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return dataset


def hub_push(*, dataset, repo: str, token: str) -> None:
    """Upload the DatasetDict to a private Hub dataset repository (an author's writing is not public data)."""
    dataset.push_to_hub(repo, token=token, private=True)
