"""Generation runs with a scripted provider: what is stored, retried, dropped and counted, and idempotency."""

import json

import pytest

from apps.trainsets.generation.options import GenerationOptions
from apps.trainsets.generation.services import generation_run_create, generation_run_execute
from apps.trainsets.models import GenerationRun, InstructionSample, PreferencePair
from lib.errors import TwinsiteError
from tests.factories import make_document
from tests.trainsets.factories import make_sample
from tests.trainsets.generation.corpus import PASSAGES, make_corpus
from tests.trainsets.generation.scripted import (
    ScriptedProvider,
    is_own_text_request,
    is_rejected_answer_request,
    passage_of,
)

pytestmark = pytest.mark.django_db

QUESTIONS = {
    PASSAGES[0]: "How do you back up your PostgreSQL database?",
    PASSAGES[1]: "How do you look after your sourdough starter?",
    PASSAGES[2]: "How did you climb the Stelvio pass?",
}
TWIN_ANSWER = "A generic answer from the base model, which does not sound like the author at all, sadly."


def own_text_reply(messages, params) -> str:
    if is_rejected_answer_request(messages):
        return TWIN_ANSWER
    return QUESTIONS[passage_of(messages)]


def run(author=None, provider=None, **options) -> GenerationRun:
    created = generation_run_create(author=author, options=GenerationOptions(**options))
    return generation_run_execute(run_id=created.pk, provider=provider)


def test_own_text_run_makes_a_sample_and_a_pair_per_extract_with_provenance_and_progress():
    documents = make_corpus()
    provider = ScriptedProvider(own_text_reply)
    seen: list[tuple[int, int]] = []
    created = generation_run_create(author=documents[0].author, options=GenerationOptions())

    done = generation_run_execute(
        run_id=created.pk, provider=provider, progress=lambda r: seen.append((r.extracts_done, r.extracts_total))
    )

    assert (done.status, done.extracts_total, done.extracts_done) == ("succeeded", 3, 3)
    assert (done.samples_created, done.pairs_created, done.dropped) == (3, 3, {})
    assert seen[0] == (0, 3) and seen[-1] == (3, 3) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert done.options["model"] == "scripted-model" and done.started_at <= done.finished_at
    for document, passage in zip(documents, PASSAGES, strict=True):
        sample = InstructionSample.objects.get(document=document)
        assert (sample.mode, sample.review, sample.generation_run) == ("own_text", "pending", done)
        assert (sample.instruction, sample.answer, sample.extract) == (QUESTIONS[passage], passage, passage)
        assert list(sample.chunks.all()) == list(document.chunks.all())
        pair = PreferencePair.objects.get(sample=sample)
        assert (pair.prompt, pair.chosen, pair.rejected) == (sample.instruction, passage, TWIN_ANSWER)
        assert (pair.origin, pair.document, pair.rejected_model, pair.review) == (
            "sample",
            document,
            "scripted-model",
            "pending",
        )
    # Greedy first: reproducible.
    assert all(params.temperature == 0 for _, params in provider.calls)


def test_running_again_adds_nothing_and_asks_the_model_nothing():
    documents = make_corpus()
    run(author=documents[0].author, provider=ScriptedProvider(own_text_reply))
    again = ScriptedProvider(own_text_reply)

    second = run(author=documents[0].author, provider=again)

    assert (second.extracts_total, second.samples_created, second.pairs_created) == (0, 0, 0)
    assert again.calls == []
    assert InstructionSample.objects.count() == 3 and PreferencePair.objects.count() == 3


def test_a_new_model_adds_only_pairs_and_limit_counts_extracts():
    documents = make_corpus()
    first = run(author=documents[0].author, provider=ScriptedProvider(own_text_reply), limit=2, pairs=False)
    assert (first.extracts_total, first.samples_created, PreferencePair.objects.count()) == (2, 2, 0)

    twin = ScriptedProvider(own_text_reply, model="twin-v2")
    second = run(author=documents[0].author, provider=twin)

    # The third extract gets its sample; all three get a pair against the new model.
    assert (second.extracts_total, second.samples_created, second.pairs_created) == (3, 1, 3)
    assert set(PreferencePair.objects.values_list("rejected_model", flat=True)) == {"twin-v2"}
    assert sum(is_own_text_request(messages) for messages, _ in twin.calls) == 1


def generated_reply(script: dict[str, list[str]]):
    """Replies per passage, in order: one per attempt."""

    def reply(messages, params):
        if is_rejected_answer_request(messages):
            return TWIN_ANSWER
        return script[passage_of(messages)].pop(0)

    return reply


def pairs_json(*pairs: tuple[str, str]) -> str:
    return json.dumps({"pairs": [{"instruction": i, "answer": a} for i, a in pairs]})


ANSWER_A = "I run pg_dump every night against the replica, so the users never feel the backup running at all."
ANSWER_B = "The dump is compressed with zstd, then copied to object storage in another region for safety."


