"""LinkedIn's data archive zip: ``Shares.csv`` (the author's posts) and the articles' HTML pages.

What real archives vary in, over the years:
- articles live in ``Articles/Articles/`` (recent) or directly in ``Articles/`` (older);
- ``Shares.csv`` is UTF-8 and comma-separated with a ``ShareCommentary`` column (recent), or UTF-16
  and tab-separated with ``Share Commentary`` (older): column names are compared without spaces;
- the commentary has each of its lines wrapped in quotes of their own (``first"`` / ``""`` /
  ``"middle"`` / ``"last``), which is undone;
- an article never published has a "Created on" line and no "Published on": it is a draft;
- the editor leaves empty ``<pre>`` blocks, which the HTML writer drops.
"""

import csv
import io
import re
from datetime import datetime
from typing import Any

import lxml.html

from apps.sources.crawlers.base import CrawledDocument, CrawlSkipped
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime

ARTICLE_FOLDERS = ("Articles/Articles", "Articles")
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?)")
_TITLE_CHARS = 80


def linkedin_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    include_drafts = bool(options.get("include_drafts"))
    entries = []
    if "Shares.csv" in files.names:
        for number, row in enumerate(shares_rows(files), start=2):  # line 1 is the header
            entries.append(ExportEntry(f"Shares.csv line {number}", lambda row=row, n=number: linkedin_share(row, n)))
    for folder in ARTICLE_FOLDERS:
        for name in files.in_folder(folder, (".html", ".htm")):
            read = lambda name=name: linkedin_article(name, files.read_text(name), include_drafts=include_drafts)  # noqa: E731
            entries.append(ExportEntry(name, read))
    return entries


def shares_rows(files: ExportFiles) -> list[dict[str, str]]:
    """Shares.csv's rows keyed by column names without spaces, whatever its encoding and separator."""
    text = _decoded(files.read_bytes("Shares.csv"))
    header = text.split("\n", 1)[0]
    delimiter = "\t" if header.count("\t") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns = [name.replace(" ", "").strip() for name in next(reader, [])]
    if columns and "ShareCommentary" not in columns:
        raise ExportError(f"Shares.csv in {files.label} has no ShareCommentary column.")
    return [dict(zip(columns, row, strict=False)) for row in reader if any(cell.strip() for cell in row)]


def _decoded(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16").replace("\r\n", "\n")
    return raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")


def unquote_lines(commentary: str) -> str:
    """Undo LinkedIn's line quoting: every line of ``'"' + commentary + '"'`` is wrapped in quotes."""
    lines = f'"{commentary}"'.split("\n")
    if len(lines) < 2 or not all(len(line) >= 2 and line[0] == line[-1] == '"' for line in lines):
        return commentary  # one line, or not quoted line by line: as written
    return "\n".join(line[1:-1] for line in lines)


def linkedin_share(row: dict[str, str], number: int) -> CrawledDocument | CrawlSkipped:
    url = (row.get("ShareLink") or "").strip() or f"Shares.csv#line-{number}"
    commentary = unquote_lines((row.get("ShareCommentary") or "").replace("\r\n", "\n").strip()).strip()
    if not commentary:
        return CrawlSkipped(url, "A re-share without words of the author's own.")
    first_line = commentary.split("\n", 1)[0]
    return CrawledDocument(
        url=url,
        text=commentary,
        title=first_line if len(first_line) <= _TITLE_CHARS else first_line[:_TITLE_CHARS].rsplit(" ", 1)[0] + "…",
        raw_content=commentary,
        content_type="post",
        published_at=parse_datetime(row.get("Date")),
        metadata={
            "export": "linkedin",
            "shared_url": (row.get("SharedUrl") or "").strip(),
            "visibility": (row.get("Visibility") or "").strip(),
        },
    )


def linkedin_article(name: str, html: str, *, include_drafts: bool = False) -> CrawledDocument | CrawlSkipped | None:
    page = lxml.html.document_fromstring(html)
    heading = next(iter(page.xpath("//h1")), None)
    title = " ".join(heading.text_content().split()) if heading is not None else ""
    link = next(iter(heading.xpath(".//a/@href")), "") if heading is not None else ""
    stamps = {
        kind: _stamp(page.xpath(f"//p[contains(@class, '{kind}')]")) for kind in ("created", "published")
    }  # "Created on 2021-03-04 10:20" / "Published on ..."
    if stamps["published"] is None and not include_drafts:
        return CrawlSkipped(link or name, "An article never published (set include_drafts to import drafts).")
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
