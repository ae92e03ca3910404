"""dataset_version_export: what gets in, labels change the export, the split and leakage, atomic versions."""

import random
from pathlib import Path

import pytest

from apps.chat.models import Conversation, Feedback, Message
from apps.documents.models import Document
from apps.trainsets.export.leakage import prompt_normalise
from apps.trainsets.export.services import ExportError, dataset_version_export
from apps.trainsets.models import DatasetVersion, PreferencePair
from tests.factories import make_author, make_document, make_source
from tests.trainsets.export.conftest import read_both, read_split
from tests.trainsets.factories import make_label, make_pair, make_sample

pytestmark = pytest.mark.django_db


def exported_pairs(version: DatasetVersion) -> dict[int, tuple[str, str]]:
    return {row["pair_id"]: (row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in read_both(version)}


def test_only_approved_samples_are_exported_unless_auto_accept(datasets_dir, settings):
    approved = make_sample(review="approved")
    pending = make_sample()
    make_sample(review="rejected")
    make_sample(review="filtered", filter_reason="too short")
    excluded = make_document(curation_state=Document.Curation.EXCLUDED, exclusion_reason="not theirs")
    make_sample(document=excluded, review="approved")

    version = dataset_version_export(kind="instruct")
    assert {row["sample_id"] for row in read_both(version)} == {approved.pk}
    stats = version.filter_stats
    assert (stats["pending"], stats["rejected"], stats["filtered"], stats["document_excluded"]) == (1, 1, 1, 1)

    settings.TRAINSETS_AUTO_ACCEPT = True
    version = dataset_version_export(kind="instruct")
    assert {row["sample_id"] for row in read_both(version)} == {approved.pk, pending.pk}
    assert version.counts["auto_accepted"] == 1 and version.filter_stats["pending"] == 0


def test_instruct_rows_are_chat_messages_with_the_twin_system_prompt(datasets_dir):
    author = make_author(name="Ada Example")
    sample = make_sample(document=make_document(source=make_source(author=author)), review="approved")
    (row,) = read_both(dataset_version_export(kind="instruct"))
    assert row == {
        "messages": [
            {
                "role": "system",
                "content": "You are the writing twin of Ada Example: answer as they would, in their voice.",
            },
            {"role": "user", "content": sample.instruction},
            {"role": "assistant", "content": sample.answer},
        ],
        "document_id": sample.document_id,
        "sample_id": sample.pk,
        "author": "Ada Example",
    }


def test_labels_decide_the_exported_pair(datasets_dir, annotator, curator):
    as_is = make_pair()
    make_label(pair=as_is, annotator=annotator, prefers="chosen")
    # Shown with the model's answer as A and A picked: "rejected is better", so the pair is swapped.
    swapped = make_pair()
    make_label(pair=swapped, annotator=annotator, chosen_shown_first=False, choice="a")
    edited = make_pair()
    make_label(pair=edited, annotator=annotator, prefers="chosen", edited_answer="An old edit.")
    make_label(pair=edited, annotator=curator, prefers="chosen", edited_answer="The annotator's better words.")
    tie = make_pair()
    make_label(pair=tie, annotator=annotator, prefers="tie")
    both_bad = make_pair(review="approved")
    make_label(pair=both_bad, annotator=annotator, prefers="both_bad")
    split = make_pair()
    make_label(pair=split, annotator=annotator, prefers="chosen")
    make_label(pair=split, annotator=curator, prefers="rejected")
    rejected = make_pair(review="rejected")
    make_label(pair=rejected, annotator=annotator, prefers="chosen")
    make_pair()  # pending and unlabeled
    approved = make_pair(review="approved")

    version = dataset_version_export(kind="preference")
    pairs = exported_pairs(version)
    assert set(pairs) == {as_is.pk, swapped.pk, edited.pk, approved.pk}
    assert pairs[as_is.pk] == (as_is.chosen, as_is.rejected)
    assert pairs[swapped.pk] == (swapped.rejected, swapped.chosen)
    assert pairs[edited.pk] == ("The annotator's better words.", edited.rejected)
    stats = version.filter_stats
    assert (stats["tie"], stats["both_bad"], stats["no_majority"], stats["rejected"], stats["pending"]) == (
        1,
        1,
        1,
        1,
        1,
    )
    assert (version.counts["labeled"], version.counts["swapped"], version.counts["edited"]) == (3, 1, 1)


def test_relabeling_changes_the_next_export(datasets_dir, annotator):
    pair = make_pair()
    label = make_label(pair=pair, annotator=annotator, prefers="chosen")
    assert exported_pairs(dataset_version_export(kind="preference"))[pair.pk][0] == pair.chosen
    label.choice, label.edited_answer = "b", "No: this is what I would say."
    label.save()
    second = dataset_version_export(kind="preference")
    assert exported_pairs(second)[pair.pk] == ("No: this is what I would say.", pair.chosen)
    assert second.number == 2


def random_corpus(rng: random.Random) -> None:
    """Two to twelve documents, some near-duplicates of an earlier original, each with 1-4 approved samples."""
    author = make_author()
    originals: list = []
    for index in range(rng.randint(2, 12)):
        duplicate_of = rng.choice(originals) if index >= 2 and rng.random() < 0.3 else None
        document = make_document(source=make_source(author=author), duplicate_of=duplicate_of)
        originals += [] if duplicate_of else [document]
        for _ in range(rng.randint(1, 4)):
            make_sample(document=document, review="approved")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_no_document_is_ever_on_both_sides(datasets_dir, seed):
    rng = random.Random(seed)
    random_corpus(rng)
    version = dataset_version_export(kind="instruct", test_fraction=rng.choice([0.1, 0.3, 0.5]), seed=seed)
    train, test = read_split(version, "train"), read_split(version, "test")
    root = {d.pk: d.duplicate_of_id or d.pk for d in Document.objects.all()}
    train_docs, test_docs = {row["document_id"] for row in train}, {row["document_id"] for row in test}
    assert train and test  # at least two originals, so at least one group on each side
    assert not train_docs & test_docs
    assert not {root[d] for d in train_docs} & {root[d] for d in test_docs}  # nor a near-duplicate of one
    assert (version.counts["documents_train"], version.counts["documents_test"]) == (len(train_docs), len(test_docs))


def make_feedback_pair(conversation: Conversation, n: int) -> PreferencePair:
    message = Message.objects.create(conversation=conversation, role="assistant", content=f"Twin answer {n}.")
    feedback = Feedback.objects.create(
        message=message, user=conversation.user, rating="down", edited_answer=f"Better answer {n}."
    )
    return PreferencePair.objects.create(
        origin="feedback",
        feedback=feedback,
        prompt=f"Chat question{n}?",  # one word apart would be a near-duplicate
        chosen=feedback.edited_answer,
        rejected=message.content,
        review="approved",
    )


def test_chat_feedback_pairs_are_split_by_conversation(datasets_dir, outsider):
    conversations = [Conversation.objects.create(user=outsider, author_name="Ada Example") for _ in range(4)]
    side_of = {}
    for index, conversation in enumerate(conversations):
        for n in range(3):
            side_of[make_feedback_pair(conversation, index * 10 + n).pk] = conversation.pk
    version = dataset_version_export(kind="preference", test_fraction=0.25)
    train, test = read_split(version, "train"), read_split(version, "test")
    assert len(train) + len(test) == 12 and test
    assert not {side_of[r["pair_id"]] for r in train} & {side_of[r["pair_id"]] for r in test}
    assert all(row["document_id"] is None and row["author"] == "Ada Example" for row in train)
    assert (version.counts["conversations_train"], version.counts["conversations_test"]) == (3, 1)


def test_train_copies_of_test_prompts_are_dropped(datasets_dir):
    first, second = make_document(), make_document()
    for document, prompts in (
        (first, ["How do you back up PostgreSQL?", "Why do you like queues?"]),
        (second, ["how do you back up postgresql", "What is your advice on code review?"]),
    ):
        for prompt in prompts:
            make_sample(document=document, instruction=prompt, review="approved")
    version = dataset_version_export(kind="instruct", test_fraction=0.5)
    train, test = read_split(version, "train"), read_split(version, "test")
    test_prompts = {prompt_normalise(row["messages"][1]["content"]) for row in test}
    assert len(test) == 2 and len(train) == 1
    assert not test_prompts & {prompt_normalise(row["messages"][1]["content"]) for row in train}
    assert version.filter_stats["leakage"] == 1


def test_an_empty_selection_is_refused_and_creates_nothing(datasets_dir):
    make_sample(review="rejected")
    make_sample()
    with pytest.raises(ExportError, match=r"Nothing to export.*pending 1, rejected 1.*TRAINSETS_AUTO_ACCEPT"):
        dataset_version_export(kind="instruct")
    assert not DatasetVersion.objects.exists()
    assert not datasets_dir.exists() or not any(datasets_dir.iterdir())


def test_versions_are_numbered_per_kind_and_never_overwrite(datasets_dir, tmp_path):
    make_pair(sample=make_sample(review="approved"), review="approved")
    first, second = dataset_version_export(kind="instruct"), dataset_version_export(kind="instruct")
    preference = dataset_version_export(kind="preference")
    assert [v.name for v in (first, second, preference)] == ["instruct-v1", "instruct-v2", "preference-v1"]
    assert Path(second.path) == datasets_dir.resolve() / "instruct-v2"
    assert sorted(p.name for p in datasets_dir.iterdir()) == ["instruct-v1", "instruct-v2", "preference-v1"]

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="output_dir"):
        dataset_version_export(kind="instruct", output_dir=occupied)
    assert (occupied / "keep.txt").read_text() == "mine" and DatasetVersion.objects.count() == 3


def test_a_failure_while_writing_leaves_no_files_and_no_version(datasets_dir, settings, monkeypatch):
    make_sample(review="approved")
    settings.HF_TOKEN = "hf_test_token"

    def unreachable(self, repo_id, **kwargs):
        raise ConnectionError("the Hub cannot be reached from here")

    monkeypatch.setattr("datasets.DatasetDict.push_to_hub", unreachable)
    with pytest.raises(ExportError, match="ada/twin-data failed: the Hub cannot be reached"):
        dataset_version_export(kind="instruct", push_to_hub="ada/twin-data")
    assert not DatasetVersion.objects.exists()
    assert list(datasets_dir.iterdir()) == []  # not even the hidden staging directory
