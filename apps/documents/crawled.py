"""What a crawler hands the document store: one piece of writing, as found (see apps.sources.crawlers.base).

Text conventions (``text``), which cleaning and chunking rely on: Markdown-like plain text. Headings as
``#``/``##`` lines, paragraphs separated by a blank line, list items as ``- `` lines, code in fenced
blocks kept byte-for-byte. No HTML tags.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CrawledDocument:
    url: str  # canonical URL (or repo-relative path for files), unique within the source
    text: str  # extracted main content, following the conventions above
    title: str = ""
    raw_content: str = ""  # what was fetched, as text (HTML, Markdown, code), kept for re-extraction
    content_type: str = "article"  # "article" | "post" | "code": picks the chunking parameters
    published_at: datetime | None = None  # timezone-aware when known
    author_name: str = ""  # as the page states it, if it does
    language: str = ""  # ISO 639-1 when known
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable extras
    etag: str = ""  # HTTP validators of what was fetched, for the next conditional request
    last_modified: str = ""
    listed_at: str = ""  # the sitemap's lastmod or the feed entry's date, as written there
