"""What an export may hold: reviewed (or, with TRAINSETS_AUTO_ACCEPT, pending) items, and why the rest stays out.

Instruction samples go out when approved (auto-accept: also pending). Preference pairs go out
as their labels resolve them (resolution.py); an unlabeled pair when approved (auto-accept: also
pending). Rejected and filtered items never do, nor anything from a document a curator excluded.
"""

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from apps.documents.models import Document
from apps.sources.models import Author
from apps.trainsets.export.resolution import Outcome, Vote, pair_resolve
from apps.trainsets.generation.extracts import split_heading
from apps.trainsets.models import InstructionSample, PreferencePair, Review

INSTRUCT_STATS = ["pending", "rejected", "filtered", "document_excluded", "empty", "leakage"]
PREFERENCE_STATS = [*INSTRUCT_STATS[:-1], "tie", "both_bad", "no_majority", "leakage"]


@dataclass
class ExportItem:
    """One future JSONL row, before the split: its ids, its group and its texts."""

    item_id: int  # sample_id or pair_id
    group: str  # the split unit: "document:<id>" or "conversation:<uuid>"
    document_id: int | None
    author: str | None
    prompt: str
    chosen: str  # the answer, for an instruction sample
    rejected: str = ""
    flags: frozenset[str] = frozenset()  # auto_accepted, labeled, swapped, edited
    sample_id: int | None = None  # the instruction sample it was made from: where its extract and section are


@dataclass
class Selection:
    items: list[ExportItem]
    filter_stats: Counter = field(default_factory=Counter)  # reason -> how many items it kept out


def _document_group(document: Document) -> str:
    # A near-duplicate document shares its original's group: the same text must not straddle the split.
    return f"document:{document.duplicate_of_id or document.pk}"


def _eligible(scope: QuerySet, *, auto_accept: bool, stats: Counter) -> QuerySet:
    """Count what review keeps out, then what curation keeps out; return the rest."""
    reviews = [Review.APPROVED, Review.PENDING] if auto_accept else [Review.APPROVED]
    for row in scope.exclude(review__in=reviews).values("review").annotate(n=Count("id")):
        stats[row["review"]] += row["n"]
    eligible = scope.filter(review__in=reviews)
    stats["document_excluded"] += eligible.filter(document__curation_state=Document.Curation.EXCLUDED).count()
    return eligible.exclude(document__curation_state=Document.Curation.EXCLUDED)


def instruct_selection(*, author: Author | None = None, auto_accept: bool = False) -> Selection:
    scope = InstructionSample.objects.all() if author is None else InstructionSample.objects.filter(author=author)
    selection = Selection(items=[], filter_stats=Counter(dict.fromkeys(INSTRUCT_STATS, 0)))
    eligible = _eligible(scope, auto_accept=auto_accept, stats=selection.filter_stats)
    for sample in eligible.select_related("author", "document").order_by("id").iterator(chunk_size=1000):
        if not sample.instruction.strip() or not sample.answer.strip():
            selection.filter_stats["empty"] += 1
            continue
        selection.items.append(
            ExportItem(
                item_id=sample.pk,
                group=_document_group(sample.document),
                document_id=sample.document_id,
                author=sample.author.name,
                prompt=sample.instruction.strip(),
                chosen=sample.answer.strip(),
                flags=frozenset({"auto_accepted"} if sample.review == Review.PENDING else ()),
                sample_id=sample.pk,
            )
        )
    return selection


def _pair_group(pair: PreferencePair) -> str:
    if pair.document is not None:
        return _document_group(pair.document)
    if pair.feedback is not None:  # chat feedback has no document: its conversation is the unit
        return f"conversation:{pair.feedback.message.conversation_id}"
    return f"pair:{pair.pk}"


def _pair_author(pair: PreferencePair) -> str | None:
    if pair.author is not None:
        return pair.author.name
    if pair.feedback is not None:
        return pair.feedback.message.conversation.author_name or None
    return None


def preference_selection(*, author: Author | None = None, auto_accept: bool = False) -> Selection:
    scope = PreferencePair.objects.all() if author is None else PreferencePair.objects.filter(author=author)
    selection = Selection(items=[], filter_stats=Counter(dict.fromkeys(PREFERENCE_STATS, 0)))
    # Pending pairs are read even without auto-accept: labels may have decided them already.
    pairs = _eligible(scope, auto_accept=True, stats=selection.filter_stats)
    pairs = pairs.select_related("author", "document", "feedback__message__conversation").prefetch_related("labels")
    for pair in pairs.order_by("id").iterator(chunk_size=1000):
        votes = [Vote(label.prefers, label.edited_answer, label.updated_at) for label in pair.labels.all()]
        resolution = pair_resolve(chosen=pair.chosen, rejected=pair.rejected, votes=votes)
        flags: set[str] = set()
        if resolution.outcome == Outcome.UNLABELED:
            if pair.review == Review.PENDING and not auto_accept:
                selection.filter_stats["pending"] += 1
                continue
            if pair.review == Review.PENDING:
                flags.add("auto_accepted")
        elif not resolution.exported:
            selection.filter_stats[resolution.outcome] += 1
            continue
        else:
            flags.add("labeled")
            flags.update({"swapped"} if resolution.outcome == Outcome.SWAPPED else ())
            flags.update({"edited"} if resolution.edited else ())
        if not (pair.prompt.strip() and resolution.chosen.strip() and resolution.rejected.strip()):
            selection.filter_stats["empty"] += 1
            continue
        selection.items.append(
            ExportItem(
                item_id=pair.pk,
                group=_pair_group(pair),
                document_id=pair.document_id,
                author=_pair_author(pair),
                prompt=pair.prompt.strip(),
                chosen=resolution.chosen.strip(),
                rejected=resolution.rejected.strip(),
                flags=frozenset(flags),
                sample_id=pair.sample_id,
            )
        )
    return selection


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def items_by_section(items: list[ExportItem]) -> list[ExportItem]:
    """The items of one document regrouped by the section their extract starts in, or else by extract.

    A section is the heading path of the extract's first chunk. When the document has fewer than two
    sections (or a sample's chunks are gone), each extract is its own group: samples of one extract share
    its text, so they must stay on one side. An item made from no sample is a group of its own.
    """
    sample_ids = {item.sample_id for item in items if item.sample_id is not None}
    first_chunk: dict[int, str] = {}
    links = InstructionSample.chunks.through.objects.filter(instructionsample_id__in=sample_ids)
    for sample_id, text in links.order_by("instructionsample_id", "chunk__ordinal").values_list(
        "instructionsample_id", "chunk__text"
    ):
        first_chunk.setdefault(sample_id, text)
    extracts = dict(InstructionSample.objects.filter(pk__in=sample_ids).values_list("pk", "extract_hash"))
    headings = {sample_id: split_heading(text)[0] for sample_id, text in first_chunk.items()}
    by_heading = set(headings) == sample_ids and len(set(headings.values())) >= 2

    def section(item: ExportItem) -> str:
        if item.sample_id is None:
            return f"item:{item.item_id}"
        if by_heading:
            return f"section:{_key(headings[item.sample_id])}"
        return f"extract:{extracts[item.sample_id][:12]}"

    return [dataclasses.replace(item, group=f"{item.group}/{section(item)}") for item in items]
