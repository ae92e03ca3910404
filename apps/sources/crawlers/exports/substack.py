"""Substack's export zip: ``posts.csv`` (one row per post) and ``posts/<post_id>.html`` bodies.

Post URLs are ``<publication>/p/<slug>``, the slug taken from ``post_id`` ("123456.my-post"). The
export does not name the publication, but the bodies' own subscribe and share buttons link to it, so
it is read from there; the option ``base_url`` (e.g. "https://jane.substack.com") overrides it. Only
when neither is known is the body file's path the URL. Subscribe and share widgets are dropped by
the HTML writer. Paid-only posts are whole in the export and kept (``audience`` in the metadata);
a podcast episode without show notes has no text to keep and is skipped with that reason.
"""

import csv
import io
import re
from collections import Counter
from typing import Any

from apps.sources.crawlers.base import CrawledDocument, CrawlSkipped
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime

_SHORT_TYPES = frozenset({"thread"})  # discussion threads are posts; newsletters, podcasts, videos articles
# The publication's own links in a body: its subscribe page, or a share link to one of its posts.
_PUBLICATION_LINK = re.compile(r"""(https?://[A-Za-z0-9.-]+)/(?:subscribe\b|p/[A-Za-z0-9-]+\?[^"'\s]*action=share)""")


def substack_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    rows = list(csv.DictReader(io.StringIO(files.read_text("posts.csv"))))
    if rows and "post_id" not in rows[0]:
        raise ExportError(f"posts.csv in {files.label} has no post_id column; is it a Substack export?")
    include_drafts = bool(options.get("include_drafts"))
    base_url = str(options.get("base_url") or "").rstrip("/")

    def read(row: dict[str, str]) -> CrawledDocument | CrawlSkipped | None:
        if not include_drafts and (row.get("is_published") or "").lower() != "true":
            return CrawlSkipped(_body_file(row), "A draft (set include_drafts to import drafts).")
        return substack_post(files, row, base_url=base_url)

    return [ExportEntry(_body_file(row), lambda row=row: read(row)) for row in rows if row.get("post_id")]


def _body_file(row: dict[str, str]) -> str:
    return f"posts/{row['post_id']}.html"


def publication_url(html: str) -> str:
    """The publication's address as the body's own buttons link to it ("" when they do not)."""
    found = Counter(match.group(1).lower() for match in _PUBLICATION_LINK.finditer(html))
    return found.most_common(1)[0][0] if found else ""


def substack_post(files: ExportFiles, row: dict[str, str], *, base_url: str) -> CrawledDocument | CrawlSkipped:
    post_id = row["post_id"]
    body_file = _body_file(row)
    if body_file not in files.names:
        raise ExportError(f"The export has no body file {body_file} for the post {row.get('title') or post_id!r}.")
    html = files.read_text(body_file)
    title, subtitle = (row.get("title") or "").strip(), (row.get("subtitle") or "").strip()
    post_type = (row.get("type") or "newsletter").strip()
    body = html_to_text(html)
    if not body:
        what = "A podcast episode without show notes" if post_type == "podcast" else "A post with an empty body"
        return CrawlSkipped(body_file, f"{what}: no text to keep.")
    slug = post_id.split(".", 1)[1] if "." in post_id else ""
    publication = base_url or publication_url(html)
    return CrawledDocument(
        url=f"{publication}/p/{slug}" if publication and slug else body_file,
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
            **({"podcast_url": row["podcast_url"]} if row.get("podcast_url") else {}),
        },
    )
