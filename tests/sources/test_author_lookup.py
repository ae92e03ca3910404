"""One author lookup for every entry point: names, aliases and handles, ignoring case, accents and punctuation."""

import pytest
from django.core.management import CommandError, call_command

from apps.sources.models import Author
from apps.sources.selectors import AuthorNotFound, author_find, author_get, authors_mentioned

pytestmark = pytest.mark.django_db


@pytest.fixture
def zoe():
    return Author.objects.create(name="Zoë O’Brien", aliases=["ZOB"], handles={"github": "zoe-obrien"})


@pytest.mark.parametrize("asked", ["zoe o'brien", "ZOË O’BRIEN", "  Zoe   O Brien ", "zob", "@zoe-obrien"])
def test_every_spelling_of_a_name_alias_or_handle_finds_the_author(zoe, asked):
    assert author_find(name=asked) == zoe
    assert author_get(name=asked) == zoe


def test_a_renamed_author_is_found_by_the_new_name_only(zoe):
    zoe.name = "Zoë Quinn"
    zoe.save(update_fields=["name"])
    assert author_find(name="zoe quinn") == zoe
    assert author_find(name="zoe o'brien") is None


def test_an_unknown_name_is_refused_with_the_known_authors(zoe):
    with pytest.raises(AuthorNotFound, match=r"No author is called 'Ada'\. Known authors: Zoë O’Brien\."):
        author_get(name="Ada")
    assert author_find(name="  ") is None


def test_a_question_mentions_authors_by_whole_words_only(zoe):
    ada = Author.objects.create(name="Ada", handles={"medium": "@ada"})
    assert authors_mentioned(text="What did zoe o'brien write about Postgres?") == [zoe]
    assert authors_mentioned(text="Ask @ada and ZOB") == [zoe, ada]
    assert authors_mentioned(text="Canada has lakes") == []  # "ada" inside a word is not a mention


def test_commands_use_the_same_lookup_as_self_query(zoe):
    # build_twin and generate_datasets used to match names exactly: an alias found nobody.
    with pytest.raises(CommandError, match="--author: No author is called 'Nobody'"):
        call_command("build_twin", "--author", "Nobody")
    with pytest.raises(CommandError, match="--author: No author is called 'Nobody'"):
        call_command("generate_datasets", "--author", "Nobody", "--sync")
    assert author_get(name="zob") == zoe  # the alias that ask --author already found
