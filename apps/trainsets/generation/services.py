"""Generation runs: create, queue, execute (resumable, with live progress on the run), fail.

A run walks the curated corpus extract by extract, skipping what earlier runs finished: an
extract with samples of the run's mode is done, and with ``pairs`` one whose eligible samples all
have a pair from the current model. So re-running adds nothing twice, and a run cut short (a
worker restart, a time limit) picks up where it stopped.
"""

from collections.abc import Callable, Iterator

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.core.tasks import task_send
from apps.documents.models import Document
from apps.rag.providers import GenerationProvider, provider_from_settings
from apps.sources.models import Author
from apps.trainsets import quality
from apps.trainsets.generation.extracts import MIN_SAMPLE_WORDS, Extract, extracts_for
from apps.trainsets.generation.options import GenerationOptions
from apps.trainsets.generation.pairs import preference_pair_from_sample, preference_pairs_from_feedback, samples_to_pair
from apps.trainsets.generation.samples import INVALID_OUTPUT, PROVIDER_ERROR, Tally, samples_generate
from apps.trainsets.models import GenerationRun, InstructionSample, PreferencePair, Review

RunCallback = Callable[[GenerationRun], None]
_FINISHED = (GenerationRun.Status.SUCCEEDED, GenerationRun.Status.FAILED)


def generation_run_create(*, author: Author | None = None, options: GenerationOptions) -> GenerationRun:
    return GenerationRun.objects.create(author=author, options=options.as_dict())


def generation_run_enqueue(*, author: Author | None = None, options: GenerationOptions) -> GenerationRun:
    """A run queued on the llm workers; the task is sent once the run is committed."""
    with transaction.atomic():
        run = generation_run_create(author=author, options=options)
        task_send("workers.datasets.generate_datasets", run.pk)
    return run


def generation_run_fail(*, run_id: int, error: str) -> None:
    """Record a run that stopped on an error (the worker's on_failure, or --sync)."""
    GenerationRun.objects.filter(pk=run_id).exclude(status__in=_FINISHED).update(
        status=GenerationRun.Status.FAILED, error=error[:5000], finished_at=timezone.now()
    )


def _extracts_to_do(*, author: Author | None, options: GenerationOptions, model: str, limit: int | None):
    """Extracts that still need samples of the mode, or (with pairs) a pair for one of their samples."""
    samples = InstructionSample.objects.filter(mode=options.mode)
    if author is not None:
        samples = samples.filter(author=author)
    done = set(samples.values_list("document_id", "extract_hash"))
    unpaired = set()
    if options.pairs:
        unpaired = set(
            samples_to_pair(model=model).filter(mode=options.mode).values_list("document_id", "extract_hash")
        )
    work: list[Extract] = []
    for extract in extracts_for(author=author):
        if extract.word_count < MIN_SAMPLE_WORDS:
            continue
        key = (extract.document_id, extract.hash)
        if key not in done or key in unpaired:
            work.append(extract)
            if limit is not None and len(work) >= limit:
                break
    return work


def _kept_answers(author: Author | None) -> Iterator[str]:
    samples = InstructionSample.objects.exclude(review__in=[Review.FILTERED, Review.REJECTED])
    if author is not None:
        samples = samples.filter(author=author)
    return samples.values_list("answer", flat=True).iterator(chunk_size=2000)


def _record(run: GenerationRun, tally: Tally) -> None:
    run.samples_created += tally.samples_created
    run.pairs_created += tally.pairs_created
    dropped = dict(run.dropped)
    for reason, count in tally.dropped.items():
        dropped[reason] = dropped.get(reason, 0) + count
    run.dropped = dropped


def _counts_from_stored(run: GenerationRun) -> None:
    """The run's counts from the rows it made: an attempt killed between storing and saving its counts
    left rows uncounted, and the next attempt skips what they finished."""
    made = [InstructionSample.objects.filter(generation_run=run), PreferencePair.objects.filter(generation_run=run)]
    run.samples_created, run.pairs_created = (rows.exclude(review=Review.FILTERED).count() for rows in made)
    dropped = {reason: count for reason, count in run.dropped.items() if reason in (INVALID_OUTPUT, PROVIDER_ERROR)}
    for rows in made:
        for reason, count in rows.filter(review=Review.FILTERED).values_list("filter_reason").annotate(Count("pk")):
            dropped[reason] = dropped.get(reason, 0) + count
    run.dropped = dropped


def _extract_process(
    *,
    run: GenerationRun,
    extract: Extract,
    document: Document,
    provider: GenerationProvider,
    options: GenerationOptions,
    duplicates: quality.DuplicateIndex,
) -> Tally:
    tally = samples_generate(
        provider=provider, extract=extract, document=document, options=options, duplicates=duplicates, run=run
    )
    if options.pairs:
        samples = samples_to_pair(model=provider.model[:200]).filter(
            document=document, extract_hash=extract.hash, mode=options.mode
        )
        for sample in samples.select_related("author").order_by("ordinal"):
            tally.add(preference_pair_from_sample(provider=provider, sample=sample, options=options, run=run))
    return tally


def generation_run_execute(
    *, run_id: int, provider: GenerationProvider | None = None, progress: RunCallback | None = None
) -> GenerationRun:
    """Generate the run's samples and pairs, saving its counts after every extract. A finished run is left alone."""
    run = GenerationRun.objects.select_related("author").get(pk=run_id)
    if run.status in _FINISHED:
        return run
    options = GenerationOptions.from_dict(run.options)
    provider = provider or provider_from_settings(options.provider or None)
    model = provider.model[:200]
    # Resumed (after a time limit or a lost worker): the extracts done so far count against the limit.
    limit = None if options.limit is None else max(options.limit - run.extracts_done, 0)
    work = _extracts_to_do(author=run.author, options=options, model=model, limit=limit) if limit != 0 else []
    if run.status == GenerationRun.Status.RUNNING:  # resumed: count what the stopped attempt stored
        _counts_from_stored(run)
    run.status, run.started_at, run.error = GenerationRun.Status.RUNNING, run.started_at or timezone.now(), ""
    run.options = {**run.options, "model": provider.model}
    run.extracts_total = run.extracts_done + len(work)
    run.save()
    if progress:
        progress(run)

    duplicates = quality.DuplicateIndex()
    for answer in _kept_answers(run.author):
        duplicates.add(answer)
    documents = Document.objects.select_related("author").in_bulk({extract.document_id for extract in work})
    for extract in work:
        document = documents.get(extract.document_id)
        if document is not None:  # else deleted since the extracts were listed
            tally = _extract_process(
                run=run, extract=extract, document=document, provider=provider, options=options, duplicates=duplicates
            )
            _record(run, tally)
        run.extracts_done += 1
        run.save(update_fields=["extracts_done", "samples_created", "pairs_created", "dropped"])
        if progress:
            progress(run)
    if options.pairs:
        _record(run, preference_pairs_from_feedback(author=run.author, run=run))
    run.status, run.finished_at = GenerationRun.Status.SUCCEEDED, timezone.now()
    run.save()
    if progress:
        progress(run)
    return run
