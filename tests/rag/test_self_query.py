"""self_query's matcher: known authors by name, alias or handle (case and accents ignored), platforms, years."""

import pytest

from apps.rag.query_filters import filters_extract
from apps.sources.models import Author
from tests.factories import make_author, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def authors():
    zoe = make_author(name="Zoë Ångström", aliases=["Zoe A."], handles={"github": "zangstrom"})
    paul = make_author(name="Paul Iusztin")
    make_source(author=zoe, kind="github", url="https://github.com/zangstrom/engine")
    make_source(author=paul, kind="article", url="https://paul.example/post")
    return zoe, paul


@pytest.mark.parametrize(
    "question",
    [
        "What does zoe angstrom think about vector search?",
        "what did ZOË ÅNGSTRÖM write on backups",
        "Summarise @zangstrom's take on queues",
        "Has Zoe A. written about Postgres?",
    ],
)
def test_an_author_is_recognised_by_name_alias_or_handle(authors, question):
    zoe, _ = authors
    assert filters_extract(question=question)["author_ids"] == [zoe.pk]


def test_partial_words_do_not_match_and_nothing_is_created(authors):
    before = Author.objects.count()
    filters = filters_extract(question="What did Paula say about Iusztinian law, and what did Zoe Smith write?")
    assert "author_ids" not in filters
    filters = filters_extract(question="anything", author="Nobody Known")
    assert filters == {"unknown_author": "Nobody Known"}
    assert Author.objects.count() == before


def test_the_caller_can_name_the_author(authors):
    _, paul = authors
    assert filters_extract(question="what about caching?", author="paul iusztin")["author_ids"] == [paul.pk]


def test_platforms_map_to_existing_source_kinds_only(authors):
    assert filters_extract(question="What code did she put on GitHub?")["source_kinds"] == ["github"]
    assert "source_kinds" not in filters_extract(question="Anything on LinkedIn?")  # no export sources exist


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did he write in 2021?", {"published_after": "2021-01-01", "published_before": "2022-01-01"}),
        ("posts since 2019 about RAG", {"published_after": "2019-01-01"}),
        ("before 2020, what was the plan?", {"published_before": "2020-01-01"}),
        ("between 2020 and 2018", {"published_after": "2018-01-01", "published_before": "2021-01-01"}),
        ("the 2021 numbers", {}),
    ],
)
def test_years_become_date_ranges(authors, question, expected):
    filters = filters_extract(question=question)
    assert {k: v for k, v in filters.items() if k.startswith("published")} == expected
