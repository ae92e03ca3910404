"""Preference pairs: the author's words (or a person's edit) chosen over a model's answer.

From a sample: prompt = its instruction, chosen = its answer (the author's own passage, or a
reviewer's edit of it), rejected = what the current model answers to the instruction. One pair per
(sample, model): the constraint makes a re-run add nothing. From chat feedback: an edited answer is
chosen over the twin's original one; the OneToOne on feedback makes the sweep idempotent.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from apps.chat.models import Feedback, Message
from apps.rag.prompts import TWIN_SYSTEM
from apps.rag.providers import ChatMessage, GenerationProvider
from apps.sources.models import Author
from apps.sources.selectors import author_find
from apps.trainsets import quality
from apps.trainsets.generation.options import GenerationOptions
from apps.trainsets.generation.samples import INVALID_OUTPUT, Tally
from apps.trainsets.models import GenerationRun, InstructionSample, PreferencePair, Review

SAME_ANSWERS = "rejected_same_as_chosen"
NO_QUESTION = "feedback_without_question"


def samples_to_pair(*, model: str) -> QuerySet[InstructionSample]:
    """Samples whose answer is the author's own or a person's edit, still in play, without a pair from model."""
    return (
        InstructionSample.objects.filter(review__in=[Review.PENDING, Review.APPROVED])
        .filter(Q(mode=InstructionSample.Mode.OWN_TEXT) | ~Q(original_answer=""))
        .exclude(preference_pairs__rejected_model=model)
    )


def answers_match(chosen: str, rejected: str, *, threshold: float = quality.QualityRules.near_duplicate_threshold):
    """True when the two answers are the same text, or nearly: such a pair teaches nothing."""
    index = quality.DuplicateIndex(threshold=threshold)
    index.add(chosen)
    return index.check(rejected) is not None


def _rejected_answer(
    *, provider: GenerationProvider, sample: InstructionSample, options: GenerationOptions
) -> str | None:
    messages = [
        ChatMessage("system", TWIN_SYSTEM.format(author=sample.author.name)),
        ChatMessage("user", sample.instruction),
    ]
    for attempt in range(options.max_attempts):
        text = provider.generate(messages, options.params(attempt)).text.strip()
        if text:
            return text
    return None


def preference_pair_from_sample(
    *,
    provider: GenerationProvider,
    sample: InstructionSample,
    options: GenerationOptions,
    run: GenerationRun | None = None,
) -> Tally:
    """The pair of the sample against the provider's model; nothing when it exists or the model says nothing."""
    tally = Tally()
    if PreferencePair.objects.filter(sample=sample, rejected_model=provider.model[:200]).exists():
        return tally
    rejected = _rejected_answer(provider=provider, sample=sample, options=options)
    if rejected is None:
        tally.dropped[INVALID_OUTPUT] += 1
        return tally
    problem = SAME_ANSWERS if answers_match(sample.answer, rejected) else None
    try:
        with transaction.atomic():
            PreferencePair.objects.create(
                author_id=sample.author_id,
                document_id=sample.document_id,
                origin=PreferencePair.Origin.SAMPLE,
                sample=sample,
                generation_run=run,
                prompt=sample.instruction,
                chosen=sample.answer,
                rejected=rejected,
                rejected_model=provider.model[:200],
                review=Review.FILTERED if problem else Review.PENDING,
                filter_reason=problem or "",
            )
    except IntegrityError:  # another run made it meanwhile
        return tally
    if problem:
        tally.dropped[problem] += 1
    else:
        tally.pairs_created += 1
    return tally


def _question_before(answer: Message) -> Message | None:
    return (
        Message.objects.filter(conversation_id=answer.conversation_id, role=Message.Role.USER)
        .filter(Q(created_at__lt=answer.created_at) | Q(created_at=answer.created_at, pk__lt=answer.pk))
        .order_by("-created_at", "-pk")
        .first()
    )


def preference_pairs_from_feedback(*, author: Author | None = None, run: GenerationRun | None = None) -> Tally:
    """A pair for every edited answer in chat feedback not yet made into one (of conversations about author)."""
    tally = Tally()
    feedback = (
        Feedback.objects.exclude(edited_answer="")
        .filter(preference_pair__isnull=True)
        .select_related("message__conversation", "message__trace")
        .order_by("pk")
    )
    authors: dict[str, Author | None] = {}
    for item in feedback.iterator():
        conversation = item.message.conversation
        if conversation.author_name not in authors:
            authors[conversation.author_name] = author_find(name=conversation.author_name)
        pair_author = authors[conversation.author_name]
        if author is not None and pair_author != author:
            continue
        question = _question_before(item.message)
        if question is None:
            tally.dropped[NO_QUESTION] += 1
            continue
        chosen, rejected = item.edited_answer.strip(), item.message.content
        problem = SAME_ANSWERS if answers_match(chosen, rejected) else None
        _, created = PreferencePair.objects.get_or_create(
            feedback=item,
            defaults={
                "author": pair_author,
                "origin": PreferencePair.Origin.FEEDBACK,
                "generation_run": run,
                "prompt": question.content,
                "chosen": chosen,
                "rejected": rejected,
                "rejected_model": (item.message.trace.model if item.message.trace else "")[:200],
                "review": Review.FILTERED if problem else Review.PENDING,
                "filter_reason": problem or "",
            },
        )
        if created and problem:
            tally.dropped[problem] += 1
        elif created:
            tally.pairs_created += 1
    return tally
