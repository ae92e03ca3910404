"""Each decision of the graph drives both of its branches, on a crawled corpus with the real MiniLM.

The generation provider and, where a test needs a weak-then-good retrieval, the reranker are
scripted: these tests are about control flow. tests/rag/test_graph.py runs the real SmolLM2.
"""

import pytest

from apps.monitoring.models import Span, Trace
from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.choose import mode_from_record
from apps.rag.services import rag_answer
from apps.sources.models import Author
from lib.production_pointer import adapter_name, production_pointer_set
from tests.rag.corpus import crawl_corpus, write_corpus
from tests.rag.scripted import ScriptedProvider, ScriptedReranker

pytestmark = pytest.mark.django_db(transaction=True)

BACKUP_QUESTION = "How are the PostgreSQL backups tested?"
SUPPORTED = "Once a month I restore the latest dump into a scratch server and run the test suite against it."
INVENTED = "The backups are tested by a team of twelve engineers in Lisbon. They use a robot arm to swap the tapes."


@pytest.fixture
def corpus(tmp_path, serve_dir, crawl_settings):
    folder = tmp_path / "blog"
    write_corpus(folder)
    return crawl_corpus(folder, serve_dir(folder))


def ask(question: str, *, provider=None, history=None, **configuration):
    tokens: list[str] = []
    provider = provider or ScriptedProvider(answer=SUPPORTED)
    result = rag_answer(
        question=question,
        history=history or [],
        configuration=RagConfiguration(provider=provider, **configuration),
        on_token=tokens.append,
    )
    return result, tokens


def nodes(result) -> list[str]:
    return [span["node"] for span in result.spans]


def span(result, node: str) -> dict:
    return next(s for s in result.spans if s["node"] == node)


def test_a_greeting_and_thanks_are_answered_without_retrieval(corpus):
    greeted, tokens = ask("Hello!")
    assert greeted.answer == prompts.GREETING and tokens == [prompts.GREETING]
    assert nodes(greeted) == ["route", "direct"] and greeted.citations == []
    thanked, _ = ask("Thanks a lot!")
    assert thanked.answer == prompts.THANKS and nodes(thanked) == ["route", "direct"]
    assert span(thanked, "route")["details"]["reason"] == "thanks: nothing to look up"


def test_a_question_about_the_twin_is_answered_from_the_authors_profile(corpus):
    Author.objects.filter(name="Ada Example").update(bio="Database engineer, baker and cyclist.")
    result, _ = ask("Who are you?")
    assert nodes(result) == ["route", "direct"]
    assert result.answer.splitlines()[:2] == [
        "I am the writing twin of Ada Example: I answer from their own writing, and cite it.",
        "Ada Example: Database engineer, baker and cyclist.",
    ]
    assert "“How I back up PostgreSQL”" in result.answer and "“My sourdough routine”" in result.answer


def test_a_standalone_question_goes_straight_to_retrieval_and_the_local_model_is_not_asked_for_phrasings(corpus):
    provider = ScriptedProvider(answer=SUPPORTED, name="local")
    result, _ = ask(BACKUP_QUESTION, provider=provider)
    assert nodes(result)[:5] == ["route", "self_query", "retrieve", "rerank", "grade"]
    assert span(result, "route")["details"]["expand"] is False
    assert result.queries == [BACKUP_QUESTION] and provider.generate_calls == []


def test_expansion_searches_only_the_phrasings_that_are_questions(corpus):
    reply = "How do you check that a dump restores?\n```bash\npg_restore -d scratch\nYes, every month."
    result, _ = ask(BACKUP_QUESTION, provider=ScriptedProvider(answer=SUPPORTED, reply=reply, name="openai"))
    assert "expand" in nodes(result)
    assert result.queries == [BACKUP_QUESTION, "How do you check that a dump restores?"]
    assert span(result, "expand")["details"]["rejected"] == ["```bash", "pg_restore -d scratch", "Yes, every month."]


def test_a_follow_up_is_condensed_with_the_models_question_or_else_with_the_last_question(corpus):
    history = [
        {"role": "user", "content": "How do you back up PostgreSQL?"},
        {"role": "assistant", "content": "Nightly pg_dump from the replica."},
    ]
    good = ScriptedProvider(answer=SUPPORTED, reply="How often do you test your PostgreSQL backups?", name="local")
    result, _ = ask("And how often do you test them?", provider=good, history=history)
    assert nodes(result)[:2] == ["route", "condense"]
    assert result.queries == ["How often do you test your PostgreSQL backups?"]

    code = ScriptedProvider(answer=SUPPORTED, reply="```sql\nSELECT 1;", name="local")
    result, _ = ask("And how often do you test them?", provider=code, history=history)
    assert result.queries == ["How do you back up PostgreSQL? And how often do you test them?"]
    assert "not a question" in span(result, "condense")["details"]["reason"]
    assert result.citations[0]["title"] == "How I back up PostgreSQL"


def test_a_strong_context_is_answered_and_a_checked_sentence_streams_with_its_citation(corpus):
    result, tokens = ask(BACKUP_QUESTION)
    assert nodes(result) == [
        "route", "self_query", "retrieve", "rerank", "grade", "choose", "generate", "check", "postprocess",
    ]  # fmt: skip
    assert span(result, "grade")["details"]["next"] == "answer"
    assert result.answer == SUPPORTED[:-1] + " [1]." and "".join(tokens) == result.answer
    assert result.answer_kind == "generated" and result.citations[0]["title"] == "How I back up PostgreSQL"


