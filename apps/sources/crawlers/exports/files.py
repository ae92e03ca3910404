"""A folder (or zip) of Markdown, HTML and text files: a blog's sources, notes, a generic export."""

from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import lxml.html

from apps.sources.crawlers.base import CrawledDocument
from apps.sources.crawlers.exports.archive import ExportEntry, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime
from apps.sources.crawlers.exports.markdown import markdown_parts

MARKDOWN = (".md", ".markdown", ".mdx")
HTML = (".html", ".htm")
TEXT = (".txt",)
_PUBLISHED_XPATH = "//meta[@property='article:published_time']/@content | //time/@datetime"


def file_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    include_drafts = bool(options.get("include_drafts"))
    return [
        ExportEntry(name, lambda name=name: file_document(name, files.read_text(name), include_drafts=include_drafts))
        for name in files.names
        if name.lower().endswith(MARKDOWN + HTML + TEXT)
        and not any(part.startswith((".", "_")) for part in PurePosixPath(name).parts[:-1])  # .git, _drafts
        and not PurePosixPath(name).name.startswith(".")
    ]


def file_document(name: str, text: str, *, include_drafts: bool = False) -> CrawledDocument | None:
    stem = PurePosixPath(name).stem
    if name.lower().endswith(MARKDOWN):
        parts = markdown_parts(text)
        if parts.draft and not include_drafts:
            return None
        body = article_text(parts.title, parts.body)  # a front-matter title becomes the heading
        return _document(name, body, parts.title or stem, text, parts.published_at, parts.author)
    if name.lower().endswith(HTML):
        page = lxml.html.document_fromstring(text) if text.strip() else None
        if page is None:
            return None
        titles = page.xpath("//title") + page.xpath("//h1")
        title = " ".join(titles[0].text_content().split()) if titles else ""
        published = next(iter(page.xpath(_PUBLISHED_XPATH)), None)
        for chrome in page.xpath("//body/header | //body/footer | //aside"):
            chrome.drop_tree()  # a saved page's site chrome, not the author's writing
        body = article_text(title, html_to_text(page))
        return _document(name, body, title or stem, text, parse_datetime(published))
    return _document(name, text.replace("\r\n", "\n").strip(), stem, text, None)


def _document(
    name: str, text: str, title: str, raw: str, published: datetime | None, author: str = ""
) -> CrawledDocument | None:
    if not text.strip() or text.strip() == f"# {title}":
        return None  # an empty file
    return CrawledDocument(
        url=name,
        text=text,
        title=title,
        raw_content=raw,
        published_at=published,
        author_name=author,
        metadata={"export": "files", "file": name},
    )
