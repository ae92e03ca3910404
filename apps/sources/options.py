"""Each source kind's options: their names, types and meaning, checked wherever a source is saved.

The admin (the model's clean), the API and ``add_source --option key=value`` all go through
``source_options_clean``, so a misspelt or mistyped option is refused with a message naming it,
instead of being ignored at crawl time.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

OptionValue = bool | int | str | list[str]


@dataclass(frozen=True)
class Option:
    kind: str  # "bool", "int", "text", "regex", "path", "url", "names", "choice"
    help: str
    minimum: int = 0
    choices: tuple[str, ...] = ()


_AUTHORS = Option("names", "people this source may attribute documents to, by the author its pages state")
_MAX_PAGES = Option("int", "at most this many pages", minimum=1)
KIND_OPTIONS: dict[str, dict[str, Option]] = {
    "article": {"authors": _AUTHORS},
    "feed": {"authors": _AUTHORS},
    "sitemap": {
        "path_filter": Option("regex", "a regular expression searched in each listed URL's path"),
        "max_pages": _MAX_PAGES,
        "authors": _AUTHORS,
    },
    "site": {
        "max_depth": Option("int", "links away from the start page", minimum=0),
        "max_pages": _MAX_PAGES,
        "path_prefix": Option("path", "crawl only under this path (default: the start page's folder)"),
        "authors": _AUTHORS,
    },
    "github": {
        "branch": Option("text", "the branch to clone (default: the repository's default branch)"),
        "extensions": Option("names", "file extensions to read, e.g. .py,.md"),
        "max_file_bytes": Option("int", "larger files are skipped", minimum=1),
    },
    "export": {
        "format": Option(
            "choice", "which service wrote it", choices=("medium", "substack", "linkedin", "notion", "files")
        ),
        "include_drafts": Option("bool", "import drafts and unpublished posts too"),
        "include_responses": Option("bool", "Medium: import responses (comments on others' posts) as short posts"),
        "base_url": Option("url", "Substack: the publication's address, for post URLs"),
        "authors": _AUTHORS,
    },
    "warehouse": {
        "author": Option("text", "keep only this author's documents"),
        "database": Option("text", "the MongoDB database (default: twin)"),
        "authors": _AUTHORS,
    },
}
_TRUE, _FALSE = frozenset({"true", "yes", "1", "on"}), frozenset({"false", "no", "0", "off"})


class OptionError(ValueError):
    """An option the kind does not have, or a value of the wrong type; the message names the option."""


def source_options_clean(*, kind: str, options: Any) -> dict[str, OptionValue]:
    """The options with their values checked and typed (text from a form or a command line is converted)."""
    if not isinstance(options, dict):
        raise OptionError("Options are a JSON object of option names and values.")
    known = KIND_OPTIONS.get(kind, {})
    cleaned = {}
    for name, value in options.items():
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            raise OptionError(f'"{name}" is not an option of {kind} sources (they take: {names}).')
        cleaned[name] = _checked(name, value, known[name])
    return cleaned


def option_parse(text: str) -> tuple[str, str]:
    """``key=value`` from a command line (the value is typed later, by the kind's option)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise OptionError(f'"{text}" is not an option: write it as name=value, e.g. include_drafts=true.')
    return name.strip(), value.strip()


def _checked(name: str, value: Any, option: Option) -> OptionValue:
    check = _CHECKS[option.kind]
    try:
        return check(value, option)
    except (TypeError, ValueError, re.error) as exc:
        raise OptionError(f'Option "{name}": {exc}') from None


def _bool(value: Any, option: Option) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{value!r} is not true or false.")


def _int(value: Any, option: Option) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
        raise ValueError(f"{value!r} is not a whole number.")
    number = int(value)
    if number < option.minimum:
        raise ValueError(f"{number} is below the least allowed, {option.minimum}.")
    return number


def _text(value: Any, option: Option) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a non-empty text.")
    return value.strip()


def _regex(value: Any, option: Option) -> str:
    re.compile(_text(value, option))
    return value.strip()


def _path(value: Any, option: Option) -> str:
    path = _text(value, option)
    if not path.startswith("/"):
        raise ValueError(f"{path!r} must start with /.")
    return path


def _url(value: Any, option: Option) -> str:
    url = _text(value, option)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) address.")
    return url.rstrip("/")


def _names(value: Any, option: Option) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{value!r} is not a list of names (a JSON list, or names separated by commas).")
    names = [item.strip() for item in items if item.strip()]
    if not names:
        raise ValueError("the list is empty.")
    return names


def _choice(value: Any, option: Option) -> str:
    text = _text(value, option)
    if text not in option.choices:
        raise ValueError(f"{text!r} is not one of {', '.join(option.choices)}.")
    return text


_CHECKS: dict[str, Callable[[Any, Option], OptionValue]] = {
    "bool": _bool,
    "int": _int,
    "text": _text,
    "regex": _regex,
    "path": _path,
    "url": _url,
    "names": _names,
    "choice": _choice,
}
