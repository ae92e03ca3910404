"""Instruction samples from one extract: ask the provider, validate, retry, filter, store.

An invalid output is retried (sampled instead of greedy) up to ``max_attempts`` in all, then
dropped and counted as ``invalid_output``; nothing is stored, so a later run tries that extract
again. A sample that fails a quality filter is stored with review="filtered" and its reason, so
the extract counts as done and the reason shows in the admin.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from apps.documents.models import Chunk, Document
from apps.rag.providers import ChatMessage, GenerationProvider, ProviderError, ProviderUnavailable
from apps.trainsets import quality
from apps.trainsets.generation import prompts
from apps.trainsets.generation.extracts import Extract
from apps.trainsets.generation.options import INSTRUCTION_MAX_TOKENS, GenerationOptions
from apps.trainsets.generation.parsing import GeneratedPair, InvalidOutput, parse_generated, parse_instruction
from apps.trainsets.models import GenerationRun, InstructionSample, Review
from lib.prompt_safety import Fence, attribute

logger = logging.getLogger(__name__)

INVALID_OUTPUT = "invalid_output"
PROVIDER_ERROR = "provider_error"


@dataclass
class Tally:
    """What one step made and dropped; added up on the run."""

    samples_created: int = 0
    pairs_created: int = 0
    dropped: Counter = field(default_factory=Counter)

    def add(self, other: "Tally") -> None:
        self.samples_created += other.samples_created
        self.pairs_created += other.pairs_created
        self.dropped.update(other.dropped)


def _own_text_messages(extract: Extract) -> list[ChatMessage]:
    fence = Fence("passage")  # one tag for this prompt, its examples included

    def user(passage: str) -> ChatMessage:
        return ChatMessage("user", prompts.OWN_TEXT_USER.format(passage=fence.wrap(passage), tag=fence.tag))

    messages = [ChatMessage("system", prompts.OWN_TEXT_SYSTEM)]
    for passage, question in prompts.OWN_TEXT_EXAMPLES:
        messages += [user(passage), ChatMessage("assistant", question)]
    return [*messages, user(extract.text)]


def _generated_messages(extract: Extract, document: Document, options: GenerationOptions) -> list[ChatMessage]:
    author = attribute(document.author.name)
    fence = Fence("passage")
    low, high = quality.QualityRules().answer_words
    user = prompts.GENERATED_USER.format(
        passage=fence.wrap(extract.text, title=document.title),
        n=options.samples_per_extract,
        author=author,
        min_words=max(low, 40),
        max_words=min(high, 250),
    )
    system = prompts.GENERATED_SYSTEM.format(author=author, tag=fence.tag)
    return [ChatMessage("system", system), ChatMessage("user", user)]


def write_pairs(
    *, provider: GenerationProvider, extract: Extract, document: Document, options: GenerationOptions
) -> list[GeneratedPair] | None:
    """The (instruction, answer) pairs the provider writes for the extract; None when every attempt was invalid."""
    if options.mode == InstructionSample.Mode.OWN_TEXT:
        messages = _own_text_messages(extract)
    else:
        messages = _generated_messages(extract, document, options)
    for attempt in range(options.max_attempts):
        try:
            if options.mode == InstructionSample.Mode.OWN_TEXT:
                params = options.params(attempt, max_tokens=INSTRUCTION_MAX_TOKENS, stop=("\n",))
                text = provider.generate(messages, params).text
                return [GeneratedPair(instruction=parse_instruction(text, passage=extract.text), answer=extract.text)]
            text = provider.generate(messages, options.params(attempt)).text
            return parse_generated(text, limit=options.samples_per_extract)
        except InvalidOutput as exc:
            logger.info("Invalid output for document %s (attempt %s): %s", document.pk, attempt + 1, exc)
    return None


def expected_language(extract: Extract, document: Document) -> str:
    """The language samples of this extract should be in; "" when it cannot be told (or for code)."""
    if document.content_type == Document.ContentType.CODE:
        return ""
    return quality.language_code(document.language) or quality.confident_language(extract.text) or ""


def _store(
    *, extract: Extract, document: Document, ordinal: int, pair: GeneratedPair, problem: str | None, **fields
) -> bool:
    with transaction.atomic():
        sample, created = InstructionSample.objects.get_or_create(
            document=document,
            extract_hash=extract.hash,
            mode=fields.pop("mode"),
            ordinal=ordinal,
            defaults={
                "author_id": document.author_id,
                "extract": extract.text,
                "instruction": pair.instruction,
                "answer": pair.answer,
                "review": Review.FILTERED if problem else Review.PENDING,
                "filter_reason": problem or "",
                **fields,
            },
        )
        if created:  # a chunk re-chunked away meanwhile is simply not linked
            sample.chunks.set(Chunk.objects.filter(pk__in=extract.chunk_ids))
    return created


def samples_generate(
    *,
    provider: GenerationProvider,
    extract: Extract,
    document: Document,
    options: GenerationOptions,
    duplicates: quality.DuplicateIndex,
    run: GenerationRun | None = None,
) -> Tally:
    """Samples of the extract, stored (filtered ones with their reason). Nothing new when it has some already."""
    tally = Tally()
    done = InstructionSample.objects.filter(document=document, extract_hash=extract.hash, mode=options.mode)
    if done.exists():
        return tally
    try:
        pairs = write_pairs(provider=provider, extract=extract, document=document, options=options)
    except ProviderUnavailable:
        raise  # the backend is down: the whole run waits and retries
    except ProviderError as exc:  # this prompt only (e.g. too long for the model): skip the extract
        logger.warning("The provider refused the prompt for document %s: %s", document.pk, exc)
        tally.dropped[PROVIDER_ERROR] += 1
        return tally
    if pairs is None:
        tally.dropped[INVALID_OUTPUT] += 1
        return tally
    language = expected_language(extract, document)
    # All of the extract's samples or none: one killed halfway would count as done (it has samples) and never
    # be given the rest.
    with transaction.atomic():
        for ordinal, pair in enumerate(pairs):
            problem = quality.sample_problem(instruction=pair.instruction, answer=pair.answer, language=language)
            problem = problem or duplicates.check_and_add(pair.answer)
            created = _store(
                extract=extract,
                document=document,
                ordinal=ordinal,
                pair=pair,
                problem=problem,
                mode=options.mode,
                model=provider.model[:200],
                generation_run=run,
            )
            if created and problem:
                tally.dropped[problem] += 1
            elif created:
                tally.samples_created += 1
    return tally
