"""Markdown files as static-site generators write them: optional front matter, then the body."""

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from apps.sources.crawlers.exports.convert import parse_datetime

# YAML between --- lines (Jekyll, Hugo, Eleventy, Astro) or TOML between +++ lines (Hugo).
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\r?\n(.*?)\r?\n\1[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class MarkdownParts:
    body: str
    title: str = ""
    published_at: datetime | None = None
    draft: bool = False
    author: str = ""
    language: str = ""


def markdown_parts(text: str) -> MarkdownParts:
    """Splits off front matter (``title``, ``date``, ``draft``, ``author``, ``lang``); the title falls back
    to the first ``# `` heading. Front matter that does not parse is left in the body, as written."""
    match = _FRONT_MATTER.match(text)
    front: dict[str, Any] = {}
    body = text
    if match:
        try:
            loaded = tomllib.loads(match.group(2)) if match.group(1) == "+++" else yaml.safe_load(match.group(2))
        except (yaml.YAMLError, tomllib.TOMLDecodeError):
            loaded = None
        if isinstance(loaded, dict):
            front, body = loaded, text[match.end() :]
    heading = _HEADING.search(body)
    title = _text(front.get("title")) or (heading.group(1).strip() if heading else "")
    return MarkdownParts(
        body=body.strip("\n"),
        title=title,
        published_at=parse_datetime(front.get("date") or front.get("published") or front.get("pubDate")),
        draft=front.get("draft") is True or str(front.get("published", "")).lower() == "false",
        author=_text(front.get("author")),
        language=_text(front.get("lang") or front.get("language")),
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
