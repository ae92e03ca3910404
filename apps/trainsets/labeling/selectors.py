"""Reads of the labeling screens: each annotator's queue and progress, agreement statistics, samples to review."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from apps.sources.models import Author
from apps.trainsets.labeling.agreement import AgreementReport, agreement_report
from apps.trainsets.models import InstructionSample, PreferenceLabel, PreferencePair, Review

# Filtered and rejected pairs never reach an export, so nobody is asked to label them.
LABELABLE_REVIEWS = (Review.PENDING, Review.APPROVED)
VERDICTS = ("chosen", "rejected", "tie", "both_bad")  # what agreement compares; a skip is no verdict


def preference_pair_queue(*, annotator) -> QuerySet[PreferencePair]:
    """Pairs `annotator` has not labeled (or skipped) yet, oldest first. Others' labels do not remove a pair:
    several annotators labeling the same pairs is what makes agreement measurable."""
    return (
        PreferencePair.objects.filter(review__in=LABELABLE_REVIEWS)
        .exclude(labels__annotator=annotator)
        .order_by("created_at", "id")
    )


def preference_pair_next(*, annotator) -> PreferencePair | None:
    return preference_pair_queue(annotator=annotator).select_related("author").first()


def preference_pair_labelable(*, pair_id: int) -> PreferencePair | None:
    return PreferencePair.objects.filter(pk=pair_id, review__in=LABELABLE_REVIEWS).select_related("author").first()


@dataclass(frozen=True)
class LabelingProgress:
    done: int  # pairs this annotator labeled or skipped
    total: int  # pairs open to labeling

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


def labeling_progress(*, annotator) -> LabelingProgress:
    labelable = PreferencePair.objects.filter(review__in=LABELABLE_REVIEWS)
    done = labelable.filter(labels__annotator=annotator).count()
    return LabelingProgress(done=done, total=labelable.count())


def preference_label_of(*, pair: PreferencePair, annotator) -> PreferenceLabel | None:
    return PreferenceLabel.objects.filter(pair=pair, annotator=annotator).first()


def preference_labels_recent(*, annotator, limit: int = 10) -> list[PreferenceLabel]:
    """The annotator's latest labels, newest first, to revisit a skip or change a verdict."""
    labels = PreferenceLabel.objects.filter(annotator=annotator, pair__review__in=LABELABLE_REVIEWS)
    return list(labels.select_related("pair").order_by("-updated_at", "-id")[:limit])


@dataclass
class AnnotatorCounts:
    username: str
    labels: int = 0
    edited: int = 0
    prefers: Counter = field(default_factory=Counter)  # chosen / rejected / tie / both_bad / skip

    @property
    def verdicts(self) -> int:
        return self.labels - self.prefers["skip"]


@dataclass(frozen=True)
class LabelingStats:
    annotators: list[AnnotatorCounts]
    agreement: AgreementReport
    pairs_total: int
    pairs_labeled: int  # with at least one verdict (skips not counted)


def labeling_stats() -> LabelingStats:
    """Counts per annotator and agreement between them, over every stored label."""
    counts: dict[str, AnnotatorCounts] = {}
    verdicts: dict[str, dict[int, str]] = defaultdict(dict)
    labels = PreferenceLabel.objects.select_related("annotator").only(
        "pair_id", "choice", "chosen_shown_first", "edited_answer", "annotator__username"
    )
    for label in labels.iterator(chunk_size=2000):
        name = label.annotator.username
        row = counts.setdefault(name, AnnotatorCounts(username=name))
        prefers = label.prefers  # in the pair's terms: the order shown differs from label to label
        row.labels += 1
        row.prefers[prefers] += 1
        row.edited += bool(label.edited_answer)
        if prefers in VERDICTS:
            verdicts[name][label.pair_id] = prefers
    return LabelingStats(
        annotators=sorted(counts.values(), key=lambda row: row.username),
        agreement=agreement_report(verdicts),
        pairs_total=PreferencePair.objects.filter(review__in=LABELABLE_REVIEWS).count(),
        pairs_labeled=len({pair for by_pair in verdicts.values() for pair in by_pair}),
    )


def instruction_sample_list(*, review: str = "", author_id: int | None = None) -> QuerySet[InstructionSample]:
    """Samples to review, oldest first so that pages stay put while reviewers work through them."""
    samples = InstructionSample.objects.select_related("author", "document", "reviewed_by")
    if review:
        samples = samples.filter(review=review)
    if author_id:
        samples = samples.filter(author_id=author_id)
    return samples.order_by("created_at", "id")


def instruction_sample_review_counts(*, author_id: int | None = None) -> dict[str, int]:
    samples = InstructionSample.objects.all()
    if author_id:
        samples = samples.filter(author_id=author_id)
    counts = dict(samples.order_by().values("review").annotate(n=Count("id")).values_list("review", "n"))
    return {value: counts.get(value, 0) for value in Review.values}


def instruction_sample_authors() -> QuerySet[Author]:
    """Authors who have samples, for the author filter."""
    return Author.objects.filter(instruction_samples__isnull=False).distinct().order_by("name")
