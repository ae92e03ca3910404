"""The twins a user may talk to, as OpenAI model ids: ``twin-<author slug>`` per author, ``twin`` for all.

An author's slug is made from their name (ASCII, lower case, hyphens), so it is the same on every
installation and across restarts. When two names make the same slug, the older author keeps it and the
newer one's gets its id appended. An author renamed with the old name kept as an alias still answers to
the old id.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.utils.text import slugify

from apps.sources.models import Author
from apps.sources.selectors import authors_readable

ALL_AUTHORS = "twin"
PREFIX = "twin-"


@dataclass(frozen=True)
class Twin:
    id: str
    name: str
    author: str | None  # the author name the RAG graph filters on; None: every author
    created: datetime | None
    author_id: int | None = None

    @property
    def author_ids(self) -> list[int] | None:
        """The author filter the twin's questions run with, as the graph holds it."""
        return [self.author_id] if self.author_id is not None else None


def twins_for(*, user: AbstractBaseUser) -> list[Twin]:
    """The twins the user may talk to: one per readable author, and the all-authors twin when every
    author is readable (it searches them all). One query: slugs are computed over all authors, so no
    user's access changes an id."""
    readable = authors_readable(user=user).filter(pk=OuterRef("pk"))
    authors = Author.objects.order_by("pk").annotate(readable=Exists(readable))
    twins, taken, everyone = [], set(), True
    for author in authors.only("pk", "name", "created_at"):
        slug = slugify(author.name) or f"author-{author.pk}"
        if slug in taken:
            slug = f"{slug}-{author.pk}"
        taken.add(slug)
        if author.readable:
            twins.append(Twin(f"{PREFIX}{slug}", f"{author.name} (twin)", author.name, author.created_at, author.pk))
        everyone = everyone and author.readable
    twins.sort(key=lambda twin: twin.id)
    if everyone:
        earliest = min((twin.created for twin in twins), default=None)
        twins.insert(0, Twin(ALL_AUTHORS, "All authors (twin)", None, earliest))
    return twins


def twin_get(*, user: AbstractBaseUser, model: str) -> Twin | None:
    """The twin a model id names, among those the user may talk to (an old name kept as alias matches too)."""
    twins = twins_for(user=user)
    found = next((twin for twin in twins if twin.id == model), None)
    if found is not None or not model.startswith(PREFIX):
        return found
    wanted = model.removeprefix(PREFIX)
    by_name = {twin.author: twin for twin in twins if twin.author}
    for author in authors_readable(user=user).filter(name__in=by_name):
        if any(slugify(alias) == wanted for alias in author.aliases):
            return by_name[author.name]
    return None
