"""What a successful fetch returns, and how its bytes become text."""

import codecs
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import cached_property

import charset_normalizer

# Browsers look for <meta charset> in the first 1024 bytes; pages with long heads put it later, so look further.
_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# WHATWG Encoding: pages labelled latin-1 or ASCII are really windows-1252 (curly quotes at 0x91-0x94).
_WHATWG_DECODERS = {"iso8859-1": "cp1252", "ascii": "cp1252"}


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]  # lower-cased names
    content: bytes
    encoding: str | None  # from Content-Type charset, else sniffed from the body, else None

    @cached_property
    def text(self) -> str:
        if self.encoding:
            return self.content.decode(_decoder_for(self.encoding), errors="replace")
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError:
            return _detected_text(self.content)

    @property
    def not_modified(self) -> bool:
        """A conditional request found the copy held unchanged (HTTP 304)."""
        return self.status == 304

    @property
    def validators(self) -> dict[str, str]:
        """What to send next time to ask only for a changed page: {"etag", "last_modified"}, when usable.

        A Last-Modified within a second of the answer's Date is not kept (RFC 9110 8.8.2.2): the page may
        change again within that same second, and If-Modified-Since would then hide the change.
        """
        found = {"etag": self.headers.get("etag", "")}
        modified, answered = _http_date(self.headers.get("last-modified")), _http_date(self.headers.get("date"))
        if modified is not None and (answered is None or (answered - modified).total_seconds() >= 1):
            found["last_modified"] = self.headers["last-modified"]
        return {name: value for name, value in found.items() if value}

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _http_date(value: str | None) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def encoding_from_content_type(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return _known_encoding(value.strip().strip("\"'"))
    return None


def sniff_encoding(content: bytes) -> str | None:
    """The encoding a document declares about itself: byte-order mark, <meta charset>, or XML declaration."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return encoding
    head = content[:_SNIFF_BYTES]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        match = pattern.search(head)
        if match:
            return _known_encoding(match.group(1).decode("ascii", errors="ignore"))
    return None


def _known_encoding(label: str) -> str | None:
    label = label.lower()
    try:
        codecs.lookup(label)
    except LookupError:
        return None
    return label


def _decoder_for(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return _WHATWG_DECODERS.get(name, name)


def _detected_text(content: bytes) -> str:
    matches = charset_normalizer.from_bytes(content)
    best = matches.best()
    if best is None:
        return content.decode("utf-8", errors="replace")
    # Single-byte Latin code pages often tie (French text reads as well in cp1250); like browsers,
    # take windows-1252, the web's default for undeclared pages, when it is among the best.
    tied = [match for match in matches if (match.chaos, match.coherence) == (best.chaos, best.coherence)]
    return str(next((match for match in tied if "cp1252" in match.could_be_from_charset), best))
