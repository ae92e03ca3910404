"""Writes of the labeling screens: an annotator's verdict on a preference pair, a reviewer's on a sample.

Both raise django.core.exceptions.ValidationError keyed by the field at fault, which the screens show
beside that field.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.trainsets.labeling.selectors import LABELABLE_REVIEWS
from apps.trainsets.models import InstructionSample, PreferenceLabel, PreferencePair, Review

# A verdict that picks one side: only these can carry that side rewritten.
_PREFERS_ONE = {PreferenceLabel.Choice.A, PreferenceLabel.Choice.B}
SAMPLE_DECISIONS = (Review.APPROVED, Review.REJECTED)


def normalize_text(text: str) -> str:
    """Browsers send textareas with CRLF line ends; stored text uses LF and no outer whitespace."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@transaction.atomic
def preference_label_record(
    *, pair: PreferencePair, annotator, chosen_shown_first: bool, choice: str, edited_answer: str = ""
) -> PreferenceLabel:
    """Store `annotator`'s label of `pair` (one per annotator and pair: labeling again replaces it).

    `chosen_shown_first` is the order the screen showed (A was the pair's `chosen`); `edited_answer` is the
    preferred answer as the annotator rewrote it, or "" when they kept it as it was.
    """
    if choice not in PreferenceLabel.Choice.values:
        allowed = ", ".join(PreferenceLabel.Choice.values)
        raise ValidationError({"choice": f"Unknown choice {choice!r}: use one of {allowed}."})
    if not isinstance(chosen_shown_first, bool):
        raise ValidationError({"chosen_shown_first": "Say whether answer A on screen was the pair's chosen one."})
    if pair.review not in LABELABLE_REVIEWS:
        raise ValidationError({"pair": f"Pair {pair.pk} is {pair.get_review_display().lower()}: it is not labeled."})
    edited_answer = normalize_text(edited_answer or "")
    if edited_answer and choice not in _PREFERS_ONE:
        raise ValidationError({"edited_answer": "Only a label that prefers answer A or B can carry an edited answer."})
    label, _ = PreferenceLabel.objects.update_or_create(
        pair=pair,
        annotator=annotator,
        defaults={"chosen_shown_first": chosen_shown_first, "choice": choice, "edited_answer": edited_answer},
    )
    return label


@transaction.atomic
def instruction_sample_review(
    *, sample: InstructionSample, reviewer, decision: str, answer: str | None = None
) -> InstructionSample:
    """Approve or reject a sample, approving optionally with a corrected answer.

    The first version of an edited answer stays in `original_answer`, however many edits follow.
    """
    if decision not in SAMPLE_DECISIONS:
        raise ValidationError({"decision": f"Unknown decision {decision!r}: use approved or rejected."})
    # Locked: two reviewers editing at once must not both think they hold the first version.
    sample = InstructionSample.objects.select_for_update().get(pk=sample.pk)
    if answer is not None:
        answer = normalize_text(answer)
        if not answer:
            raise ValidationError({"answer": "The answer cannot be empty: reject the sample instead."})
        if answer != sample.answer:
            if decision != Review.APPROVED:
                raise ValidationError({"answer": "An edited answer is kept only when the sample is approved."})
            if not sample.original_answer:
                sample.original_answer = sample.answer
            sample.answer = answer
    sample.review = decision
    sample.reviewed_by = reviewer
    sample.reviewed_at = timezone.now()
    sample.save(update_fields=["answer", "original_answer", "review", "reviewed_by", "reviewed_at"])
    return sample
