"""Notion's "Markdown & CSV" export: one ``Title <32 hex id>.md`` per page, a database as a CSV of its
rows beside a folder holding each row's page.

A page starts with ``# Title``; a database row's page then lists its properties (``Created: June 14,
2024 7:30 AM``, ``Status: Draft``) before its text. Those lines become the date and the draft state;
the CSV gives them for rows whose page does not. Rows whose status is a draft are skipped unless
``include_drafts``. The page id is left out of titles; image links are removed like any image link.
"""

import csv
import io
import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from apps.sources.crawlers.base import CrawledDocument, CrawlSkipped
from apps.sources.crawlers.exports.archive import ExportEntry, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, parse_datetime
from apps.sources.crawlers.exports.templates import strip_site_markup

NOTION_ID = re.compile(r"\s+[0-9a-f]{32}$")
_PROPERTY = re.compile(r"^([A-Z][\w ]{0,40}):\s+(.+)$")
_DATE_PROPERTIES = ("Published", "Publish date", "Date", "Created", "Created time")
_DRAFT_STATUSES = frozenset({"draft", "not started", "in progress", "idea", "to do"})
_NOTION_DATE_FORMATS = ("%B %d, %Y %I:%M %p", "%B %d, %Y", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def is_notion_export(files: ExportFiles) -> bool:
    return any(NOTION_ID.search(PurePosixPath(name).stem) for name in files.names if name.endswith((".md", ".csv")))


def notion_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    include_drafts = bool(options.get("include_drafts"))
    rows = _database_rows(files)

    def read(name: str) -> CrawledDocument | CrawlSkipped | None:
        return notion_page(name, files.read_text(name), rows=rows, include_drafts=include_drafts)

    return [ExportEntry(name, lambda name=name: read(name)) for name in files.names if name.endswith(".md")]


def _database_rows(files: ExportFiles) -> dict[tuple[str, str], dict[str, str]]:
    """Each database row by (its database's folder, its Name)."""
    rows = {}
    for name in files.names:
        if name.endswith(".csv") and NOTION_ID.search(PurePosixPath(name).stem):
            folder = name.removesuffix(".csv")
            for row in csv.DictReader(io.StringIO(files.read_text(name))):
                rows[(folder, (row.get("Name") or "").strip())] = row
    return rows


def notion_page(
    name: str, text: str, *, rows: dict[tuple[str, str], dict[str, str]], include_drafts: bool
) -> CrawledDocument | CrawlSkipped | None:
    path = PurePosixPath(name)
    lines = text.replace("\r\n", "\n").split("\n")
    title = NOTION_ID.sub("", path.stem)
    if lines and lines[0].startswith("# "):
        title, lines = lines[0][2:].strip(), lines[1:]
    properties, body_start = _properties(lines)
    row = rows.get((str(path.parent), title), {})
    properties = {**row, **properties}
    status = (properties.get("Status") or "").strip().lower()
    if (status in _DRAFT_STATUSES or properties.get("Published", "").lower() == "no") and not include_drafts:
        return CrawlSkipped(name, f"A draft (status {status or 'unpublished'}; set include_drafts).")
    body = strip_site_markup("\n".join(lines[body_start:]))
    body = _unlinked_csv(body)
    if not body.strip():
        return None
    return CrawledDocument(
        url=name,
        text=article_text(title, body),
        title=title,
        raw_content=text,
        published_at=next((d for key in _DATE_PROPERTIES if (d := _notion_date(properties.get(key)))), None),
        metadata={"export": "notion", "file": name, "properties": {k: v for k, v in properties.items() if v}},
    )


def _properties(lines: list[str]) -> tuple[dict[str, str], int]:
    """The "Key: value" block right after the title, and where the text starts."""
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    found = {}
    while index < len(lines) and (match := _PROPERTY.match(lines[index].strip())):
        found[match.group(1)] = match.group(2).strip()
        index += 1
    return (found, index) if found else ({}, 0)


def _unlinked_csv(body: str) -> str:
    # A database page holds only a link to its own CSV: not writing.
    return re.sub(r"^\[[^\]]*\.csv\]\([^)]*\.csv\)\s*$", "", body, flags=re.MULTILINE).strip()


def _notion_date(value: str | None) -> datetime | None:
    value = (value or "").strip()
    for date_format in _NOTION_DATE_FORMATS:
        try:
            return parse_datetime(datetime.strptime(value, date_format))
        except ValueError:
            continue
    return parse_datetime(value) if value else None
