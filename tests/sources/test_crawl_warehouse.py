"""The warehouse crawler against mongoexport dumps in the LLM Engineer's Handbook layout."""

import json
import time
from pathlib import Path

import pytest

from apps.sources.crawlers.base import CrawledDocument, CrawlFailure, SourceSpec
from apps.sources.crawlers.warehouse import WarehouseCrawler, WarehouseError
from tests.rag.servers import unused_url

PAUL = "dc170700-6f79-4ebb-bad9-27ed156f8801"
MAXIME = "5cbfb717-a10e-4f70-bad6-e672c7988a1e"
USERS = [
    {"_id": PAUL, "first_name": "Paul", "last_name": "Iusztin"},
    {"_id": MAXIME, "first_name": "Maxime", "last_name": "Labonne"},
]
ARTICLES = [
    {
        "_id": "c389b7c9-ca21-4863-9d91-1807c3dc6cab",
        "content": {
            "Title": "Data pipelines for LLM twins",
            "Subtitle": "From crawling to features",
            "Content": "Data is the lifeblood of an AI project.\n\nCrawl, clean, load.",
            "language": "en",
        },
        "platform": "medium",
        "author_id": PAUL,
        "author_full_name": "Paul Iusztin",
        "link": "https://medium.com/decodingml/data-pipelines",
    },
    {
        "_id": "0e5a9b36-3d2c-4b9e-8f0e-2a3c4d5e6f70",
        "content": {"Title": "Merging models", "Subtitle": None, "Content": "SLERP, TIES and DARE."},
        "platform": "mlabonne.github.io",
        "author_id": MAXIME,
        "author_full_name": "Maxime Labonne",
        "link": "https://mlabonne.github.io/blog/merge",
    },
]
# mongoexport writes canonical Extended JSON, one document per line.
POSTS_JSONL = [
    {
        "_id": {"$oid": "65f1c0ffee00000000000001"},
        "content": {
            "Post_0": {"text": "Short post about RAG.\nSecond line.", "image": "https://media.licdn.com/x.png"}
        },
        "platform": "linkedin",
        "author_id": {"$uuid": PAUL.replace("-", "")},
        "image": None,
        "link": None,
        "created": {"$date": "2024-03-01T10:00:00Z"},
    },
    {
        "_id": {"$oid": "65f1c0ffee00000000000002"},
        "content": {"text": "   "},
        "platform": "linkedin",
        "author_id": PAUL,
        "author_full_name": "Paul Iusztin",
    },
]
REPOSITORIES = [
    {
        "_id": "7b0f5d4e-1111-4a4a-9b9b-123456789abc",
        "content": {"README.md": "#Twin\nAcourse.", "src/app.py": "def f():\n\treturn 1\n", "empty.py": ""},
        "name": "llm-twin-course",
        "link": "https://github.com/decodingml/llm-twin-course",
        "platform": "github",
        "author_id": PAUL,
        "author_full_name": "Paul Iusztin",
    }
]


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    folder = tmp_path / "dump"
    folder.mkdir()
    # The Handbook's own dumps name files after the document class and use --jsonArray.
    (folder / "UserDocument.json").write_text(json.dumps(USERS, indent=4))
    (folder / "articles.json").write_text(json.dumps(ARTICLES))
    (folder / "posts.json").write_text("\n".join(json.dumps(post) for post in POSTS_JSONL) + "\n")
    (folder / "repositories.jsonl").write_text(json.dumps(REPOSITORIES[0]) + "\n")
    return folder


def crawl(url: str, **options) -> list[CrawledDocument | CrawlFailure]:
    return list(WarehouseCrawler(server_timeout_ms=300).crawl(SourceSpec(url=url, kind="warehouse", options=options)))


