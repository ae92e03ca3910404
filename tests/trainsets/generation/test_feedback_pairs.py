"""Chat feedback with an edited answer becomes a preference pair: the edit chosen over the twin's answer."""

import pytest

from apps.chat.models import Conversation, Feedback, Message
from apps.monitoring.models import Trace
from apps.trainsets.generation.pairs import preference_pairs_from_feedback
from apps.trainsets.models import PreferencePair
from tests.factories import make_author

pytestmark = pytest.mark.django_db

ORIGINAL = "Backups are important. You should do them regularly with a tool."
EDITED = "Every night a cron job runs pg_dump against the replica, and once a month I restore it to check."


def feedback_on(user, *, edited: str, author_name: str = "Ada Example", question: str = "How do you back up?"):
    conversation = Conversation.objects.create(user=user, author_name=author_name)
    Message.objects.create(conversation=conversation, role="user", content="Hello there")
    Message.objects.create(conversation=conversation, role="assistant", content="Hi!")
    Message.objects.create(conversation=conversation, role="user", content=question)
    trace = Trace.objects.create(question=question, model="/models/twin-v3")
    answer = Message.objects.create(conversation=conversation, role="assistant", content=ORIGINAL, trace=trace)
    Message.objects.create(conversation=conversation, role="user", content="A later question")
    return Feedback.objects.create(message=answer, user=user, rating="down", edited_answer=edited)


def test_edited_answer_becomes_a_pair_once(curator):
    ada = make_author(name="Ada Example", aliases=["ada"])
    feedback = feedback_on(curator, edited=EDITED, author_name="ada")
    feedback_on(curator, edited="")  # rated without an edit: nothing to learn from

    tally = preference_pairs_from_feedback()

    pair = PreferencePair.objects.get()
    assert (pair.origin, pair.feedback, pair.author, pair.document, pair.sample) == (
        "feedback",
        feedback,
        ada,
        None,
        None,
    )
    assert (pair.prompt, pair.chosen, pair.rejected) == ("How do you back up?", EDITED, ORIGINAL)
    assert (pair.rejected_model, pair.review) == ("/models/twin-v3", "pending")
    assert tally.pairs_created == 1
    assert preference_pairs_from_feedback().pairs_created == 0
    assert PreferencePair.objects.count() == 1


def test_an_edit_that_changes_nothing_is_filtered(curator):
    feedback_on(curator, edited=f"  {ORIGINAL}\n")

    tally = preference_pairs_from_feedback()

    pair = PreferencePair.objects.get()
    assert (pair.review, pair.filter_reason) == ("filtered", "rejected_same_as_chosen")
    assert tally.dropped == {"rejected_same_as_chosen": 1}


def test_sweep_for_one_author_leaves_other_conversations_for_later(curator):
    ada, bob = make_author(name="Ada Example"), make_author(name="Bob Writer")
    feedback_on(curator, edited=EDITED, author_name="Bob Writer")

    assert preference_pairs_from_feedback(author=ada).pairs_created == 0
    assert preference_pairs_from_feedback(author=bob).pairs_created == 1
    assert PreferencePair.objects.get().author == bob
