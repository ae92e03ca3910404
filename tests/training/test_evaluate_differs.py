"""Evaluation when the two models clearly differ, and when the judge's replies parse or do not.

The twin is the real packaged SmolLM2; the baseline is a model of SmolLM2's shape and tokenizer with random
weights (one small layer), which writes noise: every metric must put the twin ahead. The judge is an
OpenAI-compatible server on 127.0.0.1 that replies from a script, so its verdicts are known exactly and
the report's counts and averages can be checked to the digit.
"""

import threading
from pathlib import Path

import pytest

from apps.rag.providers import Generation
from tests.rag.servers import serve_chat
from tests.training.exports import instruct_rows, write_export
from training.evaluate import EvalConfig, JudgeConfig, run_evaluation


class ScriptedJudge:
    """A provider that answers each chat request with the next reply of its script."""

    model = "scripted-judge"

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.lock = list(replies), threading.Lock()

    def generate(self, messages, params) -> Generation:
        with self.lock:
            return Generation(text=self.replies.pop(0), model=self.model, prompt_tokens=1, completion_tokens=1)


@pytest.fixture(scope="module")
def noise_model_dir(smollm2_dir, tmp_path_factory) -> Path:
    """SmolLM2's tokenizer and chat template on one random layer: a model that clearly differs from SmolLM2."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    directory = tmp_path_factory.mktemp("noise-model")
    config = AutoConfig.from_pretrained(smollm2_dir)
    config.update(
        {"num_hidden_layers": 1, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2}
        | {"num_key_value_heads": 1, "head_dim": 32}
    )
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)
    AutoTokenizer.from_pretrained(smollm2_dir).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory) -> Path:
    return write_export(tmp_path_factory.mktemp("export"), "instruct", instruct_rows(0, 2), instruct_rows(9, 11))


def evaluate(export_dir, twin, base, judge_replies, tmp_path):
    with serve_chat(ScriptedJudge(judge_replies), flavour="openai") as server:
        config = EvalConfig(
            dataset_dir=export_dir,
            model=str(twin),
            base_model=str(base),
            output=tmp_path / "report.json",
            judge=JudgeConfig(kind="openai", base_url=f"{server.base_url}/v1", model="scripted-judge"),
            max_samples=2,
            max_new_tokens=8,
        )
        return run_evaluation(config), server.requests


def test_a_real_model_beats_noise_on_every_metric_and_the_judge_scores_are_averaged_exactly(
    export_dir, smollm2_dir, noise_model_dir, tmp_path
):
    # The twin's two answers are judged first, then the baseline's: JSON, then the "name: n" form.
    replies = ['{"accuracy": 3, "style": 2}', '```json\n{"accuracy": 2, "style": 3}\n```']
    replies += ["Accuracy: 1, Style: 1", "accuracy = 1; style = 2"]

    report, requests = evaluate(export_dir, smollm2_dir, noise_model_dir, replies, tmp_path)

    twin, base = report["models"]["twin"], report["models"]["base"]
    assert (twin["judge_accuracy"], twin["judge_style"]) == (2.5, 2.5)
    assert (base["judge_accuracy"], base["judge_style"]) == (1.0, 1.5)
    assert report["judge"] == {
        "kind": "openai",
        "model": "scripted-judge",
        "verdicts": 4,
        "unparseable": 0,
        "unparseable_by_model": {"twin": 0, "base": 0},
    }
    assert len(requests) == 4
    twin_answers = [sample["twin"]["answer"] for sample in report["per_sample"]]
    assert all(answer in req["messages"][-1]["content"] for answer, req in zip(twin_answers, requests[:2], strict=True))
    # Noise from a random layer: its perplexity is near the vocabulary's size (49152), SmolLM2's is not.
    assert twin["perplexity"] * 10 < base["perplexity"]
    assert twin["style_similarity"] > base["style_similarity"]
    assert twin["function_word_distance"] < base["function_word_distance"]


def test_replies_that_do_not_parse_are_counted_and_give_no_score(export_dir, smollm2_dir, noise_model_dir, tmp_path):
    # The twin's two replies say nothing usable; of the baseline's, one does.
    replies = ["I cannot judge this.", '{"accuracy": "high", "style": 5}', "", '{"accuracy": 1, "style": 2}']

    report, _ = evaluate(export_dir, smollm2_dir, noise_model_dir, replies, tmp_path)

    assert (report["judge"]["verdicts"], report["judge"]["unparseable"]) == (4, 3)
    assert report["judge"]["unparseable_by_model"] == {"twin": 2, "base": 1}
    twin, base = report["models"]["twin"], report["models"]["base"]
    assert (twin["judge_accuracy"], twin["judge_style"]) == (None, None)
    assert (base["judge_accuracy"], base["judge_style"]) == (1.0, 2.0)
    assert [s["twin"]["judge_accuracy"] for s in report["per_sample"]] == [None, None]
    assert [s["base"]["judge_accuracy"] for s in report["per_sample"]] == [None, 1]
