"""evaluate_rag on a small crawled corpus with the real MiniLM and SmolLM2: metrics, a stored run, the judge."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.monitoring.models import EvalRun
from tests.rag.corpus import crawl_corpus, write_corpus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def corpus(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_corpus(folder)
    return crawl_corpus(folder, serve_dir(folder))


def write_questions(path, items):
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n")
    return path


def test_evaluate_rag_scores_answers_and_refusals_and_stores_the_run(corpus, tmp_path, capsys):
    questions = write_questions(
        tmp_path / "q.jsonl",
        [
            {
                "question": "How often do you restore a backup to test it?",
                "reference_answer": "Once a month I restore the latest dump into a scratch server and run the tests.",
                "reference_document": "How I back up PostgreSQL",
            },
            {
                "question": "How many hairpin bends does the Stelvio have?",
                "reference_document": "Cycling over the Alps",
            },
            {"question": "What is the melting point of tungsten in kelvin?", "answerable": False},
        ],
    )
    call_command("evaluate_rag", "--questions", str(questions), "--judge", "local", "--json", "--name", "small")
    payload = json.loads(capsys.readouterr().out)
    metrics = payload["metrics"]
    assert metrics["questions"] == 3
    assert metrics["hit@5"] == 1.0 and metrics["mrr"] == 1.0 and metrics["right_page_cited"] == 1.0
    assert metrics["refusal_correctness"] == 1.0 and metrics["answered_when_answerable"] == 1.0
    assert metrics["faithfulness"] >= 0.9
    assert metrics["judge"]["scored"] + metrics["judge"]["unparseable"] == 1  # one question has a reference answer
    assert {"retrieve", "grade", "route"} <= set(metrics["latency_ms"])
    run = EvalRun.objects.get(pk=payload["run"])
    assert run.status == "done" and run.name == "small" and run.model.endswith("smollm2-135m-instruct")
    assert run.configuration["support_threshold"] == 0.69 and len(run.items) == 3


def test_a_bad_questions_file_names_the_line_and_the_field(corpus, tmp_path):
    questions = write_questions(tmp_path / "q.jsonl", [{"question": "Fine?", "answerable": False}, {"question": "x"}])
    with pytest.raises(CommandError, match="line 2: an answerable question needs 'reference_answer'"):
        call_command("evaluate_rag", "--questions", str(questions))
    assert not EvalRun.objects.exists()