def test_an_unsupported_answer_is_never_shown_and_the_authors_passage_is_quoted_instead(corpus):
    provider = ScriptedProvider(answer=INVENTED + " " + SUPPORTED)
    result, tokens = ask(BACKUP_QUESTION, provider=provider)
    assert nodes(result)[-4:] == ["generate", "check", "extract", "postprocess"]
    streamed = "".join(tokens)
    assert "Lisbon" not in streamed and "robot" not in streamed and streamed == result.answer
    assert result.answer.startswith("Here is how I put it in “How I back up PostgreSQL”:\n\n> ")
    assert result.answer_kind == "extractive"
    check = span(result, "check")
    assert [s["kept"] for s in check["details"]["sentences"]] == [False, False]
    assert all(s["score"] < 0.69 for s in check["details"]["sentences"])
    assert span(result, "generate")["details"]["stopped_early"] is True  # the supported third sentence never came
    stored = Span.objects.get(trace_id=result.trace_id, node="check")
    assert stored.scores == [s["score"] for s in check["details"]["sentences"]]


def test_weak_context_is_retrieved_again_and_answered_when_a_corrective_round_finds_more(corpus):
    result, _ = ask(BACKUP_QUESTION, reranker=ScriptedReranker(0.1, 0.9))
    assert nodes(result)[:9] == [
        "route", "self_query", "retrieve", "rerank", "grade", "reformulate", "retrieve", "rerank", "grade",
    ]  # fmt: skip
    grades = [s["details"] for s in result.spans if s["node"] == "grade"]
    assert [(g["method"], g["next"]) for g in grades] == [("cross-encoder", "reformulate"), ("cross-encoder", "answer")]
    assert span(result, "reformulate")["details"]["query"] == "PostgreSQL backups tested"
    assert result.answer_kind == "generated"


def test_context_still_weak_after_two_more_rounds_gets_the_sources_dont_cover_it_answer(corpus):
    result, tokens = ask("What is the melting point of tungsten in kelvin?", provider=ScriptedProvider(name="local"))
    assert nodes(result).count("retrieve") == 3 and nodes(result)[-1] == "no_answer"
    assert [s["details"]["round"] for s in result.spans if s["node"] == "reformulate"] == [1, 2]
    assert result.answer.startswith(prompts.NO_ANSWER + "\n\n" + prompts.CLOSEST_LEAD + "\n- ")
    assert "".join(tokens) == result.answer
    assert result.citations and not any(c["cited"] for c in result.citations)


def test_extract_mode_quotes_the_passage_without_asking_the_model(corpus):
    provider = ScriptedProvider(answer=SUPPORTED)
    result, _ = ask(BACKUP_QUESTION, provider=provider, answer_mode="extract")
    assert "generate" not in nodes(result) and provider.streamed_pieces == 0
    assert result.answer_kind == "extractive" and "[1]" in result.answer


def test_auto_mode_stops_asking_a_model_whose_answers_keep_failing_the_check(corpus):
    configuration = RagConfiguration(provider=ScriptedProvider(answer=INVENTED))
    assert mode_from_record([False] * 9, configuration)[0] == "generate"  # too short a record to judge
    assert mode_from_record([False] * 9 + [True], configuration)[0] == "extract"
    assert mode_from_record([True, True, False] * 4, configuration)[0] == "generate"

    provider = ScriptedProvider(answer=INVENTED)
    for _ in range(configuration.track_record_answers):
        ask(BACKUP_QUESTION, provider=provider)
    streamed_before = provider.streamed_pieces
    result, _ = ask(BACKUP_QUESTION, provider=provider)
    assert "generate" not in nodes(result) and provider.streamed_pieces == streamed_before
    assert "answers held up" in span(result, "choose")["details"]["reason"]
    assert Trace.objects.filter(model=provider.model).count() == configuration.track_record_answers


def test_auto_mode_judges_an_authors_adapter_by_its_own_record_not_the_all_authors_models(corpus, settings, tmp_path):
    provider = ScriptedProvider(answer=INVENTED)
    for _ in range(RagConfiguration().track_record_answers):  # the all-authors model's answers keep failing
        ask(BACKUP_QUESTION, provider=provider)
    ada = Author.objects.get(name="Ada Example")
    settings.MODELS_DIR = tmp_path / "registry"
    adapter = settings.MODELS_DIR / "sft-v1"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    production_pointer_set(settings.MODELS_DIR, model_dir=adapter, author_id=ada.pk)  # Ada's twin is promoted

    as_everyone, _ = ask(BACKUP_QUESTION, provider=provider)
    as_ada, _ = ask("How does Ada test the PostgreSQL backups?", provider=provider)

    assert span(as_everyone, "choose")["details"] | {"reason": ""} == {
        "answer_mode": "auto", "model": provider.model, "decision": "extract", "reason": ""
    }  # fmt: skip
    assert span(as_ada, "choose")["details"]["model"] == adapter_name(ada.pk)
    assert span(as_ada, "choose")["details"]["decision"] == "generate"
    assert "fewer than 10" in span(as_ada, "choose")["details"]["reason"]  # a record of its own: empty so far
    assert Trace.objects.filter(model=adapter_name(ada.pk)).count() == 1  # and what it writes is its record


def test_auto_mode_asks_a_failing_model_again_after_quoting_a_while(corpus):
    # A bad record is not for ever: after track_record_retry_after quoted answers the model writes once more.
    provider = ScriptedProvider(answer=INVENTED)
    for _ in range(RagConfiguration().track_record_answers):
        ask(BACKUP_QUESTION, provider=provider)

    decisions, reasons = [], []
    for _ in range(4):
        result, _ = ask(BACKUP_QUESTION, provider=provider, track_record_retry_after=2)
        decisions.append(span(result, "choose")["details"]["decision"])
        reasons.append(span(result, "choose")["details"]["reason"])

    assert decisions == ["extract", "extract", "generate", "extract"]
    assert reasons[2] == "2 answers were quoted since the model was last asked: it is asked again"
