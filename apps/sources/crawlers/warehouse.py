"""The MongoDB data warehouse of the LLM Engineer's Handbook (kind "warehouse").

Collections: ``users`` {_id, first_name, last_name}; ``articles`` {content: {Title,
Subtitle, Content, language}, link}, ``posts`` {content: {text, image}, link?,
image?} and ``repositories`` {content: {path: code}, name, link}, each with
``platform``, ``author_id`` and ``author_full_name``. Read from a folder of
``mongoexport`` dumps (JSON lines or --jsonArray, Extended JSON) or, when the source
URL is a ``mongodb://`` URI, from the live database (option ``database``, default
"twin"; mongodb.py holds its address rules). Option ``author`` keeps one author's documents (case-insensitive).
Note: the Handbook's crawler stored repository code with every space removed; it is
kept as stored, since the originals are not in the warehouse.
"""

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from bson import json_util
from bson.binary import UuidRepresentation
from bson.errors import InvalidId
from bson.json_util import JSONOptions

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, CrawlItem, Progress, SourceSpec
from apps.sources.crawlers.exports.convert import article_text
from apps.sources.crawlers.github import code_fence, code_language
from apps.sources.crawlers.mongodb import live_records
from apps.sources.crawlers.paths import import_path, import_roots_or_configured
from lib.errors import TwinsiteError

CONTENT_TYPES = {"articles": "article", "posts": "post", "repositories": "code"}
# mongoexport names files after the collection; the Handbook's own dumps after the document class.
_DUMP_NAMES = {
    "users": ("users", "UserDocument"),
    "articles": ("articles", "ArticleDocument"),
    "posts": ("posts", "PostDocument"),
    "repositories": ("repositories", "RepositoryDocument"),
}
_JSON_OPTIONS = JSONOptions(tz_aware=True, uuid_representation=UuidRepresentation.STANDARD)

_NOT_TEXT = frozenset({"image", "link", "url", "platform", "language", "title", "subtitle"})

Record = dict[str, Any]


class WarehouseError(TwinsiteError):
    """The warehouse cannot be read: a missing or malformed dump, or an unreachable database."""


def warehouse_documents(collection: str, record: Record, *, authors: Mapping[str, str]) -> list[CrawlItem]:
    """The documents of one warehouse record (a repository holds one per file); the live and dump paths share it."""
    record_id = str(record.get("_id", ""))
    link = str(record.get("link") or "")
    url = link or f"{collection}/{record_id}"  # LinkedIn posts in the Handbook have no link
    content = record.get("content")
    if not isinstance(content, dict):
        return [CrawlFailure(url=url, error=f"The {collection} record {record_id} has no content.")]
    author = str(record.get("author_full_name") or authors.get(str(record.get("author_id")), ""))
    metadata = {"warehouse_id": record_id, "collection": collection, "platform": str(record.get("platform") or "")}
    if collection == "repositories":
        name = str(record.get("name") or link.rstrip("/").rsplit("/", 1)[-1])
        return [
            CrawledDocument(
                url=f"{url}#{path}",
                text=code_fence(code, code_language(path)),
                title=f"{name}/{path}",
                raw_content=code,
                content_type="code",
                author_name=author,
                metadata={**metadata, "repository": name, "path": path, "language": code_language(path)},
            )
            for path, code in content.items()
            if isinstance(code, str) and code.strip()
        ]
    title = _field(content, "Title", "title")
    body = _field(content, "Content", "content", "text", "Text") or _joined(content)
    if not body:
        return [CrawlFailure(url=url, error=f"The {collection} record {record_id} has no text.")]
    image = record.get("image") or content.get("image")
    return [
        CrawledDocument(
            url=url,
            text=article_text(title, body, subtitle=_field(content, "Subtitle", "subtitle")),
            title=title,
            raw_content=body,
            content_type=CONTENT_TYPES[collection],
            author_name=author,
            language=_field(content, "language")[:2].lower(),
            metadata={**metadata, **({"image": str(image)} if image else {})},
        )
    ]


def _field(content: Record, *names: str) -> str:
    return next((value.strip() for name in names if isinstance(value := content.get(name), str)), "")


def _joined(content: Record) -> str:
    """The text of a content dict without the usual keys, e.g. {"Post_0": {"text": ..., "image": ...}}."""
    parts = [
        _joined(value) if isinstance(value, dict) else value
        for key, value in content.items()
        if key.lower() not in _NOT_TEXT
    ]
    return "\n\n".join(part.strip() for part in parts if isinstance(part, str) and part.strip())


