"""LinkedIn's data archive zip: ``Shares.csv`` (the author's posts) and ``Articles/Articles/*.html``."""

import csv
import io
import re
from datetime import datetime
from typing import Any

import lxml.html

from apps.sources.crawlers.base import CrawledDocument
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime

ARTICLES_FOLDER = "Articles/Articles"
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?)")


def linkedin_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    entries = []
    if "Shares.csv" in files.names:
        rows = list(csv.DictReader(io.StringIO(files.read_text("Shares.csv"))))
        if rows and "ShareCommentary" not in rows[0]:
            raise ExportError(f"Shares.csv in {files.label} has no ShareCommentary column.")
        for number, row in enumerate(rows, start=2):  # line 1 is the header
            entries.append(ExportEntry(f"Shares.csv line {number}", lambda row=row, n=number: linkedin_share(row, n)))
    for name in files.in_folder(ARTICLES_FOLDER, (".html", ".htm")):
        entries.append(ExportEntry(name, lambda name=name: linkedin_article(name, files.read_text(name))))
    return entries


def linkedin_share(row: dict[str, str], number: int) -> CrawledDocument | None:
    commentary = (row.get("ShareCommentary") or "").replace("\r\n", "\n").strip()
    if not commentary:
        return None  # a re-share without words of the author's own
    first_line = commentary.split("\n", 1)[0]
    return CrawledDocument(
        url=(row.get("ShareLink") or "").strip() or f"Shares.csv#line-{number}",
        text=commentary,
        title=first_line if len(first_line) <= 80 else first_line[:80].rsplit(" ", 1)[0] + "…",
        raw_content=commentary,
        content_type="post",
        published_at=parse_datetime(row.get("Date")),
        metadata={
            "export": "linkedin",
            "shared_url": (row.get("SharedUrl") or "").strip(),
            "visibility": (row.get("Visibility") or "").strip(),
        },
    )


def linkedin_article(name: str, html: str) -> CrawledDocument | None:
    page = lxml.html.document_fromstring(html)
    heading = next(iter(page.xpath("//h1")), None)
    title = " ".join(heading.text_content().split()) if heading is not None else ""
    link = next(iter(heading.xpath(".//a/@href")), "") if heading is not None else ""
    stamps = {
        kind: _stamp(page.xpath(f"//p[contains(@class, '{kind}')]")) for kind in ("created", "published")
    }  # "Created on 2021-03-04 10:20" / "Published on ..."
    for element in page.xpath("//h1 | //p[contains(@class, 'created') or contains(@class, 'published')]"):
        element.drop_tree()
    body = html_to_text(page)
    if not body:
        return None
    return CrawledDocument(
        url=link or name,
        text=article_text(title, body),
        title=title,
        raw_content=html,
        published_at=stamps["published"] or stamps["created"],
        metadata={"export": "linkedin", "file": name, "published": stamps["published"] is not None},
    )


def _stamp(elements: list[lxml.html.HtmlElement]) -> datetime | None:
    match = _STAMP.search(elements[0].text_content()) if elements else None
    return parse_datetime(match.group(1)) if match else None
