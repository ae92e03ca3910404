"""The held-out rows an evaluation answers: the test split of an instruct dataset version, read from its JSONL."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.config import ConfigError
from training.data import DatasetError, export_manifest


class EvaluationError(ConfigError):
    """The evaluation cannot run as configured; the message names the field."""


@dataclass(frozen=True)
class TestSample:
    __test__ = False  # not a pytest test class, despite the name

    prompt: list[dict[str, str]]  # the system and user turns the models answer
    reference: str  # the author's own answer
    sample_id: int | None
    document_id: int | None

    @property
    def instruction(self) -> str:
        return next((m["content"] for m in reversed(self.prompt) if m["role"] == "user"), "")


def read_test_split(dataset_dir: Path) -> tuple[dict[str, Any], list[TestSample]]:
    """The manifest (dataset.json) and the test rows of an instruct dataset version directory."""
    try:
        manifest = export_manifest(dataset_dir=dataset_dir)
    except DatasetError as exc:
        raise EvaluationError(f"dataset_dir: {exc}") from exc
    if manifest["kind"] != "instruct":
        raise EvaluationError(f"dataset_dir: evaluation needs an instruct dataset, not {manifest.get('kind')!r}")
    test_file = Path(dataset_dir) / (manifest.get("files") or {}).get("test", "instruct_test.jsonl")
    if not test_file.is_file():
        raise EvaluationError(f"dataset_dir: the test split {test_file} is missing")
    samples = []
    for number, line in enumerate(test_file.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"dataset_dir: {test_file.name} line {number} is not JSON ({exc.msg})") from exc
            samples.append(_sample(row, where=f"{test_file.name} line {number}"))
    if not samples:
        raise EvaluationError(f"dataset_dir: the test split {test_file} is empty")
    return manifest, samples


def _sample(row: dict[str, Any], *, where: str) -> TestSample:
    messages = row.get("messages") if isinstance(row, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "content" in m for m in messages):
        raise EvaluationError(f"dataset_dir: {where} has no list of 'messages' with 'role' and 'content'")
    if len(messages) < 2 or messages[-1].get("role") != "assistant" or messages[-2].get("role") != "user":
        raise EvaluationError(f"dataset_dir: {where} does not end with a user turn and an assistant answer")
    prompt = [{"role": m["role"], "content": m["content"]} for m in messages[:-1]]
    return TestSample(prompt, messages[-1]["content"], row.get("sample_id"), row.get("document_id"))
