"""A folder (or zip) of Markdown, HTML and text files: a blog's sources, notes, a generic export.

Static-site sources are read as their generators read them: Jekyll's posts are in ``_posts/`` (their
date in the file name, ``2024-05-03-title.md``, unless the front matter gives one) and its drafts in
``_drafts/`` (with ``include_drafts``); Hugo's ``draft: true`` is a draft. Other folders starting
with ``_`` or ``.``, and template folders (``layouts``, ``themes``...), hold no writing and are not
read. Template tags and image links are removed from the text; a page that is only a template (a
Liquid loop over ``site.posts``) is skipped, with that reason.
"""

import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import lxml.html

from apps.sources.crawlers.base import CrawledDocument, CrawlSkipped
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles
from apps.sources.crawlers.exports.convert import article_text, html_to_text, parse_datetime
from apps.sources.crawlers.exports.markdown import markdown_parts
from apps.sources.crawlers.exports.templates import has_template_markup, strip_site_markup
from lib.documents import DocumentError, docx_text, pdf_text

MARKDOWN = (".md", ".markdown", ".mdx")
HTML = (".html", ".htm")
TEXT = (".txt",)
DOCUMENTS = (".pdf", ".docx")
CONTENT_FOLDERS = frozenset({"_posts", "_drafts"})  # the only "_" folders with writing in them
TEMPLATE_FOLDERS = frozenset({"layouts", "themes", "node_modules", "public", "resources", "archetypes"})
_PUBLISHED_XPATH = "//meta[@property='article:published_time']/@content | //time/@datetime"
_DATED_NAME = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})-(.+)$")


def file_entries(files: ExportFiles, options: dict[str, Any]) -> list[ExportEntry]:
    include_drafts = bool(options.get("include_drafts"))

    def read(name: str) -> CrawledDocument | CrawlSkipped | None:
        if "_drafts" in PurePosixPath(name).parts[:-1] and not include_drafts:
            return CrawlSkipped(name, "A draft (set include_drafts to import drafts).")
        if name.lower().endswith(DOCUMENTS):
            return office_document(name, files.read_bytes(name))
        return file_document(name, files.read_text(name), include_drafts=include_drafts)

    return [
        ExportEntry(name, lambda name=name: read(name))
        for name in files.names
        if name.lower().endswith(MARKDOWN + HTML + TEXT + DOCUMENTS) and _holds_writing(PurePosixPath(name))
    ]


def _holds_writing(path: PurePosixPath) -> bool:
    folders = path.parts[:-1]
    hidden = any(part.startswith(".") or (part.startswith("_") and part not in CONTENT_FOLDERS) for part in folders)
    return not hidden and not set(folders) & TEMPLATE_FOLDERS and not path.name.startswith((".", "_"))


def file_document(name: str, text: str, *, include_drafts: bool = False) -> CrawledDocument | CrawlSkipped | None:
    path = PurePosixPath(name)
    dated = _DATED_NAME.match(path.stem)
    stem_title = (dated.group(2) if dated else path.stem).replace("-", " ").replace("_", " ").strip()
    named_date = parse_datetime(dated.group(1)) if dated else None
    lower = name.lower()
    if lower.endswith(MARKDOWN + HTML):
        parts = markdown_parts(text)  # front matter: Jekyll pages in HTML have it too
        if parts.draft and not include_drafts:
            return CrawlSkipped(name, "A draft (draft: true; set include_drafts to import drafts).")
        templated = has_template_markup(parts.body)
        body = strip_site_markup(parts.body)
        published = parts.published_at or named_date
        if lower.endswith(MARKDOWN):
            title = parts.title or stem_title
            document = _document(name, article_text(title, body), title, text, published, parts.author)
        else:
            document = _html_document(name, body, text, parts.title, published or None)
        if document is None and templated:
            return CrawlSkipped(name, "A template page (Liquid or Go template tags), no writing of its own.")
        return document
    return _document(name, text.replace("\r\n", "\n").strip(), stem_title, text, named_date)


def office_document(name: str, content: bytes) -> CrawledDocument:
    """A PDF (its text layer) or a Word document; ExportError saying why when it has no text to read."""
    read = pdf_text if name.lower().endswith(".pdf") else docx_text
    try:
        found = read(content)
    except DocumentError as exc:
        raise ExportError(f"{name} could not be read: {exc}.") from None
    title = found.title or found.text.split("\n", 1)[0].lstrip("# ").strip()[:200] or PurePosixPath(name).stem
    return CrawledDocument(
        url=name,
        text=found.text,
        title=title,
        raw_content="",  # the bytes are not text; the file stays in the export
        published_at=found.created_at,
        author_name=found.author,
        metadata={"export": "files", "file": name, "format": name.rsplit(".", 1)[-1].lower()},
    )


def _html_document(name: str, html: str, raw: str, title: str, published: datetime | None) -> CrawledDocument | None:
    page = lxml.html.document_fromstring(html) if html.strip() else None
    if page is None:
        return None
    titles = page.xpath("//title") + page.xpath("//h1")
    title = title or (" ".join(titles[0].text_content().split()) if titles else "")
    stated = next(iter(page.xpath(_PUBLISHED_XPATH)), None)
    for chrome in page.xpath("//body/header | //body/footer | //aside"):
        chrome.drop_tree()  # a saved page's site chrome, not the author's writing
    title = title or PurePosixPath(name).stem
    return _document(name, article_text(title, html_to_text(page)), title, raw, published or parse_datetime(stated))


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
