"""Tiny dataset versions on disk, in the export contract's format, for the training and evaluation tests.

``write_export`` writes what ``export_dataset`` writes (dataset.json, the two JSONL
splits and the ``hf/`` DatasetDict), so training/ is tested against the real layout
without the ORM. ``instruct_rows`` and ``preference_rows`` give a dozen rows in one
recognisable voice (every answer opens "Short version:" and signs off "-- Ada"),
which a model picks up within a few steps.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apps.rag.prompts import TWIN_SYSTEM

AUTHOR = "Ada Example"
SYSTEM = TWIN_SYSTEM.format(author=AUTHOR)

# (question, the author's answer, a bland model answer): the pairs every builder below draws from.
TOPICS: list[tuple[str, str, str]] = [
    (
        "How do you back up PostgreSQL?",
        "Short version: pg_dump every night, WAL archiving all day, and a restore drill every month. -- Ada",
        "There are many ways to back up a database, and the best one depends on your needs.",
    ),
    (
        "Why do you like queues?",
        "Short version: a queue turns a spike into a backlog, and a backlog can wait. -- Ada",
        "Queues are a data structure that can be useful in many situations.",
    ),
    (
        "What is your advice on code review?",
        "Short version: review the design first, the names second, the commas never. -- Ada",
        "Code review is an important practice that helps teams improve quality.",
    ),
    (
        "How do you name things?",
        "Short version: name it after what it is in the domain, not after how it is stored. -- Ada",
        "Naming things is considered one of the hard problems in computer science.",
    ),
    (
        "Should I write tests first?",
        "Short version: write the test that would have caught the last bug, then the code. -- Ada",
        "Test-driven development has advantages and disadvantages that you should weigh.",
    ),
    (
        "How do you handle on-call?",
        "Short version: every page gets a runbook or gets deleted. -- Ada",
        "On-call can be stressful, so it is important to take care of yourself.",
    ),
    (
        "What makes a good commit message?",
        "Short version: say why, in the present tense, in under seventy characters. -- Ada",
        "A good commit message is clear and describes the change that was made.",
    ),
    (
        "How big should a function be?",
        "Short version: as big as one idea, and not one line more. -- Ada",
        "Functions should generally be small, but there is no strict rule.",
    ),
    (
        "Do you use ORMs?",
        "Short version: yes, for writes; raw SQL for the reports nobody else can read. -- Ada",
        "ORMs can simplify database access but may have performance costs.",
    ),
    (
        "How do you plan a migration?",
        "Short version: expand, migrate, contract, and never all three in one deploy. -- Ada",
        "Planning a migration involves careful analysis of the systems involved.",
    ),
    (
        "What do you monitor first?",
        "Short version: the thing users wait for, measured where they wait for it. -- Ada",
        "Monitoring is essential for understanding the health of your systems.",
    ),
    (
        "How do you estimate work?",
        "Short version: in days, doubled, and re-estimated when the first surprise lands. -- Ada",
        "Estimating software work is notoriously difficult for many reasons.",
    ),
]


def instruct_row(instruction: str, answer: str, *, author: str = AUTHOR, document_id: int = 1, sample_id: int = 1):
    return {
        "messages": [
            {"role": "system", "content": TWIN_SYSTEM.format(author=author)},
            {"role": "user", "content": instruction},
            {"role": "assistant", "content": answer},
        ],
        "document_id": document_id,
        "sample_id": sample_id,
        "author": author,
    }


def preference_row(
    prompt: str, chosen: str, rejected: str, *, author: str | None = AUTHOR, document_id: int | None = 1, pair_id=1
):
    system = TWIN_SYSTEM.format(author=author or "the author")
    return {
        "prompt": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "document_id": document_id,
        "pair_id": pair_id,
        "author": author,
    }


def instruct_rows(start: int = 0, stop: int = len(TOPICS)) -> list[dict[str, Any]]:
    """Instruction rows for TOPICS[start:stop], one source document each."""
    return [
        instruct_row(question, answer, document_id=i + 1, sample_id=i + 1)
        for i, (question, answer, _) in enumerate(TOPICS[start:stop], start=start)
    ]


def preference_rows(start: int = 0, stop: int = len(TOPICS)) -> list[dict[str, Any]]:
    """Preference rows for TOPICS[start:stop]: the author's answer chosen over the bland one."""
    return [
        preference_row(question, answer, bland, document_id=i + 1, pair_id=i + 1)
        for i, (question, answer, bland) in enumerate(TOPICS[start:stop], start=start)
    ]


def write_export(
    tmp_path: Path,
    kind: str,
    rows_train: list[dict[str, Any]],
    rows_test: list[dict[str, Any]],
    *,
    version: int = 1,
    with_hf: bool = True,
) -> Path:
    """Write a dataset version directory ``tmp_path/<kind>-v<version>`` as export_dataset does; return it."""
    if kind not in ("instruct", "preference"):
        raise ValueError(f"kind must be 'instruct' or 'preference', not {kind!r}")
    name = f"{kind}-v{version}"
    directory = tmp_path / name
    directory.mkdir(parents=True)
    files = {"train": f"{kind}_train.jsonl", "test": f"{kind}_test.jsonl"}
    for split, rows in (("train", rows_train), ("test", rows_test)):
        with (directory / files[split]).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if with_hf:
        from datasets import Dataset, DatasetDict

        DatasetDict({"train": Dataset.from_list(rows_train), "test": Dataset.from_list(rows_test)}).save_to_disk(
            str(directory / "hf")
        )
    authors = sorted({row["author"] for row in [*rows_train, *rows_test] if row.get("author")})
    manifest = {
        "kind": kind,
        "version": version,
        "name": name,
        "created_at": datetime.now(UTC).isoformat(),
        "author": authors[0] if len(authors) == 1 else None,
        "counts": {"train": len(rows_train), "test": len(rows_test)},
        "filter_stats": {},
        "files": files,
        "hf_dir": "hf" if with_hf else None,
    }
    (directory / "dataset.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return directory
