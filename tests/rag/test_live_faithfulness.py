"""Live answers scored for faithfulness in the background, and evaluation runs, on the monitoring dashboard."""

import pytest

from apps.monitoring.models import EvalRun, Trace
from apps.monitoring.services import eval_run_finish, eval_run_start
from apps.rag.configuration import RagConfiguration
from apps.rag.services import rag_answer, trace_faithfulness_score
from tests.rag.corpus import crawl_corpus, write_corpus
from tests.rag.scripted import ScriptedProvider

pytestmark = pytest.mark.django_db(transaction=True)

SUPPORTED = "Once a month I restore the latest dump into a scratch server and run the test suite against it."


def test_a_live_answer_is_scored_against_the_passages_it_was_shown_and_the_dashboard_shows_it(
    tmp_path, serve_dir, crawl_settings, client, curator
):
    folder = tmp_path / "blog"
    write_corpus(folder)
    crawl_corpus(folder, serve_dir(folder))
    result = rag_answer(
        question="How are the PostgreSQL backups tested?",
        configuration=RagConfiguration(provider=ScriptedProvider(answer=SUPPORTED)),
    )
    trace = trace_faithfulness_score(trace_id=result.trace_id)
    assert trace.faithfulness == 1.0
    span = trace.spans.get(node="faithfulness")
    assert span.details["sentences"][0]["supported"] is True and span.scores[0] >= 0.69

    Trace.objects.filter(pk=trace.pk).update(answer="The backups are tested in Lisbon by robots [1].")
    assert trace_faithfulness_score(trace_id=result.trace_id).faithfulness == 0.0

    run = eval_run_start(name="baseline", author_name="", questions_source="q.jsonl", model="m", configuration={})
    eval_run_finish(run=run, metrics={"hit@5": 0.875, "faithfulness": 0.95}, items=[])
    client.force_login(curator)
    page = client.get("/admin/monitoring/").content.decode()
    assert '<strong id="stat-faithfulness">0.500 (2 scored)</strong>' not in page  # one trace, scored twice
    assert '<strong id="stat-faithfulness">0.000 (1 scored)</strong>' in page
    assert "baseline" in page and "0.875" in page and "0.950" in page
    assert EvalRun.objects.get().status == "done"
