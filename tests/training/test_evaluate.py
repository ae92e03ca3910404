"""run_evaluation and its CLI on the real packaged SmolLM2 (twin, base and judge), on a two-row test split.

The twin here is SmolLM2 itself, so twin and base must come out identical: any
difference would be the evaluation's own noise. A real HTTP server on 127.0.0.1
stands in for an OpenAI-compatible judge, answering with SmolLM2 too.
"""

import json
import random
import re
from pathlib import Path

import pytest

from tests.rag.servers import serve_chat, shared_local_provider, unused_url
from tests.training.exports import instruct_rows, preference_rows, write_export
from training.causal_lm import answer_loss, load_model, perplexity
from training.evaluate import EvalConfig, EvaluationError, JudgeConfig, main, run_evaluation
from training.judge import JudgeError

MAX_NEW_TOKENS = 12
METRIC_KEYS = {
    "model",
    "perplexity",
    "style_similarity",
    "function_word_distance",
    "overlap_rouge_l",
    "judge_accuracy",
    "judge_style",
}


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory) -> Path:
    """An instruct version with three test rows in Ada's voice (the train split is not read)."""
    return write_export(
        tmp_path_factory.mktemp("export"), "instruct", instruct_rows(0, 2), instruct_rows(9, 12), with_hf=False
    )


@pytest.fixture(scope="module")
def evaluated(export_dir, smollm2_dir, tmp_path_factory):
    """One evaluation of two of the three test rows, judged by the packaged SmolLM2: (report, file, progress)."""
    output = tmp_path_factory.mktemp("report") / "nested" / "report.json"
    progress: list[tuple[int, int]] = []
    config = EvalConfig(
        dataset_dir=export_dir,
        model=str(smollm2_dir),
        base_model="",  # the packaged SmolLM2, found on its own
        output=output,
        judge=JudgeConfig(kind="local"),
        max_samples=2,
        max_new_tokens=MAX_NEW_TOKENS,
    )
    report = run_evaluation(config, on_progress=lambda done, total: progress.append((done, total)))
    return report, output, progress


def test_report_compares_twin_and_base_on_the_chosen_test_rows(evaluated, export_dir, smollm2_dir):
    report, output, _ = evaluated
    test_rows = instruct_rows(9, 12)

    assert report["dataset"] == str(export_dir) and report["samples"] == 2
    assert json.loads(output.read_text()) == report
    chosen = {row["sample_id"]: row for row in test_rows}
    assert len(report["per_sample"]) == 2 and {s["sample_id"] for s in report["per_sample"]} <= set(chosen)
    for sample in report["per_sample"]:
        row = chosen[sample["sample_id"]]
        assert sample["instruction"] == row["messages"][1]["content"]
        assert sample["reference"] == row["messages"][2]["content"]
        assert sample["twin"]["answer"].strip() and sample["twin"]["answer"] == sample["base"]["answer"]
        assert 0.0 <= sample["twin"]["rouge_l"] <= 1.0 and sample["twin"]["perplexity"] > 1.0
    assert set(report["models"]) == {"twin", "base"}
    assert report["models"]["twin"]["model"] == report["models"]["base"]["model"] == str(smollm2_dir)
    assert report["models"]["twin"] == report["models"]["base"]  # the same model scores the same


def test_automatic_metrics_are_in_range_and_add_up_from_the_samples(evaluated):
    report, _, _ = evaluated
    twin = report["models"]["twin"]
    samples = report["per_sample"]

    assert set(twin) == METRIC_KEYS
    assert 1.0 < twin["perplexity"] < 10_000
    assert (
        min(s["twin"]["perplexity"] for s in samples)
        <= twin["perplexity"]
        <= max(s["twin"]["perplexity"] for s in samples)
    )
    assert -1.0 <= twin["style_similarity"] <= 1.0 and twin["style_similarity"] > 0.0  # answers on the same topics
    assert 0.0 < twin["function_word_distance"] <= 1.0
    assert twin["overlap_rouge_l"] == pytest.approx(sum(s["twin"]["rouge_l"] for s in samples) / 2)


def test_judge_verdicts_are_counted_and_averaged_on_the_one_to_three_scale(evaluated, smollm2_dir):
    report, _, _ = evaluated
    judge = report["judge"]

    assert judge["kind"] == "local" and judge["model"] == str(smollm2_dir)
    assert judge["verdicts"] == 4
    assert judge["unparseable"] == sum(judge["unparseable_by_model"].values())
    for role in ("twin", "base"):
        verdicts = [s[role] for s in report["per_sample"]]
        assert all(v["judge_reply"] for v in verdicts)
        parsed = [v["judge_accuracy"] for v in verdicts if v["judge_accuracy"] is not None]
        assert judge["unparseable_by_model"][role] == 2 - len(parsed)
        if parsed:
            assert report["models"][role]["judge_accuracy"] == pytest.approx(sum(parsed) / len(parsed))
            assert 1.0 <= report["models"][role]["judge_style"] <= 3.0
        else:
            assert report["models"][role]["judge_accuracy"] is None


