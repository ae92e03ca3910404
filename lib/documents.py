"""Office documents and PDFs -> the crawler text convention. Framework-free.

PDF: pypdfium2 (PDFium), chosen by bench/pdf_text.py: on Debian's shared-mime-info spec it read
the same words as pypdf and pdfminer.six, an order of magnitude faster. A PDF whose pages carry
no text layer (a scan) raises NoTextLayer: it needs OCR, which is not done here.
Word (.docx): mammoth turns the document's structure (headings, lists, tables) into HTML, written
by the one HTML writer; title, author and date come from the package's core properties.
"""

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from lib.html_text import html_to_text

_MIN_TEXT_CHARS = 20  # less than this on every page: nothing but images
_HYPHENATED = re.compile(r"(\w)-\n(\w)")
_CORE_NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
}
# Word's built-in title styles are not headings to mammoth; they are the document's title.
_DOCX_STYLES = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"]


class DocumentError(ValueError):
    """A document that cannot be read: damaged, encrypted, or without any text."""


class NoTextLayer(DocumentError):
    """A PDF of images only (a scan): there is no text to read without OCR."""


@dataclass(frozen=True)
class DocumentText:
    text: str
    title: str = ""
    author: str = ""
    created_at: datetime | None = None


def pdf_text(content: bytes) -> DocumentText:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError as exc:
        raise DocumentError(f"it is not a readable PDF ({exc})") from None
    try:
        pages = [_page_text(page) for page in document]
        metadata = document.get_metadata_dict(skip_empty=True)
    finally:
        document.close()
    if sum(len(page.strip()) for page in pages) < _MIN_TEXT_CHARS:
        raise NoTextLayer(f"its {len(pages)} page(s) have no text layer (a scanned PDF?); OCR is not done here")
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    return DocumentText(
        text=text,
        title=metadata.get("Title", "").strip(),
        author=metadata.get("Author", "").strip(),
        created_at=_pdf_date(metadata.get("CreationDate", "")),
    )


def _page_text(page) -> str:
    raw = page.get_textpage().get_text_range().replace("\r\n", "\n").replace("\r", "\n")
    return _HYPHENATED.sub(r"\1\2", raw)


def _pdf_date(value: str) -> datetime | None:
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?", value or "")
    if not match:
        return None
    parts = [int(part) if part else 0 for part in match.groups()]
    try:
        return datetime(*parts, tzinfo=UTC)
    except ValueError:
        return None


def docx_text(content: bytes) -> DocumentText:
    import mammoth

    try:
        converted = mammoth.convert_to_html(io.BytesIO(content), style_map="\n".join(_DOCX_STYLES))
        properties = _docx_properties(content)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"it is not a readable Word document ({exc})") from None
    text = html_to_text(converted.value)
    if not text:
        raise DocumentError("it has no text")
    return DocumentText(text=text, **properties)


def _docx_properties(content: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        if "docProps/core.xml" not in package.namelist():
            return {}
        root = etree.fromstring(package.read("docProps/core.xml"), etree.XMLParser(resolve_entities=False))

    def field(path: str) -> str:
        found = root.find(path, _CORE_NS)
        return (found.text or "").strip() if found is not None else ""

    created = field("dcterms:created")
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
    except ValueError:
        created_at = None
    return {"title": field("dc:title"), "author": field("dc:creator"), "created_at": created_at}
