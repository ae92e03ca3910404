"""Evaluate a twin against its base model on the test split of an instruct dataset version, into a JSON report.

Both models answer the same held-out instructions. Automatic metrics need no
judge: the perplexity of the author's own answers, how close the generated
answers come to the author's writing (MiniLM centroid cosine, function-word
distance) and their ROUGE-L overlap with the reference. An optional judge model
scores accuracy and style on 1-3 scales.

    python -m training.evaluate --dataset DIR --model DIR [--base PATH] [--output report.json]
        [--judge local|openai|none] [--judge-model ...] [--judge-url ...] [--max-samples N]
"""

import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lib.metrics import text as metrics
from training.base_model import base_model_resolve
from training.causal_lm import LoadedModel, answer_loss, generate_replies, load_model
from training.causal_lm import perplexity as corpus_perplexity
from training.eval_data import EvaluationError, TestSample, read_test_split
from training.judge import (
    Judge,
    JudgeConfig,
    LocalJudge,
    OpenAIJudge,
    Verdict,
    check_judge_config,
    judge_prompt,
    parse_verdict,
)

__all__ = ["EvalConfig", "EvaluationError", "JudgeConfig", "main", "run_evaluation"]

ROLES = ("twin", "base")
BATCH_SIZE = 8


@dataclass
class EvalConfig:
    dataset_dir: Path  # an instruct export (its test split is used)
    model: str  # the twin model directory
    base_model: str = ""  # compared against; "" = packaged SmolLM2
    output: Path | None = None  # where the JSON report is written
    judge: JudgeConfig | None = None  # None: no LLM-as-judge, automatic metrics only
    max_samples: int = 20
    max_new_tokens: int = 128
    seed: int = 0


def _check(config: EvalConfig) -> None:
    if not config.model:
        raise EvaluationError("model: the twin model directory is required")
    model = Path(config.model)
    if not (model / "config.json").is_file() and not (model / "adapter_config.json").is_file():
        raise EvaluationError(
            f"model: {config.model} is not a model directory (no config.json, no adapter_config.json)"
        )
    if config.max_samples < 1:
        raise EvaluationError(f"max_samples must be at least 1, not {config.max_samples}")
    if config.max_new_tokens < 1:
        raise EvaluationError(f"max_new_tokens must be at least 1, not {config.max_new_tokens}")
    if config.judge is not None:
        check_judge_config(config.judge)


class _Progress:
    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.done, self.total, self.callback = 0, total, callback

    def advance(self, steps: int) -> None:
        self.done += steps
        if self.callback:
            self.callback(self.done, self.total)