def test_progress_climbs_to_its_total(evaluated):
    _, _, progress = evaluated

    assert progress[-1][0] == progress[-1][1] == 4 * 2 + 2 * 2 + 1
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_perplexity_of_a_text_just_shown_is_lower_than_of_its_shuffled_words(smollm2_dir):
    lm = load_model(str(smollm2_dir), field="model")
    text = "Short version: a queue turns a spike into a backlog, and a backlog can wait for the morning."
    shuffled = text.split()
    random.Random(3).shuffle(shuffled)
    prompt = [{"role": "user", "content": f"Repeat this sentence exactly:\n{text}"}]

    shown = perplexity([answer_loss(lm, prompt, text)])
    scrambled = perplexity([answer_loss(lm, prompt, " ".join(shuffled))])

    assert 1.0 < shown < scrambled / 5


def test_cli_writes_the_report_with_an_openai_compatible_judge(export_dir, smollm2_dir, tmp_path, capsys):
    from django.conf import settings

    output = tmp_path / "report.json"
    provider = shared_local_provider(Path(settings.MODEL_CACHE_DIR))
    with serve_chat(provider, flavour="openai", api_key="judge-key") as server:
        code = main(
            [
                *("--dataset", str(export_dir), "--model", str(smollm2_dir), "--output", str(output)),
                *("--judge", "openai", "--judge-url", f"{server.base_url}/v1", "--judge-api-key", "judge-key"),
                *("--max-samples", "1", "--max-new-tokens", "4"),
            ]
        )
    out, err = capsys.readouterr()

    assert code == 0, err
    report = json.loads(output.read_text())
    assert report["samples"] == 1 and report["judge"]["kind"] == "openai"
    assert report["judge"]["model"] == provider.model  # not given: the one the endpoint lists
    assert report["judge"]["verdicts"] == 2 and len(server.requests) == 2
    answer = report["per_sample"][0]["twin"]["answer"]
    assert answer in server.requests[0]["messages"][-1]["content"] and server.requests[0]["temperature"] == 0
    assert "overlap_rouge_l" in out and str(output) in out
    assert "evaluating" in err and "100%" in err


def test_cli_reports_an_unreachable_judge_before_generating_anything(export_dir, smollm2_dir, tmp_path, capsys):
    url = unused_url()
    code = main(
        [
            *("--dataset", str(export_dir), "--model", str(smollm2_dir), "--output", str(tmp_path / "r.json")),
            *("--judge", "openai", "--judge-url", f"{url}/v1"),
        ]
    )

    assert code == 2
    assert f"judge.model is empty and {url}/v1 did not list its models" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"dataset_dir": Path("/nonexistent/instruct-v1")},
            "dataset_dir: /nonexistent/instruct-v1 is not a dataset export",
        ),
        ({"model": "/nonexistent/twin"}, "model: /nonexistent/twin is not a model directory"),
        ({"base_model": "/nonexistent/base"}, "base_model: "),
        ({"max_samples": 0}, "max_samples must be at least 1"),
        ({"judge": JudgeConfig(kind="gpt")}, "judge.kind must be one of local, openai"),
        ({"judge": JudgeConfig(kind="openai")}, "judge.base_url is required"),
        ({"judge": JudgeConfig(kind="local", model="/nonexistent/judge")}, "judge.model: "),
    ],
)
def test_bad_settings_fail_before_any_model_loads_and_name_the_field(export_dir, smollm2_dir, change, message):
    config = EvalConfig(dataset_dir=export_dir, model=str(smollm2_dir))
    for key, value in change.items():
        setattr(config, key, value)

    with pytest.raises((EvaluationError, JudgeError), match=re.escape(message)):
        run_evaluation(config)


def test_a_preference_export_is_refused(tmp_path, smollm2_dir):
    export = write_export(tmp_path, "preference", preference_rows(0, 2), preference_rows(2, 4), with_hf=False)

    with pytest.raises(EvaluationError, match="dataset_dir: evaluation needs an instruct dataset, not 'preference'"):
        run_evaluation(EvalConfig(dataset_dir=export, model=str(smollm2_dir)))
