"""A handful of posts: something is always held out when it can be, and the export says what went where."""

import pytest

from apps.trainsets.export.services import ExportError, dataset_version_export
from apps.trainsets.models import DatasetVersion
from tests.factories import make_chunk, make_document
from tests.trainsets.export.conftest import read_split
from tests.trainsets.factories import make_sample

pytestmark = pytest.mark.django_db

SECTIONS = {
    "## Backups": "pg_dump every night, WAL archiving all day, and a restore drill every month.",
    "## Queues": "A queue turns a spike into a backlog, and a backlog can wait until morning.",
    "## Reviews": "Review the design first, the names second, and the commas never at all.",
    "## Naming": "Name a thing after what it is in the domain, not after how it is stored.",
}


def sectioned_post(samples_per_section: int = 3):
    """One long post of four sections, a chunk each, and samples on every chunk, as generation makes them."""
    document = make_document(text="\n\n".join(SECTIONS.values()))
    samples = {}
    for heading, body in SECTIONS.items():
        chunk = make_chunk(document=document, text=f"# A long post\n{heading}\n{body}")
        for n in range(samples_per_section):
            sample = make_sample(
                document=document,
                extract=body,
                instruction=f"{heading[3:]} question number {n}?",
                review="approved",
                ordinal=n,
            )
            sample.chunks.set([chunk])
            samples[sample.pk] = heading
    return document, samples


def test_one_article_with_twelve_samples_is_split_by_section(datasets_dir):
    _, section_of = sectioned_post(samples_per_section=3)

    version = dataset_version_export(kind="instruct", test_fraction=0.25, require_test=True)

    train, test = read_split(version, "train"), read_split(version, "test")
    assert (len(train), len(test)) == (9, 3)
    train_sections = {section_of[row["sample_id"]] for row in train}
    test_sections = {section_of[row["sample_id"]] for row in test}
    assert len(train_sections) == 3 and len(test_sections) == 1 and not train_sections & test_sections
    counts = version.counts
    assert (counts["sections_train"], counts["sections_test"], counts["documents_test"]) == (3, 1, 1)
    assert (
        version.split_summary
        == "train 9 samples from 3 sections of 1 document; test 3 samples from 1 section of 1 document"
    )


def test_sections_that_repeat_each_other_lose_the_training_copy(datasets_dir):
    document, section_of = sectioned_post(samples_per_section=1)
    repeated = make_chunk(document=document, text="# A long post\n## Summary\n" + "\n".join(SECTIONS.values()))
    for n, body in enumerate(SECTIONS.values()):  # the summary repeats each section's text, with new questions
        sample = make_sample(
            document=document, extract=body, instruction=f"Tell me more: {body[:9]}", review="approved", ordinal=10 + n
        )
        sample.chunks.set([repeated])

    version = dataset_version_export(kind="instruct", test_fraction=0.2, require_test=True)

    assert (version.counts["train"], version.counts["test"], version.filter_stats["leakage"]) == (6, 1, 1)
    test_answer = read_split(version, "test")[0]["messages"][-1]["content"]
    assert test_answer not in [row["messages"][-1]["content"] for row in read_split(version, "train")]


def test_one_article_with_one_extract_is_refused_before_anything_is_written(datasets_dir):
    document = make_document()
    for n in range(12):
        make_sample(
            document=document, extract="The one passage.", instruction=f"Question {n}?", review="approved", ordinal=n
        )

    with pytest.raises(ExportError, match=r"Nothing can be held out.*all 12 instruct items come from 1 document"):
        dataset_version_export(kind="instruct", require_test=True)
    assert not DatasetVersion.objects.exists() and not datasets_dir.exists()


def test_without_headings_each_extract_of_the_one_article_is_a_group(datasets_dir):
    document = make_document()
    for n in range(12):
        make_sample(
            document=document, extract=f"Passage {n // 2}.", instruction=f"Question {n}?", review="approved", ordinal=n
        )

    version = dataset_version_export(kind="instruct", test_fraction=0.1, require_test=True)

    assert (version.counts["train"], version.counts["test"]) == (10, 2)  # two samples share each extract
    assert (version.counts["sections_train"], version.counts["sections_test"]) == (5, 1)


@pytest.mark.parametrize(("per_article", "test_count"), [((8, 8, 8), 8), ((22, 1, 1), 2)])
def test_three_articles_at_a_tenth_hold_out_at_least_one_and_never_most(datasets_dir, per_article, test_count):
    for size in per_article:
        document = make_document()
        for n in range(size):
            make_sample(document=document, instruction=f"Post{document.pk} question{n}?", review="approved")

    version = dataset_version_export(kind="instruct", test_fraction=0.1)

    assert (version.counts["train"], version.counts["test"]) == (24 - test_count, test_count)
    assert "sections_test" not in version.counts