def run_evaluation(config: EvalConfig, *, on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Answer the test split with the twin and the base model, score both, and return (and write) the report.

    on_progress(done, total) is called as answers are generated, scored and judged.
    """
    import torch

    _check(config)
    started = time.monotonic()
    manifest, samples = read_test_split(config.dataset_dir)
    if len(samples) > config.max_samples:  # a seeded choice, kept in file order
        chooser = random.Random(config.seed)  # noqa: S311 - choosing samples, not secrets
        samples = [samples[i] for i in sorted(chooser.sample(range(len(samples)), config.max_samples))]
    n = len(samples)
    paths = _model_paths(config)
    # A remote judge is reached before any answer is generated: a wrong URL or key fails in seconds, not minutes.
    remote_judge = OpenAIJudge(config.judge) if config.judge and config.judge.kind == "openai" else None
    progress = _Progress(4 * n + (2 * n if config.judge else 0) + 1, on_progress)
    torch.manual_seed(config.seed)

    answers: dict[str, list[str]] = {}
    losses: dict[str, list[tuple[float, int]]] = {}
    lm = load_model(paths["twin"], field="model")
    for role in ROLES:
        if lm.name != paths[role]:  # twin == base: loaded once
            lm.release()
            lm = load_model(paths[role], field="base_model")
        answers[role], losses[role] = _answer_and_score(lm, samples, config.max_new_tokens, progress)

    verdicts: dict[str, list[Verdict]] = {}
    judge_report = None
    if config.judge:
        judge: Judge = remote_judge or _local_judge(paths["judge"], loaded=lm)
        if getattr(judge, "lm", None) is not lm:
            lm.release()
        verdicts = {role: _judge_answers(judge, samples, answers[role], progress) for role in ROLES}
        unparseable = {role: sum(not v.parsed for v in verdicts[role]) for role in ROLES}
        judge_report = {
            "kind": config.judge.kind,
            "model": judge.model,
            "verdicts": 2 * n,
            "unparseable": sum(unparseable.values()),
            "unparseable_by_model": unparseable,
        }
    lm.release()

    references = [s.reference for s in samples]
    vectors = _embed(references + answers["twin"] + answers["base"])
    progress.advance(1)
    per_sample = [
        {
            "sample_id": sample.sample_id,
            "document_id": sample.document_id,
            "instruction": sample.instruction,
            "reference": sample.reference,
            **{
                role: _sample_scores(sample, answers[role][i], losses[role][i], verdicts[role][i] if verdicts else None)
                for role in ROLES
            },
        }
        for i, sample in enumerate(samples)
    ]
    models = {}
    for offset, role in enumerate(ROLES, start=1):
        models[role] = {
            "model": paths[role],
            "perplexity": corpus_perplexity(losses[role]),
            "style_similarity": metrics.centroid_similarity(vectors[offset * n : (offset + 1) * n], vectors[:n]),
            "function_word_distance": metrics.function_word_distance(answers[role], references),
            "overlap_rouge_l": metrics.mean(row[role]["rouge_l"] for row in per_sample),
            "judge_accuracy": metrics.mean(v.accuracy for v in verdicts.get(role, [])),
            "judge_style": metrics.mean(v.style for v in verdicts.get(role, [])),
        }
    report = {
        "dataset": str(config.dataset_dir),
        "dataset_name": manifest.get("name"),
        "samples": n,
        "created_at": datetime.now(UTC).isoformat(),
        "models": models,
        "per_sample": per_sample,
        "judge": judge_report,
        "config": {"max_samples": config.max_samples, "max_new_tokens": config.max_new_tokens, "seed": config.seed},
        "runtime_s": round(time.monotonic() - started, 2),
    }
    if config.output:
        Path(config.output).parent.mkdir(parents=True, exist_ok=True)
        Path(config.output).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _model_paths(config: EvalConfig) -> dict[str, str]:
    """What to load for each role; "" is the packaged SmolLM2 (converted on first use), a Hub id stays as it is."""
    paths = {"twin": str(Path(config.model))}
    wanted = {"base": ("base_model", config.base_model)}
    if config.judge and config.judge.kind == "local":
        wanted["judge"] = ("judge.model", config.judge.model)
    for role, (field, name) in wanted.items():
        try:
            paths[role] = base_model_resolve(name)
        except FileNotFoundError as exc:
            raise EvaluationError(f"{field}: {exc}") from exc
    return paths


def _answer_and_score(
    lm: LoadedModel, samples: list[TestSample], max_new_tokens: int, progress: _Progress
) -> tuple[list[str], list[tuple[float, int]]]:
    answers: list[str] = []
    for start in range(0, len(samples), BATCH_SIZE):
        batch = [s.prompt for s in samples[start : start + BATCH_SIZE]]
        answers += generate_replies(lm, batch, max_new_tokens=max_new_tokens, batch_size=BATCH_SIZE)
        progress.advance(len(batch))
    losses = []
    for sample in samples:
        losses.append(answer_loss(lm, sample.prompt, sample.reference))
        progress.advance(1)
    return answers, losses


def _local_judge(path: str, *, loaded: LoadedModel) -> LocalJudge:
    if loaded.name == path:
        return LocalJudge(loaded)  # the judge is the model just evaluated: no second copy in memory
    return LocalJudge.load(path)


def _judge_answers(judge: Judge, samples: list[TestSample], answers: list[str], progress: _Progress) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for start in range(0, len(samples), BATCH_SIZE):
        pairs = zip(samples[start : start + BATCH_SIZE], answers[start : start + BATCH_SIZE], strict=True)
        prompts = [judge_prompt(instruction=s.instruction, reference=s.reference, answer=a) for s, a in pairs]
        verdicts += [parse_verdict(reply) for reply in judge.replies(prompts)]
        progress.advance(len(prompts))
    return verdicts


def _sample_scores(sample: TestSample, answer: str, loss: tuple[float, int], verdict: Verdict | None) -> dict:
    return {
        "answer": answer,
        "perplexity": corpus_perplexity([loss]) if loss[1] else None,
        "rouge_l": metrics.rouge_l_f1(answer, sample.reference),
        "judge_accuracy": verdict.accuracy if verdict else None,
        "judge_style": verdict.style if verdict else None,
        "judge_reply": verdict.reply if verdict else None,
    }


def _embed(texts: list[str]) -> list[list[float]]:
    """MiniLM sentence embeddings: EMBEDDING_MODEL if set, else the packaged model (no Django settings read)."""
    import torch
    from sentence_transformers import SentenceTransformer

    from lib.packaged_models import packaged_minilm_path

    path = os.environ.get("EMBEDDING_MODEL") or str(packaged_minilm_path())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = SentenceTransformer(path, device=device, local_files_only=True)
    return model.encode(texts, normalize_embeddings=True, show_progress_bar=False).tolist()


def main(argv: list[str] | None = None) -> int:
    """The command line (training/evaluate_cli.py): python -m training.evaluate --help."""
    from training.evaluate_cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
