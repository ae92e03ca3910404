"""Whose writing each crawled document is, for sources that carry several people's (option ``authors``).

Without the option every document is the source author's, as before. With it, a document whose page,
export or dump names its author is attributed to that person, found through ``author_find`` (names,
aliases and handles, case and accents ignored) or created, but only when that name is one of those
the option lists: a source cannot write into another person's twin by accident.
"""

from apps.sources.models import Author, Source
from apps.sources.selectors import author_find
from lib.text.names import name_fold


class AuthorNotAllowed(Exception):
    """The document names an author this source may not attribute to."""


class Attribution:
    def __init__(self, source: Source) -> None:
        self._source = source
        listed = source.options.get("authors") or []
        self._allowed = {name_fold(name): name.strip() for name in listed if isinstance(name, str) and name.strip()}
        self._cache: dict[str, Author] = {}

    @property
    def enabled(self) -> bool:
        return bool(self._allowed)

    def author_for(self, stated: str) -> Author:
        """The Author a document stating ``stated`` as its author belongs to; AuthorNotAllowed if none may."""
        if not self._allowed or not stated.strip():
            return self._source.author
        key = name_fold(stated)
        if key not in self._cache:
            self._cache[key] = self._resolve(stated, key)
        return self._cache[key]

    def _resolve(self, stated: str, key: str) -> Author:
        found = author_find(name=stated)
        if found is not None and found.pk == self._source.author_id:
            return found
        if found is not None and any(name_fold(n) in self._allowed for n in (found.name, *found.aliases)):
            return found
        if found is None and key in self._allowed:
            return Author.objects.get_or_create(name=self._allowed[key])[0]
        allowed = ", ".join(sorted(self._allowed.values()))
        raise AuthorNotAllowed(
            f"it is by {stated.strip()}, who is not among the authors this source may attribute to ({allowed})"
        )
