"""Storing labels and sample reviews, and the queue each annotator sees."""

import pytest
from django.core.exceptions import ValidationError

from apps.trainsets.labeling import selectors, services
from apps.trainsets.models import PreferenceLabel, Review
from tests.trainsets.factories import make_label, make_pair, make_sample

pytestmark = pytest.mark.django_db


def test_a_label_keeps_the_order_shown_and_reads_in_the_pairs_terms(annotator):
    pair = make_pair()

    label = services.preference_label_record(
        pair=pair, annotator=annotator, chosen_shown_first=False, choice="a", edited_answer=""
    )

    label.refresh_from_db()
    assert (label.chosen_shown_first, label.choice, label.edited_answer) == (False, "a", "")
    assert label.prefers == "rejected"  # A was the rejected answer on this annotator's screen


def test_labeling_again_replaces_the_annotators_label_and_leaves_others_alone(annotator, curator):
    pair = make_pair()
    services.preference_label_record(pair=pair, annotator=curator, chosen_shown_first=True, choice="b")
    services.preference_label_record(pair=pair, annotator=annotator, chosen_shown_first=True, choice="skip")

    services.preference_label_record(
        pair=pair, annotator=annotator, chosen_shown_first=False, choice="b", edited_answer="Mine, \r\nbetter.\r\n"
    )

    mine = PreferenceLabel.objects.get(pair=pair, annotator=annotator)
    assert (mine.choice, mine.chosen_shown_first, mine.prefers) == ("b", False, "chosen")
    assert mine.edited_answer == "Mine, \nbetter."  # as a browser's textarea sent it, line ends normalised
    assert PreferenceLabel.objects.get(pair=pair, annotator=curator).choice == "b"
    assert pair.labels.count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"choice": "maybe"}, "choice", "Unknown choice 'maybe'"),
        ({"choice": "tie", "edited_answer": "Rewritten."}, "edited_answer", "prefers answer A or B"),
        ({"choice": "skip", "edited_answer": "Rewritten."}, "edited_answer", "prefers answer A or B"),
        ({"chosen_shown_first": "yes"}, "chosen_shown_first", "answer A on screen"),
    ],
)
def test_a_bad_label_names_the_field_and_stores_nothing(annotator, fields, field, message):
    pair = make_pair()
    with pytest.raises(ValidationError) as caught:
        services.preference_label_record(
            pair=pair, annotator=annotator, **{"chosen_shown_first": True, "choice": "a", **fields}
        )
    assert message in caught.value.message_dict[field][0]
    assert not PreferenceLabel.objects.exists()


@pytest.mark.parametrize("review", [Review.FILTERED, Review.REJECTED])
def test_pairs_kept_out_of_exports_cannot_be_labeled(annotator, review):
    pair = make_pair(review=review)
    with pytest.raises(ValidationError) as caught:
        services.preference_label_record(pair=pair, annotator=annotator, chosen_shown_first=True, choice="a")
    assert f"Pair {pair.pk} is" in caught.value.message_dict["pair"][0]


def test_the_queue_holds_open_pairs_the_annotator_has_not_labeled_oldest_first(annotator, curator):
    labeled_by_me = make_pair()
    skipped_by_me = make_pair()
    labeled_by_curator = make_pair()
    approved = make_pair(review=Review.APPROVED)
    make_pair(review=Review.FILTERED)
    make_pair(review=Review.REJECTED)
    fresh = make_pair()
    make_label(pair=labeled_by_me, annotator=annotator)
    make_label(pair=skipped_by_me, annotator=annotator, prefers="skip")
    make_label(pair=labeled_by_curator, annotator=curator)

    queue = list(selectors.preference_pair_queue(annotator=annotator))

    assert queue == [labeled_by_curator, approved, fresh]
    assert selectors.preference_pair_next(annotator=annotator) == labeled_by_curator
    progress = selectors.labeling_progress(annotator=annotator)
    assert (progress.done, progress.total, progress.remaining, progress.percent) == (2, 5, 3, 40)
    assert [p.pk for p in selectors.preference_pair_queue(annotator=curator)] == [
        labeled_by_me.pk, skipped_by_me.pk, approved.pk, fresh.pk
    ]  # fmt: skip


def test_approving_with_an_edit_keeps_the_first_version_of_the_answer(annotator, curator):
    sample = make_sample(answer="First draft.")

    services.instruction_sample_review(sample=sample, reviewer=annotator, decision="approved", answer="Second.\r\n")
    services.instruction_sample_review(sample=sample, reviewer=curator, decision="approved", answer="Third.")

    sample.refresh_from_db()
    assert (sample.answer, sample.original_answer, sample.review) == ("Third.", "First draft.", "approved")
    assert sample.reviewed_by == curator and sample.reviewed_at is not None


def test_approving_an_unchanged_answer_records_no_edit(annotator):
    sample = make_sample(answer="As written.")
    services.instruction_sample_review(sample=sample, reviewer=annotator, decision="approved", answer=" As written.\n")
    sample.refresh_from_db()
    assert (sample.answer, sample.original_answer, sample.reviewed_by) == ("As written.", "", annotator)


def test_rejecting_records_who_and_when(annotator):
    sample = make_sample()
    services.instruction_sample_review(sample=sample, reviewer=annotator, decision="rejected")
    sample.refresh_from_db()
    assert sample.review == "rejected" and sample.reviewed_by == annotator and sample.reviewed_at


@pytest.mark.parametrize(
    ("decision", "answer", "field", "message"),
    [
        ("pending", None, "decision", "Unknown decision 'pending'"),
        ("approved", "  \n", "answer", "cannot be empty"),
        ("rejected", "An edit.", "answer", "only when the sample is approved"),
    ],
)
def test_a_bad_review_names_the_field_and_changes_nothing(annotator, decision, answer, field, message):
    sample = make_sample(answer="Untouched.")
    with pytest.raises(ValidationError) as caught:
        services.instruction_sample_review(sample=sample, reviewer=annotator, decision=decision, answer=answer)
    assert message in caught.value.message_dict[field][0]
    sample.refresh_from_db()
    assert (sample.answer, sample.review, sample.reviewed_by) == ("Untouched.", "pending", None)
