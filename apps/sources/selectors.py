"""Reads of authors and sources."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from apps.sources.models import Author, Source
from lib.errors import TwinsiteError
from lib.text.names import name_candidates, name_fold


class AuthorNotFound(TwinsiteError):
    """No author has that name, alias or handle."""


def author_find(*, name: str) -> Author | None:
    """The author whose name, alias or handle matches, ignoring case, accents and punctuation. Never creates one.

    The one author lookup: commands, the API, self-query, dataset generation and the registry all call it.
    """
    wanted = name_fold(name)
    if not wanted:
        return None
    return Author.objects.filter(folded_names__contains=[wanted]).order_by("pk").first()


def author_get(*, name: str) -> Author:
    """author_find, or AuthorNotFound naming the authors there are."""
    author = author_find(name=name)
    if author is None:
        known = ", ".join(Author.objects.order_by("name").values_list("name", flat=True)[:20]) or "none yet"
        raise AuthorNotFound(f"No author is called {name.strip()!r}. Known authors: {known}.")
    return author


def authors_mentioned(*, text: str) -> list[Author]:
    """Authors whose name, alias or handle appears in text as whole words (one indexed query)."""
    candidates = name_candidates(text)
    if not candidates:
        return []
    return list(Author.objects.filter(folded_names__overlap=candidates).order_by("pk"))


def authors_readable(*, user: AbstractBaseUser) -> QuerySet[Author]:
    """The authors whose twin this user may talk to and whose writing they may read through it.

    Public authors, and restricted ones naming the user or one of their groups; staff and superusers read
    every author; an anonymous or inactive user none.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Author.objects.none()
    if user.is_staff or user.is_superuser:
        return Author.objects.all()
    named = Author.readers.through.objects.filter(user_id=user.pk).values("author_id")
    by_group = Author.reader_groups.through.objects.filter(group__user=user).values("author_id")
    return Author.objects.filter(Q(access=Author.Access.PUBLIC) | Q(pk__in=named) | Q(pk__in=by_group))


def readable_author_ids(*, user: AbstractBaseUser) -> tuple[int, ...] | None:
    """authors_readable as ids, for retrieval; None when the user reads every author (no restriction)."""
    if user is not None and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser):
        return None
    readable = tuple(authors_readable(user=user).order_by("pk").values_list("pk", flat=True))
    if not Author.objects.exclude(pk__in=readable).exists():
        return None  # every author: searches need no author clause (and keep their fastest plans)
    return readable


def sources_active() -> QuerySet[Source]:
    return Source.objects.filter(active=True).select_related("author")


@dataclass(frozen=True)
class AuthorProfile:
    name: str
    bio: str
    titles: list[str]  # of their most recent included documents


def author_profiles(*, author_ids: Sequence[int] | None = None, limit: int = 3, titles: int = 5) -> list[AuthorProfile]:
    """Who the twin speaks for: the given authors (all, when None), with their bio and recent titles."""
    from apps.documents.models import Document

    authors = Author.objects.all() if author_ids is None else Author.objects.filter(pk__in=author_ids)
    profiles = []
    for author in authors.order_by("name")[:limit]:
        recent = (
            Document.objects.filter(author=author, curation_state="included", gone_at__isnull=True)
            .exclude(title="")
            .order_by("-published_at", "-created_at")
            .values_list("title", flat=True)
            .distinct()[:titles]
        )
        profiles.append(AuthorProfile(name=author.name, bio=author.bio.strip(), titles=list(recent)))
    return profiles
