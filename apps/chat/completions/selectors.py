"""The twins a user may talk to, as OpenAI model ids: ``twin-<author slug>`` per author, ``twin`` for all.

An author's slug is made from their name (ASCII, lower case, hyphens), so it is the same on every
installation and across restarts. When two names make the same slug, the older author keeps it and the
newer one's gets its id appended. An author renamed with the old name kept as an alias still answers to
the old id.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
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


def _slugs() -> dict[int, str]:
    """Every author's slug, by author id: computed over all authors, so no user's access changes an id."""
    slugs: dict[int, str] = {}
    taken: set[str] = set()
    for pk, name in Author.objects.order_by("pk").values_list("pk", "name"):
        slug = slugify(name) or f"author-{pk}"
        if slug in taken:
            slug = f"{slug}-{pk}"
        taken.add(slug)
        slugs[pk] = slug
    return slugs


def twins_for(*, user: AbstractBaseUser) -> list[Twin]:
    """The twins the user may talk to: one per readable author, and the all-authors twin when every
    author is readable (it searches them all)."""
    slugs = _slugs()
    readable = list(authors_readable(user=user))
    twins = sorted(
        (Twin(f"{PREFIX}{slugs[a.pk]}", f"{a.name} (twin)", a.name, a.created_at) for a in readable),
        key=lambda twin: twin.id,
    )
    if len(readable) == len(slugs):
        earliest = min((a.created_at for a in readable), default=None)
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