def test_articles_posts_and_repositories_map_to_documents(dump):
    items = crawl(str(dump))
    documents = {item.url: item for item in items if isinstance(item, CrawledDocument)}

    article = documents["https://medium.com/decodingml/data-pipelines"]
    assert article.content_type == "article"
    assert article.title == "Data pipelines for LLM twins"
    assert article.text == (
        "# Data pipelines for LLM twins\n\nFrom crawling to features\n\n"
        "Data is the lifeblood of an AI project.\n\nCrawl, clean, load."
    )
    assert article.author_name == "Paul Iusztin"
    assert article.language == "en"
    assert article.metadata["platform"] == "medium"
    assert documents["https://mlabonne.github.io/blog/merge"].text == "# Merging models\n\nSLERP, TIES and DARE."

    post = documents["posts/65f1c0ffee00000000000001"]
    assert post.content_type == "post"
    assert post.text == "Short post about RAG.\nSecond line."
    # No author_full_name on this record: the name comes from the users collection through author_id.
    assert post.author_name == "Paul Iusztin"

    code = documents["https://github.com/decodingml/llm-twin-course#src/app.py"]
    assert code.content_type == "code"
    assert code.text == "```python\ndef f():\n\treturn 1\n```"
    assert code.title == "llm-twin-course/src/app.py"
    assert "https://github.com/decodingml/llm-twin-course#empty.py" not in documents


def test_a_record_without_text_is_reported(dump):
    failures = [item for item in crawl(str(dump)) if isinstance(item, CrawlFailure)]

    assert [f.url for f in failures] == ["posts/65f1c0ffee00000000000002"]
    assert "has no text" in failures[0].error


def test_author_option_keeps_one_author_case_insensitively(dump):
    documents = crawl(str(dump), author="maxime LABONNE")

    assert [d.url for d in documents] == ["https://mlabonne.github.io/blog/merge"]


def test_progress_counts_records(dump):
    reports: list[tuple[int, int | None]] = []

    list(WarehouseCrawler().crawl(SourceSpec(url=str(dump), kind="warehouse"), progress=lambda *a: reports.append(a)))

    assert reports[-1] == (5, None)  # 2 articles, 2 posts, 1 repository; read as it goes, so no total up front


def test_malformed_or_missing_dumps_are_clear_errors(dump, tmp_path):
    (dump / "posts.json").write_text('{"_id": {"$oid": "not-an-oid"}}\n')
    with pytest.raises(WarehouseError, match="posts.json is not valid"):
        crawl(str(dump))

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WarehouseError, match="holds no articles, posts or repositories dump"):
        crawl(str(empty))
    with pytest.raises(WarehouseError, match="neither a mongodb:// URI nor a folder"):
        crawl(str(tmp_path / "missing"))


def test_unreachable_mongodb_is_a_clear_error_without_the_password():
    started = time.monotonic()
    port = int(unused_url().rsplit(":", 1)[1])
    crawler = WarehouseCrawler(server_timeout_ms=300, allowed_hosts=["127.0.0.1"])  # loopback: a test only
    spec = SourceSpec(url=f"mongodb://twin:s3cret@127.0.0.1:{port}/", kind="warehouse", options={"database": "twin"})

    with pytest.raises(WarehouseError, match=rf"Could not read the MongoDB warehouse at 127\.0\.0\.1:{port}") as caught:
        list(crawler.crawl(spec))

    assert "s3cret" not in str(caught.value)
    assert time.monotonic() - started < 10


def test_invalid_mongodb_uri_is_a_clear_error():
    with pytest.raises(WarehouseError, match="not a valid MongoDB URI"):
        crawl("mongodb://")


def test_a_json_array_dump_is_decoded_record_by_record_across_read_boundaries():
    from io import StringIO

    from apps.sources.crawlers.warehouse import _array_records

    dump = StringIO(json.dumps(ARTICLES, indent=2)[1:])  # past the opening "[", as dump_records leaves it

    records = list(_array_records(dump, chunk_chars=7))  # every record spans several reads

    assert [record["link"] for record in records] == [article["link"] for article in ARTICLES]


@pytest.mark.django_db
def test_the_handbook_dump_attributes_each_document_to_its_author(dump):
    from apps.documents.models import Document
    from apps.sources.models import Source
    from tests.factories import make_author
    from tests.sources.blog import run_once

    paul = make_author(name="Paul Iusztin")
    source = Source.objects.create(
        author=paul, kind="warehouse", url=str(dump), options={"authors": ["Paul Iusztin", "Maxime Labonne"]}
    )

    run = run_once(source)

    assert run.status == "partial"  # the blank post is a recorded failure
    by_author = sorted(Document.objects.filter(source=source).values_list("author__name", "title"))
    assert by_author[0] == ("Maxime Labonne", "Merging models")
    assert {name for name, _ in by_author[1:]} == {"Paul Iusztin"}
    assert len(by_author) == 5  # 2 articles, 1 post with text, 2 repository files