def test_generated_mode_retries_invalid_output_then_drops_and_counts_it():
    documents = make_corpus(PASSAGES[:2])
    script = {
        PASSAGES[0]: ["Sure! Here are some ideas.", pairs_json(("How do you back up?", ANSWER_A))],
        PASSAGES[1]: ["not json", '{"pairs": []}', '{"pairs": [{"instruction": "Why rye?"}]}'],
    }
    provider = ScriptedProvider(generated_reply(script))

    done = run(author=documents[0].author, provider=provider, mode="generated", pairs=False, max_attempts=3)

    assert (done.samples_created, done.dropped) == (1, {"invalid_output": 1})
    sample = InstructionSample.objects.get()
    assert (sample.document, sample.mode, sample.instruction, sample.answer) == (
        documents[0],
        "generated",
        "How do you back up?",
        ANSWER_A,
    )
    temperatures = [params.temperature for _, params in provider.calls]
    assert temperatures == [0.0, 0.8, 0.0, 0.8, 0.8]  # a retry samples, or it would repeat itself
    # Nothing was stored for the dropped extract, so the next run tries it again.
    script[PASSAGES[1]] = [pairs_json(("Why rye flour?", ANSWER_B))]
    again = run(author=documents[0].author, provider=provider, mode="generated", pairs=False)
    assert (again.extracts_total, again.samples_created) == (1, 1)


def test_generated_samples_failing_a_filter_are_stored_as_filtered_with_their_reason():
    documents = make_corpus(PASSAGES[:1])
    make_sample(document=make_document(source=documents[0].source), answer=ANSWER_B)  # from an earlier run
    french = "Je lance pg_dump chaque nuit sur la réplique, pour que les utilisateurs ne sentent jamais la sauvegarde."
    script = {
        PASSAGES[0]: [
            pairs_json(
                ("How do you back up?", ANSWER_A),
                ("And how often do you do it?", ANSWER_A.upper()),
                ("Where do the dumps go afterwards?", ANSWER_B),
                ("How do you back up PostgreSQL every night?", "How do you back up PostgreSQL every night"),
                ("What compression do you use?", "zstd."),
                ("Which server do you dump from?", french),
            )
        ]
    }

    done = run(
        author=documents[0].author,
        provider=ScriptedProvider(generated_reply(script)),
        mode="generated",
        pairs=False,
        samples_per_extract=6,
    )

    samples = InstructionSample.objects.filter(document=documents[0]).order_by("ordinal")
    assert [(s.review, s.filter_reason) for s in samples] == [
        ("pending", ""),
        ("filtered", "duplicate"),
        ("filtered", "duplicate"),  # the same answer as a sample of an earlier run
        ("filtered", "repeats_prompt"),
        ("filtered", "answer_too_short"),
        ("filtered", "wrong_language"),
    ]
    assert done.samples_created == 1
    assert done.dropped == {"duplicate": 2, "repeats_prompt": 1, "answer_too_short": 1, "wrong_language": 1}


def test_pairs_come_from_own_text_and_edited_samples_only_and_a_copy_of_chosen_is_filtered():
    documents = make_corpus(PASSAGES[:1])
    author = documents[0].author
    on_extract = {"document": documents[0], "extract": PASSAGES[0], "mode": "generated"}
    edited = make_sample(**on_extract, ordinal=0, answer=ANSWER_B, original_answer="The model's first try.")
    make_sample(**on_extract, ordinal=1, answer=ANSWER_A)  # the model's words, not the author's: no pair
    make_sample(**on_extract, ordinal=2, review="filtered", filter_reason="duplicate", original_answer="x")

    def parrot(messages, params):  # the model answers with the author's own passage
        return PASSAGES[0] if is_rejected_answer_request(messages) else QUESTIONS[passage_of(messages)]

    run(author=author, provider=ScriptedProvider(parrot))
    generated = run(author=author, provider=ScriptedProvider(own_text_reply), mode="generated")

    own = PreferencePair.objects.get(sample__mode="own_text")
    assert (own.review, own.filter_reason) == ("filtered", "rejected_same_as_chosen")
    pair = PreferencePair.objects.get(sample=edited)
    assert (pair.chosen, pair.rejected, pair.review) == (ANSWER_B, TWIN_ANSWER, "pending")
    assert PreferencePair.objects.count() == 2 and generated.pairs_created == 1


def test_options_are_checked_naming_the_field():
    with pytest.raises(TwinsiteError, match="mode"):
        GenerationOptions(mode="poetry")
    with pytest.raises(TwinsiteError, match="limit"):
        GenerationOptions(limit=0)
    with pytest.raises(TwinsiteError, match="max_tokens"):
        GenerationOptions(max_tokens=1)


def test_a_finished_run_is_left_alone():
    documents = make_corpus(PASSAGES[:1])
    done = run(author=documents[0].author, provider=ScriptedProvider(own_text_reply))
    again = ScriptedProvider(own_text_reply)

    assert generation_run_execute(run_id=done.pk, provider=again).samples_created == 1
    assert again.calls == []
