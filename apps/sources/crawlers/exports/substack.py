"""Substack's export zip: ``posts.csv`` (one row per post) and ``posts/<post_id>.html`` bodies.

The export does not name the publication, so post URLs are built from the option
``base_url`` (e.g. "https://jane.substack.com") and the slug in ``post_id``
("123456.my-post" -> /p/my-post); without it the body file's path is the URL.
"""

import csv
import io
from typing import Any

from apps.sources.crawlers.base import CrawledDocument
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime

_SHORT_TYPES = frozenset({"thread"})  # discussion threads are posts; newsletters, podcasts, videos articles


def substack_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    rows = list(csv.DictReader(io.StringIO(files.read_text("posts.csv"))))
    if rows and "post_id" not in rows[0]:
        raise ExportError(f"posts.csv in {files.label} has no post_id column; is it a Substack export?")
    include_drafts = bool(options.get("include_drafts"))
    base_url = str(options.get("base_url") or "").rstrip("/")
    return [
        ExportEntry(f"posts/{row['post_id']}.html", lambda row=row: substack_post(files, row, base_url=base_url))
        for row in rows
        if row.get("post_id") and (include_drafts or (row.get("is_published") or "").lower() == "true")
    ]


def substack_post(files: ExportFiles, row: dict[str, str], *, base_url: str) -> CrawledDocument | None:
    post_id = row["post_id"]
    body_file = f"posts/{post_id}.html"
    if body_file not in files.names:
        raise ExportError(f"The export has no body file {body_file} for the post {row.get('title') or post_id!r}.")
    html = files.read_text(body_file)
    title, subtitle = (row.get("title") or "").strip(), (row.get("subtitle") or "").strip()
    body = html_to_text(html)
    if not body:
        return None  # e.g. a podcast episode with no show notes
    slug = post_id.split(".", 1)[1] if "." in post_id else ""
    post_type = (row.get("type") or "newsletter").strip()
    return CrawledDocument(
        url=f"{base_url}/p/{slug}" if base_url and slug else body_file,
        text=article_text(title, body, subtitle=subtitle),
        title=title,
        raw_content=html,
        content_type="post" if post_type in _SHORT_TYPES else "article",
        published_at=parse_datetime(row.get("post_date")),
        metadata={
            "export": "substack",
            "post_id": post_id,
            "type": post_type,
            "subtitle": subtitle,
            "audience": row.get("audience") or "",
            "published": (row.get("is_published") or "").lower() == "true",
        },
    )