def _dump_path(folder: Path, collection: str) -> Path | None:
    found = [folder / f"{name}{ext}" for name in _DUMP_NAMES[collection] for ext in (".json", ".jsonl", ".ndjson")]
    return next((p for p in found if p.is_file()), None)


def dump_records(folder: Path, collection: str) -> Iterator[Record]:
    """The records of one collection's dump file in ``folder``, read one at a time (none when not dumped).

    JSON lines are read line by line; a ``--jsonArray`` dump is decoded object by object from a
    buffer, so a dump of any size is never held whole.
    """
    path = _dump_path(folder, collection)
    if path is None:
        return
    try:
        with path.open(encoding="utf-8-sig") as dump:
            first = dump.read(1)
            while first.isspace():
                first = dump.read(1)
            if first == "[":
                yield from _array_records(dump)
            else:
                for line in itertools.chain([first + dump.readline()], dump):
                    if line.strip():
                        yield json_util.loads(line, json_options=_JSON_OPTIONS)
    except (ValueError, InvalidId, TypeError) as exc:
        raise WarehouseError(f"The dump {path.name} is not valid (Extended) JSON: {exc}.") from None


def _array_records(dump: TextIO, chunk_chars: int = 1 << 16) -> Iterator[Record]:
    decoder = json.JSONDecoder(object_pairs_hook=lambda pairs: json_util.object_pairs_hook(pairs, _JSON_OPTIONS))
    buffer = ""
    while True:
        buffer = buffer.lstrip().lstrip(",").lstrip()
        if buffer.startswith("]"):
            return
        try:
            record, end = decoder.raw_decode(buffer)
        except json.JSONDecodeError:
            more = dump.read(chunk_chars)
            if not more:
                if buffer.strip():
                    raise
                raise ValueError("the array is not closed") from None
            buffer += more
            continue
        yield record
        buffer = buffer[end:]


class WarehouseCrawler:
    kind = "warehouse"
    lists_everything = True

    def __init__(
        self,
        *,
        server_timeout_ms: int = 5000,
        allowed_hosts: Iterable[str] = (),
        import_roots: Iterable[Path] | None = None,
    ) -> None:
        self.server_timeout_ms = server_timeout_ms
        self.allowed_hosts = tuple(allowed_hosts)
        self.import_roots = import_roots_or_configured(import_roots)

    def crawl(self, source: SourceSpec, *, progress: Progress | None = None) -> Iterator[CrawlItem]:
        """Users first (a small collection: their names), then each content collection, record by record."""
        wanted = str(source.options.get("author") or "").strip().casefold()
        authors: dict[str, str] = {}
        done = 0
        for collection, records in self._collections(source):
            if collection == "users":
                for user in records:
                    name = " ".join(filter(None, (user.get("first_name"), user.get("last_name"))))
                    authors[str(user.get("_id"))] = name
                continue
            for record in records:
                author = str(record.get("author_full_name") or authors.get(str(record.get("author_id")), ""))
                if wanted and author.casefold() != wanted:
                    continue
                yield from warehouse_documents(collection, record, authors=authors)
                done += 1
                if progress:
                    progress(done, None)

    def _collections(self, source: SourceSpec) -> Iterator[tuple[str, Iterator[Record]]]:
        if source.url.startswith(("mongodb://", "mongodb+srv://")):
            database = str(source.options.get("database") or "twin")
            yield from live_records(
                source.url,
                database,
                ("users", *CONTENT_TYPES),
                timeout_ms=self.server_timeout_ms,
                credentials=source.credentials,
                allowed_hosts=self.allowed_hosts,
                error=WarehouseError,
            )
            return
        folder = import_path(source.url, roots=self.import_roots)  # again now: a link may have been swapped in
        if not folder.is_dir():
            raise WarehouseError(f"{source.url} is neither a mongodb:// URI nor a folder of mongoexport dumps.")
        if not any(_dump_path(folder, collection) for collection in CONTENT_TYPES):
            raise WarehouseError(f"{folder} holds no articles, posts or repositories dump (e.g. articles.json).")
        for collection in ("users", *CONTENT_TYPES):
            yield collection, dump_records(folder, collection)
