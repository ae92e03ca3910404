"""Filters a question states: who wrote it, on which platform, and when. Deterministic, and never writes.

Authors match by name, alias or handle, ignoring case and accents, as whole words.
Platforms map to source kinds that exist. Years: "in 2021", "since 2019",
"before 2020", "between 2018 and 2020".
"""

import re
from datetime import date
from typing import Any

from apps.sources.models import Author, Source
from apps.sources.selectors import author_find, authors_mentioned
from lib.text.names import name_fold

_PLATFORMS = {
    "github": "github",
    "gitlab": "github",
    "repository": "github",
    "repo": "github",
    "blog": "article",
    "feed": "feed",
    "medium": "export",
    "substack": "export",
    "linkedin": "export",
}
_YEAR = r"((?:19|20)\d\d)"
_BETWEEN = re.compile(rf"\bbetween {_YEAR} and {_YEAR}\b")
_SINCE = re.compile(rf"\b(?:since|after|from) {_YEAR}\b")
_BEFORE = re.compile(rf"\b(?:before|until|prior to) {_YEAR}\b")
_IN = re.compile(rf"\b(?:in|during) {_YEAR}\b")


def _mentions(folded_question: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded_question) is not None


def _authors(question: str, explicit: str | None, readable: tuple[int, ...] | None) -> list[Author]:
    """The authors meant, among those the caller may read: one they may not is treated as unknown, so the
    answer (and the filters shown) are the same as for a name nobody has."""
    if explicit:
        found = author_find(name=explicit)
        authors = [found] if found else []
    else:
        authors = authors_mentioned(text=question)
    return [a for a in authors if readable is None or a.pk in readable]


def _dates(folded: str) -> dict[str, str]:
    if match := _BETWEEN.search(folded):
        first, last = sorted(int(y) for y in match.groups())
        return {"published_after": date(first, 1, 1).isoformat(), "published_before": date(last + 1, 1, 1).isoformat()}
    found = {}
    if match := _SINCE.search(folded):
        found["published_after"] = date(int(match.group(1)), 1, 1).isoformat()
    if match := _BEFORE.search(folded):
        found["published_before"] = date(int(match.group(1)), 1, 1).isoformat()
    if not found and (match := _IN.search(folded)):
        year = int(match.group(1))
        found = {"published_after": date(year, 1, 1).isoformat(), "published_before": date(year + 1, 1, 1).isoformat()}
    return found


def filters_extract(
    *, question: str, author: str | None = None, readable_author_ids: tuple[int, ...] | None = None
) -> dict[str, Any]:
    """The filters the question (and an author named by the caller) imply, as JSON-ready values.

    ``readable_author_ids``: the authors the caller may read (None: all); no other author is ever matched.
    """
    folded = name_fold(question)
    filters: dict[str, Any] = {}
    authors = _authors(question, author, readable_author_ids)
    if authors:
        filters["author_ids"] = [a.pk for a in authors]
        filters["authors"] = [a.name for a in authors]
    elif author:
        filters["unknown_author"] = author
    known_kinds = set(Source.objects.values_list("kind", flat=True).distinct())
    kinds = sorted({kind for word, kind in _PLATFORMS.items() if _mentions(folded, word) and kind in known_kinds})
    if kinds:
        filters["source_kinds"] = kinds
    return {**filters, **_dates(folded)}
