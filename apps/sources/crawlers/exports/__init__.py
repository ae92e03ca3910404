"""Export archives and folders (kind "export"): Medium, Substack, LinkedIn, Notion, or a folder of files
(Markdown, HTML, text, PDF, Word; Jekyll and Hugo sources among them).

The source URL is an absolute path on this machine (uploads arrive as files on disk), to a zip
or a folder inside an import folder. Options: ``format`` ("medium", "substack", "linkedin", "notion",
"files"; detected when absent), ``include_drafts`` (default false), ``include_responses`` (Medium),
``base_url`` (Substack; read from the posts' own links when absent).
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from lxml.etree import LxmlError

from apps.sources.crawlers.base import CrawlFailure, CrawlItem, CrawlSkipped, Progress, SourceSpec
from apps.sources.crawlers.exports.archive import ExportEntry, ExportError, ExportFiles, ExportLimits, open_export
from apps.sources.crawlers.exports.files import file_entries
from apps.sources.crawlers.exports.linkedin import ARTICLE_FOLDERS, linkedin_entries
from apps.sources.crawlers.exports.medium import medium_entries
from apps.sources.crawlers.exports.notion import is_notion_export, notion_entries
from apps.sources.crawlers.exports.substack import substack_entries
from apps.sources.crawlers.paths import import_path, import_roots_or_configured
from lib.errors import TwinsiteError

__all__ = ["ExportCrawler", "ExportError", "ExportLimits", "export_format_detect"]

FORMATS: dict[str, Callable[[ExportFiles, dict[str, Any]], list[ExportEntry]]] = {
    "medium": medium_entries,
    "substack": substack_entries,
    "linkedin": linkedin_entries,
    "notion": notion_entries,
    "files": file_entries,
}


def export_format_detect(files: ExportFiles) -> str:
    """Which service wrote the export, from the files each one always writes."""
    if "posts.csv" in files.names:
        return "substack"
    if "Shares.csv" in files.names or any(files.in_folder(folder, (".html",)) for folder in ARTICLE_FOLDERS):
        return "linkedin"
    if files.in_folder("posts", (".html",)):
        return "medium"
    if is_notion_export(files):
        return "notion"
    return "files"


class ExportCrawler:
    kind = "export"
    lists_everything = True

    def __init__(self, *, limits: ExportLimits | None = None, import_roots: Iterable[Path] | None = None) -> None:
        self.limits = limits or ExportLimits()
        self.import_roots = import_roots_or_configured(import_roots)

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        path = import_path(source.url, roots=self.import_roots)  # again now: a link may have been swapped in
        with open_export(path, self.limits) as files:
            export_format = source.options.get("format") or export_format_detect(files)
            if export_format not in FORMATS:
                raise ExportError(f"Unknown export format {export_format!r}; use one of {', '.join(FORMATS)}.")
            try:
                entries = FORMATS[export_format](files, source.options)
            except csv.Error as exc:
                raise ExportError(f"A CSV file in {files.label} cannot be read: {exc}.") from None
            for done, entry in enumerate(entries, start=1):
                try:
                    document = entry.read()
                except (TwinsiteError, ValueError, LxmlError) as exc:  # a post that cannot be parsed
                    yield CrawlFailure(url=entry.name, error=str(exc) or f"{entry.name} could not be read.")
                else:  # nothing to keep is said, so the run accounts for every post of the export
                    yield document if document is not None else CrawlSkipped(entry.name, "No text in it.")
                if progress:
                    progress(done, len(entries))
