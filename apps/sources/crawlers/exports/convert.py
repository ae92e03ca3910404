"""Export post bodies -> text, through the one HTML writer (lib.html_text) the web path uses too; and dates.

Export bodies are the author's own post HTML with no site chrome around it, so they need
conversion, not boilerplate removal: a post read from a feed and the same post read from an
export become the same text.
"""

from datetime import UTC, date, datetime

from lib.html_text import html_to_text

__all__ = ["article_text", "html_to_text", "parse_datetime"]


def article_text(title: str, body: str, *, subtitle: str = "") -> str:
    """The document text: a title heading (unless the body starts with it), the subtitle, then the body."""
    body = body.strip()
    first_line = body.split("\n", 1)[0]
    has_title = first_line.startswith("#") and first_line.lstrip("#").strip() == title.strip()
    parts = [f"# {title.strip()}" if title.strip() and not has_title else "", subtitle.strip(), body]
    return "\n\n".join(part for part in parts if part)


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime from an ISO 8601 text, ``2021-03-04 10:20:30`` or a date; UTC when unstated."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
