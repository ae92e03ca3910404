"""Reads of authors and sources."""

import unicodedata

from django.db.models import QuerySet

from apps.sources.models import Author, Source


def name_fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name (or of a question that may contain one)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def author_find(*, name: str) -> Author | None:
    """The author whose name, alias or handle matches, ignoring case and accents. Never creates one."""
    wanted = name_fold(name)
    if not wanted:
        return None
    for author in Author.objects.all():
        names = [author.name, *author.aliases, *author.handles.values()]
        if any(name_fold(candidate) == wanted for candidate in names):
            return author
    return None


def sources_active() -> QuerySet[Source]:
    return Source.objects.filter(active=True).select_related("author")
